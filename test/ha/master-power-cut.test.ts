// Master power cut and restart, async flush + sync replication. SEND_OK means
// "in the master's page cache and on the slave", so after a power cut the
// master comes back with a shorter log than its slave, whose tail was
// acknowledged. The master (in this process) takes sends under load; at a
// random (seeded) moment its directory is copied as a power cut would leave
// it (MessageStore.durableImage: bytes past the last fdatasync read as
// zeros); the master stops, and a new master starts on the copy, on the same
// ports, while the load goes on. The slave must keep every
// acknowledged message; the master must take no write before it has copied
// the slave's longer log back; then every SEND_OK message (before and after
// the cut) is on both brokers where its send said (no queue offset reused)
// and a consumer group gets each of them.
// Run with HA_SEED=<seed> to replay a run's cut moment and batch sizes.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { copyAsAfterPowerLoss } from '../helpers/power-loss.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitDispatched, waitUntil } from '../helpers/wait.js';
import { consumeAllAcked, damaged, expectLogPrefix, haBrokerConfig, Load, masterHa, presence, readAllQueues, runSeed, slaveHa, useLocalBrokers, waitForAsync } from './ha-helpers.js';

const TOPIC = 'HaPowerCut';
const QUEUES = 4;
const BROKER = 'ha-powercut';

describe('sync replication, async flush: the master loses power and restarts', () => {
  const tempDir = useTempDirs('ha-powercut');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  it('every SEND_OK message survives on the pair and is consumed; no queue offset is reused', async () => {
    const seed = runSeed();
    const rng = prng(seed);
    const cutAfterMs = 300 + Math.floor(rng() * 900);
    const tag = 'pc';
    console.log(`master-power-cut: seed=${seed} cut ${cutAfterMs} ms after the first SEND_OK`);
    const c = await cluster({ brokers: 0 });
    const group = 'powercut';
    const config = (dir: string, role: 'master' | 'slave', extra: { masterHaAddr?: string; haPort?: number } = {}) => ({
      ...haBrokerConfig({
        ns: c.ns,
        dir,
        brokerName: BROKER,
        topics: { [TOPIC]: QUEUES, [`%RETRY%${group}`]: 1 },
        role,
        replicationMode: 'sync',
        slaveTimeoutMs: 2000,
        masterHaAddr: extra.masterHaAddr,
        flushMode: 'async',
      }),
      ...(extra.haPort === undefined ? {} : { haPort: extra.haPort }),
    });

    const masterDir = tempDir();
    const a = await startLocal(config(masterDir, 'master'));
    const haAddr = a.broker.haAddr!;
    const haPort = Number(haAddr.split(':')[1]);
    const s = await startLocal(config(tempDir(), 'slave', { masterHaAddr: haAddr }));
    await waitUntil(() => masterHa(a.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);

    const load = new Load(clients.producer(c.ns), TOPIC, tag, rng, { concurrency: 8, maxBatch: 8 }).start();
    await load.firstOk();
    await sleep(cutAfterMs);

    // The power cut: what the master's disk holds at this instant.
    const cutDir = tempDir();
    const cut = copyAsAfterPowerLoss(masterDir, cutDir, a.broker.store.durableImage());
    const cutAt = Date.now();
    const writtenAtCut = a.broker.store.writtenOffset;
    await a.broker.close();
    const slaveLog = s.broker.store.writtenOffset;

    // The master comes back on what its disk kept, on the same ports.
    const b = await startLocal({ ...config(cutDir, 'master', { haPort }), port: Number(a.broker.addr.split(':')[1]) });
    const restartedAt = Date.now();
    const startLog = b.broker.store.writtenOffset;
    console.log(
      `master-power-cut: at the cut the master had written ${writtenAtCut} bytes, ${cut.zeroedLogBytes} of them not yet fdatasync'ed (lost); the slave held ${slaveLog} bytes when the master stopped; the master restarted with ${startLog} bytes`,
    );
    expect(startLog, 'the restarted master is behind its slave').toBeLessThan(slaveLog);

    // The slave reconnects; the master copies its log back, then takes writes again.
    await waitForAsync(() => masterHa(b.broker.stats()).slaveConnected && (masterHa(b.broker.stats()).writesHeld ?? 'none') === 'none', 'the master to catch up from the slave', 10_000, 5).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: master stats ${JSON.stringify(masterHa(b.broker.stats()))}, master log ${b.broker.store.writtenOffset}, slave log ${s.broker.store.writtenOffset}; slave warnings ${JSON.stringify(s.warnings.slice(-3))}`);
    });
    const caughtUpAt = Date.now();
    await waitForAsync(() => load.records.some((r) => r.status === 'SEND_OK' && r.startedAt >= caughtUpAt), 'SEND_OK to resume', 10_000);
    await sleep(300);
    await load.stop();
    await waitUntil(
      () => slaveHa(s.broker.stats()).replicatedOffset === b.broker.store.writtenOffset && masterHa(b.broker.stats()).replicatedOffset === b.broker.store.writtenOffset,
      'the slave to hold the whole log',
      10_000,
      5,
    );
    await waitDispatched(b.broker.store);
    await waitDispatched(s.broker.store);

    const acked = load.records.filter((r) => r.status === 'SEND_OK');
    // Stored by the restarted master, acknowledged or not (what the old one stored unacknowledged may be lost with its page cache).
    const storedSinceRestart = load.records.filter((r) => r.status !== 'ERROR' && r.startedAt >= restartedAt);
    const ackedBeforeCut = acked.filter((r) => r.endedAt <= cutAt).reduce((n, r) => n + r.count, 0);
    const admin = clients.admin(c.ns);
    const onMaster = await readAllQueues(admin, b.broker.addr, BROKER, TOPIC, QUEUES, tag);
    const onSlave = await readAllQueues(admin, s.broker.addr, BROKER, TOPIC, QUEUES, tag);
    const pm = presence(onMaster, tag, acked);
    const ps = presence(onSlave, tag, acked);
    const errors = load.records.filter((r) => r.status === 'ERROR');
    const errorKinds: Record<string, number> = {};
    for (const r of errors) {
      const k = `${r.startedAt >= restartedAt ? 'after restart' : 'before'} ${(r.error ?? '').split(':')[0]}`;
      errorKinds[k] = (errorKinds[k] ?? 0) + 1;
    }
    console.log(`master-power-cut: failed sends by kind: ${JSON.stringify(errorKinds)}`);
    const refused = errors.filter((r) => r.error?.includes('MasterBehindSlaveError') === true && r.startedAt >= restartedAt);
    console.log(
      `master-power-cut: sends ${JSON.stringify(load.countByStatus())} (${ackedBeforeCut} acked before the cut; ${refused.length} sends refused by the restarted master while it was behind); acked ${pm.expected}: on the master ${pm.present} (missing ${pm.missing.length}, wrong ${pm.wrong.length}), on the slave ${ps.present} (missing ${ps.missing.length}, wrong ${ps.wrong.length}); caught up ${caughtUpAt - restartedAt} ms after the restart`,
    );
    expect(ps.wrong, 'acknowledged positions on the slave holding another message (a reused queue offset)').toEqual([]);
    expect(ps.missing.slice(0, 10), `acknowledged messages missing on the slave: ${ps.missing.length}`).toEqual([]);
    expect(pm.wrong, 'acknowledged positions on the master holding another message (a reused queue offset)').toEqual([]);
    expect(pm.missing.slice(0, 10), `acknowledged messages missing on the master: ${pm.missing.length}`).toEqual([]);
    // Whatever the restarted master stored (SEND_OK or not) sits where its send said: no offset was handed out twice.
    expect(presence(onMaster, tag, storedSinceRestart).wrong).toEqual([]);
    expect(damaged(onMaster, tag)).toEqual([]);
    expect(b.broker.store.writtenOffset).toBe(s.broker.store.writtenOffset);
    expectLogPrefix(s.broker.store, b.broker.store, 'slave log vs restarted master log');
    // The restarted master took no write before it had the slave's log back (stored unacknowledged: SLAVE_NOT_AVAILABLE, SLAVE_TIMEOUT).
    expect(storedSinceRestart.filter((r) => r.endedAt < caughtUpAt && r.status !== 'SEND_OK')).toEqual([]);

    // A consumer group gets every acknowledged message.
    const { want, got } = await consumeAllAcked(clients.consumer({ namesrv: c.ns, group, pullBatchSize: 64, batchSize: 64 }), TOPIC, acked, 15_000);
    for (const k of want) expect(got.get(k), k).toBe(onMaster.bodies.get(k));
  });
});
