// Failover under sync replication: a master in a child process takes sends
// under load (many in flight, batches) while its slave (in this process)
// replicates; the master is killed with SIGKILL at a random (seeded) moment.
// Every message whose send returned SEND_OK must then be on the slave, intact,
// at the position its send reported; the slave's log must be a byte-for-byte
// prefix of what the dead master wrote; and once the name server drops the
// master, a consumer group reading the topic gets every acknowledged message
// from the slave (the route lists only the slave, read-only).
// Run with HA_SEED=<seed> to replay a run's kill moment and batch sizes.
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/client/index.js';
import { MessageStore } from '../../src/store/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import {
  haBrokerConfig,
  damaged,
  expectLogPrefix,
  freshRoute,
  HA_STORE,
  Load,
  posKey,
  presence,
  readAllQueues,
  runSeed,
  slaveHa,
  useBrokerProcesses,
  useLocalBrokers,
  waitSlaveDispatched,
  waitForAsync,
} from './ha-helpers.js';

const TOPIC = 'HaFailover';
const QUEUES = 4;
const BROKER = 'ha-failover';
const RUNS = [1, 2, 3];
const BASE_SEED = runSeed();

describe.each(['async', 'sync'] as const)('sync replication, %s flush on both: SIGKILL the master under load', (flushMode) => {
  const tempDir = useTempDirs('ha-failover');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it.each(RUNS)('kill point %i: every SEND_OK message is on the slave and a consumer gets it there', async (run) => {
    const seed = (BASE_SEED + run * 7919 + (flushMode === 'sync' ? 104_729 : 0)) >>> 0;
    const rng = prng(seed);
    const killAfterMs = 200 + Math.floor(rng() * 1300);
    const tag = `f${flushMode[0]}${run}`;
    console.log(`sync-failover flush=${flushMode} run ${run}: seed=${seed} (HA_SEED=${BASE_SEED}) kill ${killAfterMs} ms after the first SEND_OK`);

    const c = await cluster({ brokers: 0 });
    const masterDir = tempDir();
    const master = await startProcess(
      haBrokerConfig({ ns: c.ns, dir: masterDir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000, flushMode }),
    );
    expect(master.haAddr).toBeDefined();
    // The slave is given the consumer group's retry topic up front: only a master creates it
    // (at the group's first heartbeat), and without it a consumer started while only the slave
    // is alive never finishes starting (see slave-role.test.ts).
    const group = `failover-${tag}`;
    const { broker: slave, warnings: slaveWarnings } = await startLocal(
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES, [`%RETRY%${group}`]: 1 }, role: 'slave', masterHaAddr: master.haAddr!, flushMode }),
    );
    await waitUntil(() => slaveHa(slave.stats()).connected, 'the slave to connect', 10_000, 10);
    await waitForAsync(async () => (await freshRoute(c.ns, TOPIC)).some((q) => q.slaveAddr === slave.addr && q.addr === master.addr), 'a route with master and slave');

    const producer = clients.producer(c.ns);
    const load = new Load(producer, TOPIC, tag, rng, { concurrency: 16, maxBatch: 16 }).start();
    await load.firstOk();
    await sleep(killAfterMs);
    const killedAt = Date.now();
    const exit = await master.kill('SIGKILL');
    const deadAt = Date.now();
    await load.stop();
    expect(exit.signal, `the master died on its own: ${master.running.stderr()}`).toBe('SIGKILL');

    const acked = load.records.filter((r) => r.status === 'SEND_OK');
    const ackedMessages = acked.reduce((n, r) => n + r.count, 0);
    expect(ackedMessages).toBeGreaterThan(0);
    // A master that is gone acknowledges nothing.
    expect(acked.filter((r) => r.startedAt >= deadAt)).toEqual([]);

    // What the slave holds, read through its wire protocol.
    await waitSlaveDispatched(slave);
    const admin = clients.admin(c.ns);
    const onSlave = await readAllQueues(admin, slave.addr, BROKER, TOPIC, QUEUES, tag);
    const p = presence(onSlave, tag, acked);
    const slaveTotal = onSlave.perQueue.reduce((a, b) => a + b, 0);
    console.log(
      `sync-failover flush=${flushMode} run ${run}: sent ${load.sent} messages (${JSON.stringify(load.countByStatus())}); acked ${ackedMessages} in ${acked.length} batches, on slave ${p.present} of them (${slaveTotal} in all), missing ${p.missing.length}, wrong ${p.wrong.length}; pulls read again: ${onSlave.rereads}; slave warnings: ${slaveWarnings.length} ${JSON.stringify(slaveWarnings.slice(0, 3))}`,
    );
    expect(p.wrong, 'acknowledged positions holding another message').toEqual([]);
    expect(p.missing.slice(0, 10), `acknowledged (SEND_OK) messages missing on the slave: ${p.missing.length}`).toEqual([]);
    expect(damaged(onSlave, tag), 'messages on the slave that are not intact').toEqual([]);

    // The slave's log is a prefix of what the master wrote (reopened from its directory).
    const slaveLog = slave.store.writtenOffset;
    const masterStore = await MessageStore.open({ dir: masterDir, ...HA_STORE, flushMode });
    let masterTotal = 0;
    try {
      expectLogPrefix(slave.store, masterStore, 'slave log vs the dead master log');
      for (let q = 0; q < QUEUES; q++) masterTotal += masterStore.maxOffset(TOPIC, q);
      console.log(
        `sync-failover flush=${flushMode} run ${run}: master log ${masterStore.writtenOffset} bytes / ${masterTotal} messages, slave log ${slaveLog} bytes / ${slaveTotal} messages (${masterTotal - slaveTotal} written on the master only, never acknowledged)`,
      );
    } finally {
      await masterStore.close();
    }

    // The name server drops the dead master: the route lists the slave alone, read-only.
    await waitForAsync(
      async () => {
        const qs = await freshRoute(c.ns, TOPIC);
        return qs.length === QUEUES && qs.every((q) => q.addr === slave.addr && q.writable === false);
      },
      'the route to list only the slave',
      10_000,
      50,
    );
    const routedAt = Date.now();

    // A consumer group reading now gets every acknowledged message, from the slave.
    const want = new Set<string>();
    for (const r of acked) for (let i = 0; i < r.count; i++) want.add(posKey(r.queueId, r.queueOffset + i));
    const got = new Map<string, string>();
    const readFrom = new Set<string>();
    let notFlaggedFromSlave = 0;
    // Small pulls: see frame-reassembly.test.ts.
    const consumer: Consumer = clients.consumer({ namesrv: c.ns, group, pullBatchSize: 64, batchSize: 64 });
    consumer.subscribe(TOPIC);
    await consumer.start((messages, ctx) => {
      for (const m of messages) {
        got.set(posKey(m.queueId, m.queueOffset), m.body.toString('utf8'));
        readFrom.add(m.brokerAddr);
        readFrom.add(ctx.queue.addr);
        if (!m.fromSlave) notFlaggedFromSlave++;
      }
    });
    await waitForAsync(() => [...want].every((k) => got.has(k)), `the consumer to get all ${want.size} acknowledged messages`, 15_000);
    await consumer.shutdown();
    expect([...readFrom]).toEqual([slave.addr]);
    expect(notFlaggedFromSlave).toBe(0);
    for (const k of want) expect(got.get(k), k).toBe(onSlave.bodies.get(k));
    console.log(
      `sync-failover flush=${flushMode} run ${run}: route had only the slave ${routedAt - killedAt} ms after the kill; consumer got all ${want.size} acked messages (${got.size} in all) in ${Date.now() - routedAt} ms`,
    );
  });
});
