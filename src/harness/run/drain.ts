// The steps after the sale: wait until the lottery group has committed
// everything on every queue (the broker's view, independent of the
// verifier's bookkeeping) or the scenario's drain timeout, then stop the
// consumers and take their outcomes. A master a fault took down is asked
// through its slave (where the consumers read and commit meanwhile); a
// queue nobody can answer for is simply not drained yet.
import type { Admin, MessageQueue } from '../../client/index.js';
import { sleep } from '../../load/index.js';
import { CONTROL_ABORT } from '../workers/index.js';
import { activitySnapshot, elapsedSec, type RunContext } from './run-context.js';

const DRAIN_POLL_MS = 500;
const MS_PER_S = 1000;

export async function drainBacklog(run: RunContext): Promise<void> {
  const admin = run.admin!;
  const deadline = Date.now() + run.scenario.drainTimeoutSec * MS_PER_S;
  while (!run.drained && Date.now() < deadline && Atomics.load(run.control, CONTROL_ABORT) === 0) {
    const queues = await admin.queues(run.topic).catch(() => []);
    run.drained = queues.length > 0 && (await Promise.all(queues.map((mq) => queueDrained(admin, run.group, mq)))).every(Boolean);
    if (!run.drained) await sleep(DRAIN_POLL_MS);
  }
  run.drainEndSec = elapsedSec(run);
  // The end of the CPU-per-message window: every acknowledged message consumed (or the drain gave up).
  run.drainEnd = activitySnapshot(run);
  await run.poller?.stop();
}

/** The group committed everything the queue holds: asked of its master, else of its slave. */
async function queueDrained(admin: Admin, group: string, mq: MessageQueue): Promise<boolean> {
  const ask = async (q: MessageQueue): Promise<boolean> => ((await admin.committedOffset(group, q)) ?? 0) >= (await admin.queueOffsets(q)).maxOffset;
  try {
    return await ask(mq);
  } catch {
    if (mq.slaveAddr === undefined || mq.slaveAddr === mq.addr) return false;
    return ask({ ...mq, addr: mq.slaveAddr }).catch(() => false);
  }
}

export async function stopConsumers(run: RunContext): Promise<void> {
  const pools = run.pools!;
  pools.post({ kind: 'stop' });
  run.consumerOutcomes = await Promise.race([Promise.all(pools.consumerRuns), pools.failed]);
}
