// Teardown, in one place, run whatever step the run got to: stop the live
// view (settling every second still open), disarm the faults (waiting for
// one under way), take the roles' busy and CPU time where the run stopped
// (if the sale or the drain did not get to it), end the worker threads, close the admin client and stop the
// topology (its data removed unless kept), keeping the brokers' figures.
// Each part runs even if one before it failed; the first failure is returned.
import { activitySnapshot, elapsedSec, type RunContext } from './run-context.js';
import type { StepFailure } from './run-steps.js';
import { stopHttp } from './http-front.js';

export const STOP_STEP = 'stop the run';

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
  await attempt(() => run.poller?.stop());
  if (run.runStartUs !== undefined) run.drainEndSec ??= elapsedSec(run);
  for (const sec of run.metrics.settle(Infinity, true)) run.progress.second(sec, sec.second + 1);
  run.progress.end();
  // Faults first: nothing may kill or restart a broker while the rest stops.
  await attempt(async () => {
    if (run.faultScheduler !== undefined) run.faultRecords = await run.faultScheduler.stop();
  });
  await attempt(() => {
    if (run.saleStart === undefined) return;
    // A run stopped early: its windows end here.
    run.saleEnd ??= activitySnapshot(run);
    run.drainEnd ??= activitySnapshot(run);
  });
  await attempt(() => stopHttp(run));
  await attempt(() => run.pools?.destroy());
  await attempt(() => run.admin?.close());
  await attempt(async () => {
    if (run.topology !== undefined) run.brokers = await run.topology.close();
  });
  return failure;
}
