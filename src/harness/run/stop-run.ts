// Teardown, in one place, run whatever step the run got to: stop the live
// view (settling every second still open), disarm the faults (waiting for
// one under way), take the threads' busy shares over
// the sale, end the worker threads, close the admin client and stop the
// topology (its data removed unless kept), keeping the brokers' figures.
// Each part runs even if one before it failed; the first failure is returned.
import { activitySnapshot, elapsedSec, type ActivitySnapshot, type RunContext } from './run-context.js';
import type { StepFailure } from './run-steps.js';

/** Busy shares are given to 3 decimals. */
const SHARE_DIGITS = 3;
export const STOP_STEP = 'stop the run';

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function busyShares(start: ActivitySnapshot, end: ActivitySnapshot): { role: string; busyShare: number }[] {
  const ms = Math.max(1, end.at - start.at);
  return end.activity.map((a) => ({
    role: a.role,
    busyShare: round((a.activeMs - (start.activity.find((b) => b.role === a.role)?.activeMs ?? 0)) / ms, SHARE_DIGITS),
  }));
}

export async function stopRun(run: RunContext): Promise<StepFailure | undefined> {
  let failure: StepFailure | undefined;
  const attempt = async (part: () => unknown): Promise<void> => {
    try {
      await part();
    } catch (error) {
      failure ??= { step: STOP_STEP, error };
    }
  };
  clearInterval(run.ticker);
  if (run.runStartUs !== undefined) run.drainEndSec ??= elapsedSec(run);
  for (const sec of run.metrics.settle(Infinity, true)) run.progress.second(sec, sec.second + 1);
  run.progress.end();
  // Faults first: nothing may kill or restart a broker while the rest stops.
  await attempt(async () => {
    if (run.faultScheduler !== undefined) run.faultRecords = await run.faultScheduler.stop();
  });
  await attempt(() => {
    if (run.saleStart === undefined) return;
    run.saleEnd ??= activitySnapshot(run);
    run.cpu = busyShares(run.saleStart, run.saleEnd);
  });
  await attempt(() => run.pools?.destroy());
  await attempt(() => run.admin?.close());
  await attempt(async () => {
    if (run.topology !== undefined) run.brokers = await run.topology.close();
  });
  return failure;
}
