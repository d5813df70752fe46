// The kill-consumer fault through the worker pools the harness runs (built
// code in dist/, which `npm test` builds first: piscina threads load compiled
// task files), against a real broker over TCP: one lottery worker of two is
// told to die mid-sale and ends its thread at once, without unregistering or
// committing; the broker drops it from the group when its connections close,
// the other worker takes its queues and what it had not committed is
// delivered again. Nothing acknowledged is lost, no ticket is issued twice,
// the run's pools do not fail, and the dead worker's outcome still counts.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin } from '../../src/client/index.js';
import { nowUs } from '../../src/load/index.js';
import { REPO_ROOT } from '../helpers/child.js';
import { FAST_BROKER, useCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const DIST = path.join(REPO_ROOT, 'dist', 'src', 'harness');
const RATE = 300;
const DURATION_SEC = 6;
const KILL_AT_MS = 2500;
const DRAIN_TIMEOUT_MS = 30_000;

type RunModule = typeof import('../../dist/src/harness/run/run-context.js');
type PoolsModule = typeof import('../../dist/src/harness/run/worker-pools.js');
type MeasureModule = typeof import('../../dist/src/harness/measure/index.js');
type ScenarioModule = typeof import('../../dist/src/harness/scenario/index.js');
type ProgressModule = typeof import('../../dist/src/harness/run/progress.js');

const cluster = useCluster();

async function built<T>(rel: string): Promise<T> {
  const file = path.join(DIST, rel);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm test does)`);
  return (await import(file)) as T;
}

describe('kill-consumer', () => {
  it('one of two lottery workers dies mid-sale: the other takes its queues, nothing is lost, no ticket issued twice, the pools do not fail', async () => {
    const { planRun } = await built<RunModule>('run/run-context.js');
    const { WorkerPools } = await built<PoolsModule>('run/worker-pools.js');
    const { verify } = await built<MeasureModule>('measure/index.js');
    const { loadScenario } = await built<ScenarioModule>('scenario/index.js');
    const { Progress } = await built<ProgressModule>('run/progress.js');
    const smoke = await loadScenario('smoke');
    const scenario = {
      ...smoke,
      phases: [{ name: 'steady', durationSec: DURATION_SEC, startRate: RATE, endRate: RATE }],
      consumer: { capacityPerSec: 10 * RATE, workers: 2 },
      producer: { ...smoke.producer, workers: 1 },
    };
    const c = await cluster({ topics: { [scenario.topic]: scenario.queues } });
    const devNull = fs.createWriteStream('/dev/null') as unknown as NodeJS.WriteStream;
    const run = planRun({ scenario, injectDrop: 0, dataRoot: '', keepData: false }, new Progress(devNull));
    run.topology = { namesrv: c.ns } as NonNullable<typeof run.topology>;
    const pools = new WorkerPools(run, { sendTimeoutMs: 2000, giveUpAfterSec: DURATION_SEC + 10 });
    const admin = new Admin({ namesrv: c.ns });
    try {
      await pools.untilReady();
      pools.post({ kind: 'start', runStartUs: nowUs() + 100_000 });
      run.metrics.expectedReporters = run.producers + pools.liveConsumers;
      await sleep(KILL_AT_MS);
      const members = (): string[] => c.brokers[0]!.stats().groups.find((g) => g.group === run.group)?.members ?? [];
      expect(members()).toHaveLength(2);
      const killedAt = Date.now();
      expect(pools.killConsumer(0)).toBe(true);
      expect(pools.killConsumer(0)).toBe(false); // already dead
      expect(pools.killConsumer(5)).toBe(false); // no such worker
      expect(pools.liveConsumers).toBe(1);
      expect(run.metrics.expectedReporters).toBe(run.producers + 1);
      // Its connections closed with its thread: the broker drops it at once, well before a heartbeat timeout would.
      await waitUntil(() => members().length === 1, 'the dead worker to leave the group', 2000, 20);
      expect(Date.now() - killedAt).toBeLessThan(FAST_BROKER.consumerTimeoutMs!);
      expect(members()[0]).toMatch(/^lottery-1-/);
      const [produced] = await Promise.race([Promise.all(pools.producerRuns), pools.failed]);
      expect(produced!.acked).toBe(run.totalMessages);

      // The broker's view: the group (now one member) committed everything.
      const queues = await admin.queues(run.topic);
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      let drained = false;
      while (!drained && Date.now() < deadline) {
        drained = (await Promise.all(queues.map(async (mq) => ((await admin.committedOffset(run.group, mq)) ?? 0) >= (await admin.queueOffsets(mq)).maxOffset))).every(Boolean);
        if (!drained) await sleep(200);
      }
      expect(drained).toBe(true);
      pools.post({ kind: 'stop' });
      const outcomes = await Promise.race([Promise.all(pools.consumerRuns), pools.failed]);
      // The dead worker's outcome (what it received before it died) came back instead of a failure.
      expect(outcomes.map((o) => o.worker)).toEqual([0, 1]);
      expect(outcomes[0]!.received).toBeGreaterThan(0);
      expect(outcomes[0]!.errors).toEqual([]);
      expect(outcomes[1]!.received).toBeGreaterThan(0);

      const v = verify(run.shared, run.totalMessages, run.userMultiplier);
      expect(v.acked).toBe(run.totalMessages);
      expect(v.lost).toBe(0);
      expect(v.consumed).toBe(run.totalMessages);
      expect(v.tickets.issuedTwice).toBe(0);
      expect(v.tickets.neverIssued).toBe(0);
      // Per second, as the run's metrics got them: the dead worker's seconds up to its death count, nothing came from a slave (there is none).
      await sleep(100);
      const seconds = run.metrics.settle(Infinity, true);
      expect(seconds.reduce((n, r) => n + r.consumed, 0)).toBe(v.consumed);
      expect(seconds.reduce((n, r) => n + r.duplicates, 0)).toBe(v.duplicates);
      expect(seconds.reduce((n, r) => n + r.fromSlave, 0)).toBe(0);
      // Every reception counted once in the outcomes: first receptions plus duplicates.
      expect(outcomes[0]!.received + outcomes[1]!.received).toBe(v.consumed + v.duplicates);
    } finally {
      admin.close();
      await pools.destroy();
    }
  });
});
