// What async replication loses: a master in a child process acknowledges
// sends at once (SEND_OK without waiting for the slave) under load and is
// killed with SIGKILL at a random (seeded) moment. The acknowledged messages
// the slave lacks are counted and printed (not required to be zero). What
// the slave has must be a consistent prefix: its CommitLog is byte for byte
// the start of the dead master's, every queue runs from offset 0 with no gap,
// every body is intact, every acknowledged message it has sits where its send
// said, and what it lacks of a queue is that queue's tail only.
// Run with HA_SEED=<seed> to replay a run's kill moment and batch sizes.
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
  presence,
  readAllQueues,
  runSeed,
  slaveHa,
  useBrokerProcesses,
  useLocalBrokers,
  waitSlaveDispatched,
} from './ha-helpers.js';

const TOPIC = 'HaAsyncLoss';
const QUEUES = 4;
const BROKER = 'ha-async';
const BASE_SEED = runSeed();

describe('async replication: SIGKILL the master under load', () => {
  const tempDir = useTempDirs('ha-async');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it.each([1, 2])('kill point %i: the slave holds a consistent prefix; acknowledged messages lost are counted', async (run) => {
    const seed = (BASE_SEED + run * 7919) >>> 0;
    const rng = prng(seed);
    const killAfterMs = 200 + Math.floor(rng() * 1300);
    const tag = `al${run}`;
    console.log(`async-loss run ${run}: seed=${seed} (HA_SEED=${BASE_SEED}) kill ${killAfterMs} ms after the first SEND_OK`);

    const c = await cluster({ brokers: 0 });
    const masterDir = tempDir();
    const master = await startProcess(haBrokerConfig({ ns: c.ns, dir: masterDir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'async' }));
    const { broker: slave, warnings } = await startLocal(
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'slave', masterHaAddr: master.haAddr! }),
    );
    await waitUntil(() => slaveHa(slave.stats()).connected, 'the slave to connect', 10_000, 10);

    const load = new Load(clients.producer(c.ns), TOPIC, tag, rng, { concurrency: 16, maxBatch: 16 }).start();
    await load.firstOk();
    await sleep(killAfterMs);
    const exit = await master.kill('SIGKILL');
    await load.stop();
    expect(exit.signal, `the master died on its own: ${master.running.stderr()}`).toBe('SIGKILL');

    const acked = load.records.filter((r) => r.status === 'SEND_OK');
    const ackedMessages = acked.reduce((n, r) => n + r.count, 0);
    expect(ackedMessages).toBeGreaterThan(0);
    // Async replication never waits for the slave.
    expect(Object.keys(load.countByStatus()).filter((s) => s !== 'SEND_OK' && s !== 'ERROR')).toEqual([]);

    await waitSlaveDispatched(slave);
    const onSlave = await readAllQueues(clients.admin(c.ns), slave.addr, BROKER, TOPIC, QUEUES, tag);
    const p = presence(onSlave, tag, acked);
    expect(p.wrong, 'acknowledged positions holding another message').toEqual([]);
    expect(damaged(onSlave, tag), 'messages on the slave that are not intact').toEqual([]);
    // What the slave lacks of a queue is its tail: no acknowledged message is missing below one it has.
    const holes = p.missing.filter((m) => {
      const [q, o] = m.split('=')[0]!.split(':').map(Number) as [number, number];
      return o < onSlave.perQueue[q]!;
    });
    expect(holes).toEqual([]);

    const masterStore = await MessageStore.open({ dir: masterDir, ...HA_STORE });
    try {
      expectLogPrefix(slave.store, masterStore, 'slave log vs the dead master log');
      let masterTotal = 0;
      for (let q = 0; q < QUEUES; q++) {
        expect(onSlave.perQueue[q]!).toBeLessThanOrEqual(masterStore.maxOffset(TOPIC, q));
        masterTotal += masterStore.maxOffset(TOPIC, q);
      }
      const slaveTotal = onSlave.perQueue.reduce((a, b) => a + b, 0);
      const lost = p.missing.length;
      const corrupt = warnings.filter((w) => w.includes('not a valid record')).length;
      console.log(
        `async-loss run ${run}: acked ${ackedMessages} messages in ${acked.length} batches (${JSON.stringify(load.countByStatus())}); on the slave ${p.present} of them, LOST ${lost} (${((100 * lost) / ackedMessages).toFixed(2)}%); master log ${masterStore.writtenOffset} bytes / ${masterTotal} messages, slave log ${slave.store.writtenOffset} bytes / ${slaveTotal} messages (${masterStore.writtenOffset - slave.store.writtenOffset} bytes behind); damaged pushes rejected by the slave: ${corrupt}; pulls read again: ${onSlave.rereads}`,
      );
    } finally {
      await masterStore.close();
    }
  });
});
