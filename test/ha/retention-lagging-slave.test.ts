// Retention racing a lagging slave: under async replication a master (a
// child process, small segments, short retention) takes sends under load
// while its slave (a child process) is stopped with SIGSTOP. Retention then
// deletes segments the slave still needs (past what the master pushed before
// the slave stopped). The slave is resumed: the master must stay up, drop
// the slave with a clear error, and the slave must re-sync as documented
// (its log reset to the master's oldest kept offset, each queue going on at
// the master's queue offset there), catch up, and hold what the master holds.
import { describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import { HA_STORE, haBrokerConfig, Load, masterHa, parseBody, runSeed, slaveHa, useBrokerProcesses, waitForAsync, type BrokerProcess } from './ha-helpers.js';

const TOPIC = 'HaRetentionLag';
const QUEUES = 4;
const BROKER = 'ha-retention';
const RETENTION = { retentionMs: 1000, retentionCheckIntervalMs: 100 } as const;
/** What a master may have pushed to a slave before it stopped reading (ha-master.ts WINDOW_BYTES). */
const PUSH_WINDOW_BYTES = 16 * 1024 * 1024;

describe('async replication: retention deletes what a stopped slave still needs', () => {
  const tempDir = useTempDirs('ha-retention');
  const cluster = useCluster();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it('SIGSTOP the slave, write past retention, SIGCONT: the master stays up and the slave re-syncs from the oldest kept offset', async () => {
    const seed = runSeed();
    console.log(`retention-lagging-slave: seed=${seed}`);
    const tag = 'rl';
    const c = await cluster({ brokers: 0 });
    const masterConfig = haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'async' });
    const master = await startProcess({ ...masterConfig, store: { ...masterConfig.store, ...RETENTION } });
    const slave = await startProcess(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'slave', masterHaAddr: master.haAddr! }));
    const admin = clients.admin(c.ns);
    await waitForAsync(async () => masterHa(await admin.stats(master.addr)).slaveConnected, 'the slave to connect');
    const alive = (b: BrokerProcess): boolean => b.running.child.exitCode === null && b.running.child.signalCode === null;

    const load = new Load(clients.producer(c.ns), TOPIC, tag, prng(seed), { concurrency: 8, maxBatch: 16 }).start();
    await load.firstOk();
    await sleep(300);

    slave.running.child.kill('SIGSTOP');
    const stoppedAt = masterHa(await admin.stats(master.addr)).replicatedOffset;
    // Retention deletes past anything the master could have pushed before the slave stopped reading.
    const needed = stoppedAt + PUSH_WINDOW_BYTES + HA_STORE.segmentSize;
    await waitForAsync(async () => (await admin.stats(master.addr)).store.minOffset > needed, `retention to delete past ${needed}`, 30_000, 50);
    const minAtResume = (await admin.stats(master.addr)).store.minOffset;
    slave.running.child.kill('SIGCONT');

    // The master stays up; the slave re-syncs and catches up while sends go on.
    await waitForAsync(
      async () => {
        if (!alive(master)) throw new Error(`the master exited: ${JSON.stringify(master.running.child.exitCode ?? master.running.child.signalCode)}; ${master.running.stderr().slice(-2000)}`);
        const s = slaveHa(await admin.stats(slave.addr));
        return s.resyncs > 0 && s.connected && s.replicatedOffset >= minAtResume;
      },
      'the slave to re-sync',
      20_000,
      50,
    );
    await sleep(500);
    await load.stop();
    expect(alive(master), `the master exited: ${master.running.stderr().slice(-2000)}`).toBe(true);
    await waitForAsync(
      async () => {
        const m = masterHa(await admin.stats(master.addr));
        return slaveHa(await admin.stats(slave.addr)).replicatedOffset === m.writtenOffset;
      },
      'the slave to hold the whole log',
      15_000,
    );
    // Retention on the master settles (with no writes, all but the segment being written expire) before comparing.
    await waitForAsync(async () => (await admin.stats(master.addr)).store.segments === 1, "the master's retention to settle", 10_000, 50);
    const m = await admin.stats(master.addr);
    const s = await admin.stats(slave.addr);
    expect(masterHa(m).slaveResyncs).toBeGreaterThan(0);
    expect(slaveHa(s).resyncs).toBeGreaterThan(0);
    expect(master.running.stderr(), 'the master says why it dropped the slave').toMatch(/METAQ_REPLICA_BEHIND_RETENTION|before the oldest data this master keeps|keeps only from/);

    // The slave holds what the master holds, at the same queue offsets and log offsets.
    let compared = 0;
    for (let q = 0; q < QUEUES; q++) {
      const mq = { topic: TOPIC, brokerName: BROKER, queueId: q };
      const onMaster = await admin.queueOffsets({ ...mq, addr: master.addr });
      const onSlave = await admin.queueOffsets({ ...mq, addr: slave.addr });
      expect(onSlave.maxOffset, `queue ${q}: end`).toBe(onMaster.maxOffset);
      const from = Math.max(onMaster.minOffset, onSlave.minOffset);
      const a = await readFrom(admin, master.addr, q, from);
      const b = await readFrom(admin, slave.addr, q, from);
      expect(b.length, `queue ${q}: messages from ${from}`).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(b[i], `queue ${q} message ${from + i}`).toEqual(a[i]);
      compared += a.length;
    }
    console.log(
      `retention-lagging-slave: slave stopped at ${stoppedAt}, master kept from ${minAtResume} when it resumed; master slaveResyncs ${masterHa(m).slaveResyncs}, slave resyncs ${slaveHa(s).resyncs}; ${compared} messages compared on both (log ${m.store.minOffset}..${m.store.writtenOffset} on the master, ${s.store.minOffset}..${s.store.writtenOffset} on the slave); statuses ${JSON.stringify(load.countByStatus())}`,
    );
    expect(compared).toBeGreaterThan(0);
  });
});

/** Messages of one queue from `from` to its end, as (queue offset, log offset, body) in order; expired entries are skipped by the broker. */
async function readFrom(admin: Admin, addr: string, queueId: number, from: number): Promise<{ queueOffset: number; physicalOffset: number; body: string }[]> {
  const out: { queueOffset: number; physicalOffset: number; body: string }[] = [];
  let offset = from;
  for (;;) {
    const r = await admin.pull({ topic: TOPIC, brokerName: BROKER, addr, queueId }, offset, { maxCount: 64, maxBytes: 32 * 1024 });
    if (r.status === 'NO_MATCHED_MESSAGE' && r.nextOffset > offset) {
      offset = r.nextOffset;
      continue;
    }
    if (r.status !== 'FOUND') break;
    for (const m of r.messages) {
      const body = m.body.toString('utf8');
      expect(parseBody(body)?.tag, `${addr} queue ${queueId}@${m.queueOffset}: an intact message`).toBe('rl');
      out.push({ queueOffset: m.queueOffset, physicalOffset: m.physicalOffset, body });
    }
    offset = r.nextOffset;
  }
  return out;
}
