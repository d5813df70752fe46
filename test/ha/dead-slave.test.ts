// A dead slave under sync replication must not freeze the master's readers.
// The master (in this process, short retention, small segments) takes sends
// under load and a consumer group reads them; the slave (a child process,
// sync flush) is killed with SIGKILL. Sends then come back
// SLAVE_NOT_AVAILABLE, and those messages (stored on the master, durable
// there) must still reach the consumer; retention must go on past where the
// slave died. The slave restarts on its directory, catches up (re-syncing
// from the master's oldest kept offset, as retention has passed its end) and
// SEND_OK resumes, with readers held at the slave's confirmed offset again.
import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { haBrokerConfig, Load, masterHa, posKey, runSeed, slaveHa, useBrokerProcesses, useLocalBrokers, waitForAsync, type SendRecord } from './ha-helpers.js';

const TOPIC = 'HaDeadSlave';
const QUEUES = 4;
const BROKER = 'ha-dead-slave';
/** Segments expire fast: retention deletes several while the slave is down. */
const RETENTION = { retentionMs: 1500, retentionCheckIntervalMs: 100 } as const;
/** How long the SLAVE_NOT_AVAILABLE messages may take to reach the consumer. */
const DELIVERY_TIMEOUT_MS = 5000;

describe('sync replication: SIGKILL the slave and keep sending', () => {
  const tempDir = useTempDirs('ha-dead-slave');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it('consumers keep receiving (SLAVE_NOT_AVAILABLE messages included), retention goes on; the restarted slave catches up and SEND_OK resumes', async () => {
    const seed = runSeed();
    console.log(`dead-slave: seed=${seed}`);
    const tag = 'ds';
    const c = await cluster({ brokers: 0 });
    const masterConfig = haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000 });
    const { broker: master } = await startLocal({ ...masterConfig, store: { ...masterConfig.store, ...RETENTION } });
    const slaveConfig = haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'slave', masterHaAddr: master.haAddr!, flushMode: 'sync' });
    let slave = await startProcess(slaveConfig);
    await waitUntil(() => masterHa(master.stats()).slaveConnected, 'the slave to connect', 10_000, 10);
    const admin = clients.admin(c.ns);

    const received = new Set<string>();
    const consumer: Consumer = clients.consumer({ namesrv: c.ns, group: 'dead-slave', pullBatchSize: 64, batchSize: 64 });
    consumer.subscribe(TOPIC);
    await consumer.start((messages) => {
      for (const m of messages) received.add(posKey(m.queueId, m.queueOffset));
    });

    const load = new Load(clients.producer(c.ns), TOPIC, tag, prng(seed), { concurrency: 4, maxBatch: 16, pauseMs: 5 }).start();
    await load.firstOk();
    await sleep(500);

    const exit = await slave.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    await waitUntil(() => !masterHa(master.stats()).slaveConnected, 'the master to notice the slave is gone', 5000, 5);
    const noticedAt = Date.now();
    const writtenAtNotice = master.store.writtenOffset;
    const minAtNotice = master.store.stats().minOffset;
    await sleep(1500);

    // Messages answered SLAVE_NOT_AVAILABLE are stored on the master: consumers get them.
    const blind = load.records.filter((r) => r.startedAt >= noticedAt && r.status === 'SLAVE_NOT_AVAILABLE');
    const blindKeys = keysOf(blind);
    expect(blindKeys.length).toBeGreaterThan(0);
    const missing = (): string[] => blindKeys.filter((k) => !received.has(k));
    await waitForAsync(() => missing().length === 0, 'the consumer to get the SLAVE_NOT_AVAILABLE messages', DELIVERY_TIMEOUT_MS).catch((err: unknown) => {
      const s = master.store.stats();
      throw new Error(
        `${(err as Error).message}: received ${blindKeys.length - missing().length} of ${blindKeys.length} messages answered SLAVE_NOT_AVAILABLE; master written ${s.writtenOffset}, dispatched ${s.dispatchedOffset} (${writtenAtNotice} when the slave was found gone)`,
      );
    });
    expect(masterHa(master.stats()).readersCappedBySlave).toBe(false);

    // Retention goes on: it deletes past where the slave died.
    await waitForAsync(() => master.store.stats().minOffset > writtenAtNotice, 'retention to delete past the point where the slave died', 10_000).catch((err: unknown) => {
      const s = master.store.stats();
      throw new Error(`${(err as Error).message}: minOffset ${minAtNotice} -> ${s.minOffset}, slave died at ${writtenAtNotice}, dispatched ${s.dispatchedOffset}`);
    });
    const minWhileDown = master.store.stats().minOffset;

    // The slave comes back on its directory, catches up, and SEND_OK resumes.
    const restartAt = Date.now();
    const writtenAtRestart = master.store.writtenOffset;
    slave = await startProcess(slaveConfig);
    await waitForAsync(async () => slaveHa(await admin.stats(slave.addr)).replicatedOffset >= writtenAtRestart, 'the slave to catch up', 15_000, 20);
    const caughtUpAt = Date.now();
    await waitForAsync(() => load.records.some((r) => r.status === 'SEND_OK' && r.startedAt >= caughtUpAt), 'SEND_OK to resume', 10_000);
    await sleep(300);
    await load.stop();
    await waitUntil(() => masterHa(master.stats()).replicatedOffset === master.store.writtenOffset, 'the slave to hold the whole log', 10_000, 10);
    expect(masterHa(master.stats()).readersCappedBySlave, 'readers held at the slave again once it is back').toBe(true);
    const slaveStats = slaveHa(await admin.stats(slave.addr));

    // Everything sent after the restart reaches the consumer too.
    const after = keysOf(load.records.filter((r) => r.startedAt >= restartAt && r.status !== 'ERROR'));
    await waitForAsync(() => after.every((k) => received.has(k)), 'the consumer to get the messages sent after the restart', DELIVERY_TIMEOUT_MS);
    await consumer.shutdown();

    console.log(
      `dead-slave: ${blindKeys.length} messages answered SLAVE_NOT_AVAILABLE, all received; retention moved minOffset ${minAtNotice} -> ${minWhileDown} while the slave was down (it died at ${writtenAtNotice}); slave caught up ${caughtUpAt - restartAt} ms after its restart (resyncs ${slaveStats.resyncs}); statuses ${JSON.stringify(load.countByStatus())}`,
    );
    expect(load.records.filter((r) => r.status === 'ERROR').map((r) => r.error)).toEqual([]);
  });
});

function keysOf(records: readonly SendRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) for (let i = 0; i < r.count; i++) out.push(posKey(r.queueId, r.queueOffset + i));
  return out;
}
