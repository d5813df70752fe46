// The steps after the sale: wait until the lottery group has committed
// everything on every queue (the broker's view, independent of the
// verifier's bookkeeping) or the scenario's drain timeout, then stop the
// consumers and take their outcomes.
import { sleep } from '../../load/index.js';
import { CONTROL_ABORT } from '../workers/index.js';
import { elapsedSec, type RunContext } from './run-context.js';

const DRAIN_POLL_MS = 500;
const MS_PER_S = 1000;

export async function drainBacklog(run: RunContext): Promise<void> {
  const admin = run.admin!;
  const deadline = Date.now() + run.scenario.drainTimeoutSec * MS_PER_S;
  const queues = await admin.queues(run.topic);
  while (!run.drained && Date.now() < deadline && Atomics.load(run.control, CONTROL_ABORT) === 0) {
    run.drained = (await Promise.all(queues.map(async (mq) => ((await admin.committedOffset(run.group, mq)) ?? 0) >= (await admin.queueOffsets(mq)).maxOffset))).every(Boolean);
    if (!run.drained) await sleep(DRAIN_POLL_MS);
  }
  run.drainEndSec = elapsedSec(run);
}

export async function stopConsumers(run: RunContext): Promise<void> {
  const pools = run.pools!;
  pools.post({ kind: 'stop' });
  run.consumerOutcomes = await Promise.race([Promise.all(pools.consumerRuns), pools.failed]);
}
