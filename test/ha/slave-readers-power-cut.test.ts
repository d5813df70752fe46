// Readers on a slave must never see what a crash of the master could erase.
// sync flush + sync replication: a master (a child process) takes sends under
// load; its slave (in this process, sync flush, on a fast disk so that its
// fdatasyncs finish before the master's) replicates, and a consumer group
// reads from the slave (readFromSlave: 'prefer'). At a random (seeded) moment
// the master's power is cut: its directory is copied as a power cut would
// leave it (only what fdatasync covered) and the process is SIGKILLed. The
// master restarts on that copy: every message the consumer got from the
// slave, before or after the cut, must be there at the same position with
// the same body (and every SEND_OK message too). The master pushes to the
// slave before its own fdatasync, so this holds only because the slave
// serves readers no further than the master said its log is durable.
// Run with HA_SEED=<seed> to replay a run's cut moment and batch sizes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerConfig } from '../../src/broker/index.js';
import type { Consumer } from '../../src/client/index.js';
import { spawnTs, type RunningChild } from '../helpers/child.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { removeDir, useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { freshRoute, haBrokerConfig, Load, posKey, presence, readAllQueues, runSeed, slaveHa, useBrokerProcesses, useLocalBrokers, waitForAsync } from './ha-helpers.js';

const POWER_CUT_BROKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'power-cut-broker.ts');
const TOPIC = 'HaSlaveReaders';
const QUEUES = 4;
const BROKER = 'ha-slave-readers';
const RUNS = [1, 2, 3];
const BASE_SEED = runSeed();
/** A fast disk for the slave: memory-backed where there is one. */
const FAST_DIR_ROOT = '/dev/shm';
/** The consumer goes on reading from the slave this long after the cut. */
const READ_AFTER_CUT_MS = 1000;

describe('sync flush + sync replication, consumers on the slave: cut the master\'s power', () => {
  const tempDir = useTempDirs('ha-slave-readers');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();
  const fastDirs: string[] = [];
  const children: RunningChild[] = [];
  afterEach(async () => {
    for (const r of children.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
    for (const d of fastDirs.splice(0)) removeDir(d);
  });

  function fastDir(): string {
    if (!fs.existsSync(FAST_DIR_ROOT)) return tempDir();
    const d = fs.mkdtempSync(path.join(FAST_DIR_ROOT, 'metaq-ha-slave-readers-'));
    fastDirs.push(d);
    return d;
  }

  /** Starts a master that cuts its own power into `cutDir` on SIGUSR2. */
  async function startPowerCutMaster(config: BrokerConfig, cutDir: string): Promise<{ addr: string; haAddr: string; running: RunningChild }> {
    let ready!: (line: string) => void;
    const first = new Promise<string>((resolve) => (ready = resolve));
    const r = spawnTs(POWER_CUT_BROKER, [JSON.stringify(config), cutDir], { onLine: (l) => ready(l) });
    children.push(r);
    const got = await Promise.race([first, r.exited.then(() => 'exited' as const), sleep(20_000).then(() => 'timeout' as const)]);
    if (got === 'exited' || got === 'timeout') throw new Error(`master process ${got}:\n${r.stderr()}`);
    const info = JSON.parse(got) as { addr: string; haAddr: string };
    return { addr: info.addr, haAddr: info.haAddr, running: r };
  }

  it.each(RUNS)('cut point %i: every message delivered from the slave is on the restarted master', async (run) => {
    const seed = (BASE_SEED + run * 7919) >>> 0;
    const rng = prng(seed);
    const cutAfterMs = 300 + Math.floor(rng() * 1200);
    const tag = `sr${run}`;
    console.log(`slave-readers-power-cut run ${run}: seed=${seed} (HA_SEED=${BASE_SEED}) cut ${cutAfterMs} ms after the first SEND_OK`);

    const c = await cluster({ brokers: 0 });
    const cutDir = tempDir();
    const group = `slave-readers-${tag}`;
    const masterConfig = haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000, flushMode: 'sync' });
    const master = await startPowerCutMaster(masterConfig, cutDir);
    const { broker: slave } = await startLocal(
      haBrokerConfig({ ns: c.ns, dir: fastDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES, [`%RETRY%${group}`]: 1 }, role: 'slave', masterHaAddr: master.haAddr, flushMode: 'sync' }),
    );
    await waitUntil(() => slaveHa(slave.stats()).connected, 'the slave to connect', 10_000, 10);
    await waitForAsync(async () => (await freshRoute(c.ns, TOPIC)).some((q) => q.slaveAddr === slave.addr && q.addr === master.addr), 'a route with master and slave');

    // The consumer reads from the slave; every delivery is kept.
    const delivered = new Map<string, string>();
    const readFrom = new Set<string>();
    const consumer: Consumer = clients.consumer({ namesrv: c.ns, group, readFromSlave: 'prefer', pullBatchSize: 64, batchSize: 64 });
    consumer.subscribe(TOPIC);
    await consumer.start((messages) => {
      for (const m of messages) {
        delivered.set(posKey(m.queueId, m.queueOffset), m.body.toString('utf8'));
        readFrom.add(m.brokerAddr);
      }
    });

    const load = new Load(clients.producer(c.ns), TOPIC, tag, rng, { concurrency: 16, maxBatch: 16 }).start();
    await load.firstOk();
    await sleep(cutAfterMs);
    master.running.child.kill('SIGUSR2');
    const exit = await master.running.exited;
    expect(exit.signal, `the master did not cut its power: ${master.running.stderr()}`).toBe('SIGKILL');
    const deliveredAtCut = delivered.size;
    await load.stop();
    await sleep(READ_AFTER_CUT_MS);
    await consumer.shutdown();
    expect(delivered.size).toBeGreaterThan(0);
    expect([...readFrom]).toEqual([slave.addr]);

    // The master comes back on what survived its power cut.
    const restarted = await startProcess({ ...masterConfig, store: { ...masterConfig.store, dir: cutDir } });
    const admin = clients.admin(c.ns);
    const onMaster = await readAllQueues(admin, restarted.addr, BROKER, TOPIC, QUEUES, tag);
    const lost = [...delivered].filter(([k, body]) => onMaster.bodies.get(k) !== body).map(([k]) => k);
    const acked = load.records.filter((r) => r.status === 'SEND_OK');
    const p = presence(onMaster, tag, acked);
    console.log(
      `slave-readers-power-cut run ${run}: ${delivered.size} messages delivered from the slave (${deliveredAtCut} before the cut), ${lost.length} of them missing on the restarted master; master kept ${onMaster.perQueue.reduce((a, b) => a + b, 0)} messages; acked ${p.expected}, missing ${p.missing.length}; slave masterDurableOffset ${slaveHa(slave.stats()).masterDurableOffset}, slave log ${slave.store.writtenOffset}; ${master.running.stderr().trim().split('\n').at(-1)}`,
    );
    expect(lost.slice(0, 10), `messages delivered from the slave that the master's power cut erased: ${lost.length}`).toEqual([]);
    expect(p.missing.slice(0, 10), `SEND_OK messages missing after the power cut: ${p.missing.length}`).toEqual([]);
    expect(p.wrong).toEqual([]);
  });
});

