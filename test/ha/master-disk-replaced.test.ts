// Master disk replaced, sync replication (async flush): a master in a child
// process acknowledges 5,000 messages (SEND_OK: on the slave too), is killed
// with SIGKILL, its data directory is replaced by an empty one and it is
// restarted on the same ports. The slave (a child process, frozen with
// SIGSTOP meanwhile, so that the restarted master is alone) keeps every
// acknowledged message; the master refuses writes (METAQ_MASTER_BEHIND_SLAVE)
// until the slave is back and has copied its log back to it; then new sends
// are SEND_OK at queue offsets after the old ones, and every acknowledged
// message is readable on both brokers and consumed.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Producer } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { bodyFor, consumeAllAcked, damaged, haBrokerConfig, masterHa, presence, readAllQueues, slaveHa, useBrokerProcesses, waitForAsync, type SendRecord } from './ha-helpers.js';

const TOPIC = 'HaDiskReplaced';
const QUEUES = 4;
const BROKER = 'ha-disk';
const ACKED = 5000;
const BATCH = 50;

/** Sends messages [from, to) of `tag` in batches of BATCH, round-robin over the queues; records every outcome. */
async function sendBatches(producer: Producer, addr: string, tag: string, from: number, to: number): Promise<SendRecord[]> {
  const out: SendRecord[] = [];
  for (let first = from; first < to; first += BATCH) {
    const count = Math.min(BATCH, to - first);
    const queueId = (first / BATCH) % QUEUES;
    const startedAt = Date.now();
    const batch = Array.from({ length: count }, (_, i) => ({ body: bodyFor(tag, first + i) }));
    try {
      const r = await producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr, queueId }, batch);
      out.push({ first, count, startedAt, endedAt: Date.now(), status: r.status, queueId: r.queueId, queueOffset: r.queueOffset });
    } catch (err) {
      const e = err as Error & { code?: string };
      out.push({ first, count, startedAt, endedAt: Date.now(), status: 'ERROR', queueId, queueOffset: -1, error: `${e.code ?? e.name}: ${e.message}` });
    }
  }
  return out;
}

describe('sync replication: the master disk is replaced (empty data directory) and the master restarted', () => {
  const tempDir = useTempDirs('ha-disk');
  const cluster = useCluster();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it('the slave keeps every acknowledged message, the master refuses writes until it has copied them back, nothing acknowledged is lost', async () => {
    const tag = 'disk';
    const c = await cluster({ brokers: 0 });
    const group = 'disk-replaced';
    const config = (dir: string, role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir, brokerName: BROKER, topics: { [TOPIC]: QUEUES, [`%RETRY%${group}`]: 1 }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr, flushMode: 'async' });
    const admin = clients.admin(c.ns);
    const masterDir = tempDir();
    const master = await startProcess(config(masterDir, 'master'));
    const haPort = Number(master.haAddr!.split(':')[1]);
    const port = Number(master.addr.split(':')[1]);
    const slave = await startProcess(config(tempDir(), 'slave', master.haAddr));
    await waitForAsync(async () => masterHa(await admin.stats(master.addr)).slaveConnected, 'the slave to connect', 10_000, 20);

    const producer = clients.producer(c.ns, { retries: 0 });
    const before = await sendBatches(producer, master.addr, tag, 0, ACKED);
    expect(before.filter((r) => r.status !== 'SEND_OK')).toEqual([]);

    // The master dies; the slave freezes (so the new master starts alone); the master's disk is replaced.
    expect((await master.kill('SIGKILL')).signal).toBe('SIGKILL');
    slave.running.child.kill('SIGSTOP');
    fs.rmSync(masterDir, { recursive: true, force: true });
    fs.mkdirSync(masterDir);
    const master2 = await startProcess({ ...config(masterDir, 'master'), port, haPort });

    // Alone and empty, the master does not know it is behind: it takes no writes.
    const whileAlone = await sendBatches(producer, master2.addr, tag, ACKED, ACKED + 2 * BATCH);
    const aloneStats = masterHa(await admin.stats(master2.addr));
    console.log(`master-disk-replaced: ${before.length} sends before the kill, all SEND_OK; sends to the restarted master alone: ${JSON.stringify(whileAlone.map((r) => r.error ?? r.status))}`);

    // The slave is back: it copies its log back to the master, which then takes writes again.
    slave.running.child.kill('SIGCONT');
    await waitForAsync(
      async () => {
        const m = masterHa(await admin.stats(master2.addr));
        const s = slaveHa(await admin.stats(slave.addr));
        return m.slaveConnected && s.connected && s.replicatedOffset === m.writtenOffset && (m.writesHeld ?? 'none') === 'none';
      },
      'master and slave to be in sync',
      15_000,
      50,
    );
    const after = await sendBatches(producer, master2.addr, tag, ACKED + 2 * BATCH, ACKED + 4 * BATCH);
    await waitForAsync(
      async () => slaveHa(await admin.stats(slave.addr)).replicatedOffset === masterHa(await admin.stats(master2.addr)).writtenOffset,
      'the slave to hold the whole log',
      10_000,
      20,
    );

    const acked = [...before, ...whileAlone, ...after].filter((r) => r.status === 'SEND_OK');
    const onMaster = await readAllQueues(admin, master2.addr, BROKER, TOPIC, QUEUES, tag);
    const onSlave = await readAllQueues(admin, slave.addr, BROKER, TOPIC, QUEUES, tag);
    const ps = presence(onSlave, tag, before);
    const pm = presence(onMaster, tag, before);
    const pAfter = presence(onMaster, tag, after);
    console.log(
      `master-disk-replaced: ${ACKED} acked before the kill; on the slave ${ps.present} of them (${onSlave.perQueue.reduce((a, b) => a + b, 0)} messages in all), on the restarted master ${pm.present} (${onMaster.perQueue.reduce((a, b) => a + b, 0)} in all); sends while alone: ${JSON.stringify(whileAlone.map((r) => r.status))} (${whileAlone[0]?.error ?? ''}); master while alone: writes held ${aloneStats.writesHeld}; sends after: ${JSON.stringify(after.map((r) => r.status))}`,
    );
    expect(ps.missing.length, 'acknowledged messages missing on the slave').toBe(0);
    expect(ps.present).toBe(ACKED);
    expect(pm.missing.length, 'acknowledged messages missing on the restarted master').toBe(0);
    expect(pm.wrong).toEqual([]);
    expect(whileAlone.map((r) => r.status)).toEqual(['ERROR', 'ERROR']);
    expect(whileAlone[0]!.error).toMatch(/^METAQ_MASTER_BEHIND_SLAVE: .*master has not heard from its slave since it started/);
    expect(aloneStats.writesHeld).toBe('unverified');
    expect(after.map((r) => r.status)).toEqual(['SEND_OK', 'SEND_OK']);
    // New messages follow the old ones: no queue offset is reused.
    expect(pAfter.present).toBe(2 * BATCH);
    for (const r of after) expect(r.queueOffset).toBeGreaterThanOrEqual(ACKED / BATCH / QUEUES * BATCH);
    expect(damaged(onMaster, tag)).toEqual([]);
    expect(onSlave.perQueue).toEqual(onMaster.perQueue);

    // A consumer group gets every acknowledged message from the master.
    const { want, got } = await consumeAllAcked(clients.consumer({ namesrv: c.ns, group, pullBatchSize: 64, batchSize: 64 }), TOPIC, acked, 20_000);
    for (const k of want) expect(got.get(k), k).toBe(onMaster.bodies.get(k));
  });
});
