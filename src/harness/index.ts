// Public door of harness/: the scenario model, one run of a scenario, and the
// report writers. The harness uses only the public client and broker APIs.
// Inside, one room per job: scenario/ (model, lookup, validation), run/ (the
// steps of a run, topology, worker pools), workers/ (producer and consumer
// threads and what they share), measure/ (metrics, verifier, figures),
// verdict/ (pass or fail) and report/ (the files).
export * from './scenario/index.js';
export type { RunResult, RunSummary, TimelineRow, PhaseSummary, LatencySummaryMs, BrokerFigures, FaultFigures, FaultKind } from './run-result.js';
export { runScenario, producerWorkers, defaultDataRoot, Progress, type RunOptions } from './run/index.js';
export * from './report/index.js';
