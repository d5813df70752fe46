// A slave lost and restarted under sync replication: the master (in this
// process) takes sends under load while its slave (a child process, sync
// flush) is killed with SIGKILL. Sends then come back stored on the master but
// not on a slave (SLAVE_NOT_AVAILABLE, or SLAVE_TIMEOUT for those waiting when
// it died), never SEND_OK. The slave restarts on the same directory, catches
// up (its replicated offset reaches what the master had written) and SEND_OK
// resumes; in the end every message sent, whatever its status, is on the slave
// and the two logs are identical.
import { describe, expect, it } from 'vitest';
import { MessageStore } from '../../src/store/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import {
  damaged,
  expectLogPrefix,
  HA_STORE,
  haBrokerConfig,
  Load,
  masterHa,
  presence,
  readAllQueues,
  runSeed,
  slaveHa,
  useBrokerProcesses,
  useLocalBrokers,
  waitForAsync,
  type LoadOptions,
  type SendRecord,
} from './ha-helpers.js';

const TOPIC = 'HaSlaveRestart';
const QUEUES = 4;
const BROKER = 'ha-restart';

describe('sync replication: SIGKILL the slave under load, restart it on the same directory', () => {
  const tempDir = useTempDirs('ha-restart');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  async function scenario(label: string, loadOptions: LoadOptions): Promise<void> {
    const seed = runSeed();
    console.log(`slave-restart ${label}: seed=${seed}`);
    const tag = `sr${label}`;
    const c = await cluster({ brokers: 0 });
    const { broker: master, warnings: masterWarnings } = await startLocal(
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000 }),
    );
    const slaveDir = tempDir();
    const slaveConfig = haBrokerConfig({ ns: c.ns, dir: slaveDir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'slave', masterHaAddr: master.haAddr!, flushMode: 'sync' });
    let slave = await startProcess(slaveConfig);
    await waitUntil(() => masterHa(master.stats()).slaveConnected, 'the slave to connect', 10_000, 10);
    const admin = clients.admin(c.ns);

    const load = new Load(clients.producer(c.ns), TOPIC, tag, prng(seed), loadOptions).start();
    await load.firstOk();
    await sleep(300 + Math.floor(prng(seed ^ 1)() * 500));

    // The slave dies: the master notices its connection closed.
    const killedAt = Date.now();
    const exit = await slave.kill('SIGKILL');
    expect(exit.signal, `the slave died on its own: ${slave.running.stderr()}`).toBe('SIGKILL');
    await waitUntil(() => !masterHa(master.stats()).slaveConnected, 'the master to notice the slave is gone', 5000, 5);
    const noticedAt = Date.now();
    await sleep(1000);
    const writtenAtRestart = masterHa(master.stats()).writtenOffset;
    const replicatedAtRestart = masterHa(master.stats()).replicatedOffset;

    // The slave comes back on the same directory and catches up while sends go on.
    const restartAt = Date.now();
    slave = await startProcess(slaveConfig);
    await waitForAsync(
      async () => slaveHa(await admin.stats(slave.addr)).replicatedOffset >= writtenAtRestart,
      'the slave to catch up with what was written while it was down',
      10_000,
      20,
    ).catch(async (err: unknown) => {
      const s = slaveHa(await admin.stats(slave.addr));
      const log = slave.running.stderr().split('\n').filter((l) => l !== '');
      throw new Error(
        `${(err as Error).message}: slave at ${s.replicatedOffset} of ${writtenAtRestart} (connected ${s.connected}); ${log.length} slave log lines, e.g. ${JSON.stringify(log.slice(0, 4))}`,
      );
    });
    const caughtUpAt = Date.now();
    await waitForAsync(() => load.records.some((r) => r.status === 'SEND_OK' && r.startedAt >= caughtUpAt), 'SEND_OK to resume', 10_000);
    await sleep(200);
    await load.stop();
    const stoppedAt = Date.now();

    // Everything written reaches the slave.
    await waitForAsync(
      async () => {
        const m = masterHa(master.stats());
        const s = slaveHa(await admin.stats(slave.addr));
        return m.replicatedOffset === m.writtenOffset && s.replicatedOffset === m.writtenOffset;
      },
      'the slave to hold the whole log',
      10_000,
    );

    const phase = (from: number, to: number): SendRecord[] => load.records.filter((r) => r.endedAt >= from && r.endedAt < to);
    const before = phase(0, killedAt);
    const down = phase(killedAt, restartAt);
    const after = phase(restartAt, Infinity);
    const counts = { before: load.countByStatus(before), down: load.countByStatus(down), after: load.countByStatus(after) };
    console.log(
      `slave-restart ${label}: messages per send status: before the kill ${JSON.stringify(counts.before)}, slave down ${JSON.stringify(counts.down)}, after the restart ${JSON.stringify(counts.after)}; master noticed in ${noticedAt - killedAt} ms; ${writtenAtRestart - replicatedAtRestart} bytes written while the slave was down, caught up ${caughtUpAt - restartAt} ms after the restart`,
    );
    expect(load.records.filter((r) => r.status === 'ERROR').map((r) => r.error), 'sends that failed').toEqual([]);
    // With no slave, nothing is SEND_OK: sends started once the master knew are SLAVE_NOT_AVAILABLE at once.
    const blind = load.records.filter((r) => r.startedAt >= noticedAt && r.endedAt < restartAt);
    expect(blind.length).toBeGreaterThan(0);
    expect(load.countByStatus(blind)).toEqual({ SLAVE_NOT_AVAILABLE: blind.reduce((n, r) => n + r.count, 0) });
    expect(down.filter((r) => r.status === 'SEND_OK' && r.startedAt >= killedAt), 'SEND_OK for a send started after the slave died and answered before it came back').toEqual([]);
    expect((counts.down.SLAVE_NOT_AVAILABLE ?? 0) + (counts.down.SLAVE_TIMEOUT ?? 0)).toBeGreaterThan(0);
    expect(after.filter((r) => r.startedAt >= caughtUpAt).every((r) => r.status === 'SEND_OK')).toBe(true);

    // Every message sent, whatever its status, is on the slave where its send said.
    const onSlave = await readAllQueues(admin, slave.addr, BROKER, TOPIC, QUEUES, tag);
    const p = presence(onSlave, tag, load.records);
    const total = onSlave.perQueue.reduce((a, b) => a + b, 0);
    console.log(`slave-restart ${label}: sent ${load.sent} messages in ${load.records.length} sends over ${stoppedAt - killedAt} ms from the kill; on the slave ${p.present} of them (${total} in all), missing ${p.missing.length}; pulls read again: ${onSlave.rereads}`);
    expect(p.wrong).toEqual([]);
    expect(p.missing.slice(0, 10), `messages missing on the slave: ${p.missing.length}`).toEqual([]);
    expect(total).toBe(load.sent);
    expect(damaged(onSlave, tag)).toEqual([]);

    // The slave's log is the master's, byte for byte.
    await slave.kill('SIGTERM');
    const slaveStore = await MessageStore.open({ dir: slaveDir, ...HA_STORE, flushMode: 'sync' });
    try {
      expect(slaveStore.writtenOffset).toBe(master.store.writtenOffset);
      expectLogPrefix(slaveStore, master.store, 'restarted slave log vs master log');
    } finally {
      await slaveStore.close();
    }
    console.log(`slave-restart ${label}: master warnings: ${masterWarnings.length}; slave stderr: ${JSON.stringify(slave.running.stderr().split('\n').filter((l) => l !== '').slice(0, 5))}`);
  }

  // Paced load (about 100 messages a second): what the slave misses stays
  // under 64 KiB, so the master's catch-up pushes are small frames.
  it('small backlog: sends report the missing slave, the restarted slave catches up, every message sent ends up on it', async () => {
    await scenario('paced', { concurrency: 2, maxBatch: 3, pauseMs: 25 });
  });

  // Full load: the slave misses MiBs and the master catches it up in 1 MiB
  // pushes, each arriving in several socket reads (regression: the frame
  // decoder once kept a middle read by reference into a reused read buffer).
  it('large backlog: the restarted slave catches up MiBs written while it was down', async () => {
    await scenario('full', { concurrency: 8, maxBatch: 8 });
  });
});
