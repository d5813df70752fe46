// One run of a scenario, as the list of its steps (as OpenMessaging
// Benchmark's WorkloadGenerator reads): boot the topology, wait for the
// route, start the worker pools, wait until every worker is ready, run the
// sale, drain the backlog, stop the consumers; then, whatever step the run
// got to, stop everything, verify the shared arrays, add up the figures and
// judge them. A failing step skips the ones after it and still ends in a
// clean stop and a result to report (only bad input throws).
import { InvalidConfigError } from '../../common/index.js';
import { addSystemSeconds, cpuFigures, cpuPerMessage, faultFigures, lostMessageTimes, summarize, verify, type RunFigures } from '../measure/index.js';
import type { CpuFigure, CpuPerMessage } from '../run-result.js';
import type { FaultFigures, TimelineRow } from '../run-result.js';
import type { RunResult } from '../run-result.js';
import { brokerGroups, lossLimit, peakRate, producingSeconds } from '../scenario/index.js';
import { judgeRun } from '../verdict/index.js';
import { CONTROL_ABORT, CONTROL_DROPPED, CONTROL_FOREIGN } from '../workers/index.js';
import { bootTopology, waitForRoute } from './boot.js';
import { drainBacklog, stopConsumers } from './drain.js';
import { Progress } from './progress.js';
import { planRun, type RunContext, type RunOptions } from './run-context.js';
import { describeError, runSteps, type RunStep, type StepFailure } from './run-steps.js';
import { runSale, startWorkers, waitUntilReady } from './sale.js';
import { stopRun } from './stop-run.js';
import { ACTIVITY_ROLE } from './http-front.js';
import { startActivity } from './http-front.js';
import { httpSummary } from '../http/index.js';

const RUN_STEPS: readonly RunStep[] = [
  { name: 'boot the topology', run: bootTopology },
  { name: 'wait for the route', run: waitForRoute },
  { name: 'start the activity service', run: startActivity },
  { name: 'start the worker pools', run: startWorkers },
  { name: 'wait until every worker is ready', run: waitUntilReady },
  { name: 'run the sale', run: runSale },
  { name: 'drain the backlog', run: drainBacklog },
  { name: 'stop the consumers', run: stopConsumers },
];

export async function runScenario(o: RunOptions): Promise<RunResult> {
  const run = planRun(o, o.progress ?? new Progress());
  announce(run);
  const onAbort = (): number => Atomics.store(run.control, CONTROL_ABORT, 1);
  o.signal?.addEventListener('abort', onAbort);
  let failure: StepFailure | undefined;
  try {
    failure = await runSteps(RUN_STEPS, run);
  } finally {
    const stopped = await stopRun(run);
    failure ??= stopped;
    o.signal?.removeEventListener('abort', onAbort);
  }
  // Bad input is not a run that failed: it goes back to the caller as it is.
  if (failure?.error instanceof InvalidConfigError) throw failure.error;
  const timeline = addSystemSeconds(run.metrics.timeline(), run.poller?.samples ?? []);
  const figures = measure(run, failure, timeline);
  const h = run.http;
  if (h?.result !== undefined && h.service !== undefined) {
    figures.summary.http = httpSummary({ load: h.result, response: run.metrics.httpResponse, offered: run.totalMessages, producingSec: producingSeconds(run.scenario), serviceWorkers: h.service.workers, url: h.service.url });
  }
  const verdict = judgeRun(figures, run.scenario.thresholds);
  return { summary: { ...figures.summary, ...verdict }, timeline };
}

/** The run's first line on stderr: what it offers, to what. */
function announce(run: RunContext): void {
  const s = run.scenario;
  run.progress.note(
    `metaq scenario ${s.name}: ${run.totalMessages.toLocaleString('en-US')} messages over ${producingSeconds(s).toFixed(0)} s (peak ${peakRate(s).toLocaleString('en-US')} msg/s), ` +
      `flush ${s.topology.flush}, replication ${s.topology.replication}, ${run.isolation}, ` +
      (run.front === 'http' ? `users over HTTP (autocannon, closed loop) / ${run.consumers} consumer workers` : `${run.producers} producer / ${run.consumers} consumer workers`),
  );
}

/** Verifies the shared arrays and adds up what the run measured. */
function measure(run: RunContext, failure: StepFailure | undefined, timeline: TimelineRow[]): RunFigures {
  const verification = verify(run.shared, run.totalMessages, run.userMultiplier);
  const cpu = measureCpu(run, verification.acked);
  return summarize({
    scenario: run.scenario,
    injectDrop: run.options.injectDrop,
    injectDoubleIssue: run.options.injectDoubleIssue ?? 0,
    brokerGroups: brokerGroups(run.scenario),
    faults: measureFaults(run, timeline),
    lossLimit: lossLimit(run.scenario),
    isolation: run.isolation,
    startedAt: run.startedAt,
    producers: run.producers,
    consumers: run.consumers,
    metrics: run.metrics,
    producerOutcomes: run.producerOutcomes,
    consumerOutcomes: run.consumerOutcomes,
    verification,
    drained: run.drained,
    drainEndSec: run.drainEndSec ?? 0,
    brokers: run.brokers,
    cpu: cpu.figures,
    ...(cpu.perMessage !== undefined ? { cpuPerMessage: cpu.perMessage } : {}),
    brokerAddrs: run.topology?.brokerAddrs ?? [],
    aborted: Atomics.load(run.control, CONTROL_ABORT) !== 0,
    dropped: Atomics.load(run.control, CONTROL_DROPPED),
    foreign: Atomics.load(run.control, CONTROL_FOREIGN),
    ...(failure !== undefined ? { failedStep: { step: failure.step, message: describeError(failure.error) } } : {}),
  });
}

/** Each role's busy share and CPU per message (nothing when the sale never started). */
function measureCpu(run: RunContext, acked: number): { figures: CpuFigure[]; perMessage?: CpuPerMessage } {
  const { saleStart, saleEnd, drainEnd } = run;
  if (saleStart === undefined || saleEnd === undefined || drainEnd === undefined) return { figures: [] };
  const figures = cpuFigures({
    saleStart,
    saleEnd,
    drainEnd,
    acked,
    // In HTTP runs the activity service's workers produce every acknowledged claim.
    producerAcked: new Map([...run.producerOutcomes.map((p): [string, number] => [`producer ${p.worker}`, p.acked]), [ACTIVITY_ROLE, acked]]),
    consumerReceived: new Map(run.consumerOutcomes.map((c) => [`consumer ${c.worker}`, c.received])),
  });
  return { figures, perMessage: cpuPerMessage(figures, acked, drainEnd.at - saleStart.at) };
}

/** What each fault cost (empty without faults). */
function measureFaults(run: RunContext, timeline: TimelineRow[]): FaultFigures[] {
  if (run.faults.length === 0) return [];
  const startUs = run.runStartUs ?? 0;
  // The earliest first SEND_OK after each fault over every producer.
  const firstAckAfterSec = run.faults.map((_, k) => {
    const times = run.producerOutcomes.map((p) => p.firstAckAfterFaultUs[k] ?? null).filter((t): t is number => t !== null);
    return times.length === 0 ? null : (Math.min(...times) - startUs) / 1e6;
  });
  // Faults that never got their turn (a step failed first) still say so.
  const records = run.faultRecords.length > 0 ? run.faultRecords : run.faults.map((spec) => ({ spec, doneAtSec: null, target: '' }));
  return faultFigures({
    faults: records,
    timeline,
    firstAckAfterSec,
    lostAtSec: lostMessageTimes(run.shared, run.totalMessages, run.scenario.phases),
    endSec: run.drainEndSec ?? 0,
  });
}
