// The steps around the workers: start their pools, wait until every one is
// ready, then the sale itself: every thread gets the same t = 0, the
// producers offer the curve open loop while the live view follows it second
// by second, until every producer has had its last answer. The faults are
// armed on the same clock and go on through the drain.
import { nowUs, sleep } from '../../load/index.js';
import { activitySnapshot, elapsedSec, type RunContext } from './run-context.js';
import { WorkerPools } from './worker-pools.js';
import { FaultScheduler } from './fault-scheduler.js';
import { SystemPoller } from './system-poller.js';
import { dueBySecond, httpOutcome } from '../http/index.js';
import { startHttpLoad } from './http-front.js';

/** Load starts this long after every worker is ready (all threads see the same t = 0). */
const START_DELAY_US = 300_000;
/** How often the live view settles the seconds every worker has reported. */
const LIVE_VIEW_MS = 250;

export async function startWorkers(run: RunContext): Promise<void> {
  run.pools = new WorkerPools(run);
  if (run.front === 'http') startHttpLoad(run);
}

export async function waitUntilReady(run: RunContext): Promise<void> {
  await run.pools!.untilReady();
  const load = run.http?.load;
  if (load !== undefined) await Promise.race([load.untilReady(), run.pools!.failed]);
}

export async function runSale(run: RunContext): Promise<void> {
  const pools = run.pools!;
  const { metrics, progress } = run;
  const runStartUs = nowUs() + START_DELAY_US;
  pools.post({ kind: 'start', runStartUs });
  run.http?.load?.begin(runStartUs);
  await sleep(START_DELAY_US / 1000);
  run.runStartUs = runStartUs;
  if (run.faults.length > 0) {
    run.faultScheduler = new FaultScheduler(run);
    run.faultScheduler.start();
  }
  // Where the time went: busy time of every thread over the sale (run start to the last answer).
  run.saleStart = activitySnapshot(run);
  if (run.admin !== undefined) {
    run.poller = new SystemPoller(run, run.admin);
    run.poller.start();
  }
  const load = run.http?.load;
  metrics.expectedReporters = (load?.threads ?? run.producers) + pools.liveConsumers;
  run.ticker = setInterval(() => {
    for (const sec of metrics.settle(Math.floor(elapsedSec(run)))) progress.second(sec, sec.second + 1);
  }, LIVE_VIEW_MS);
  if (load !== undefined) {
    // autocannon's threads report what was answered; the plan says what was due.
    dueBySecond(run.scenario.phases).forEach((claims, second) => metrics.offer(second, claims));
    const result = await Promise.race([load.finished(), pools.failed]);
    run.http!.result = result;
    run.producerOutcomes = httpOutcome(result.threads);
    run.saleEnd = activitySnapshot(run);
    return;
  }
  let running = run.producers;
  run.producerOutcomes = await Promise.race([
    Promise.all(
      pools.producerRuns.map((r) =>
        r.then((out) => {
          running--;
          metrics.expectedReporters = running + pools.liveConsumers;
          return out;
        }),
      ),
    ),
    pools.failed,
  ]);
  run.saleEnd = activitySnapshot(run);
}
