// Public door of harness/: the scenario model, one run of a scenario, and the
// report writers. The harness uses only the public client and broker APIs.
export * from './scenario.js';
export type { RunResult, RunSummary, TimelineRow, PhaseSummary, LatencySummaryMs, BrokerFigures } from './run-result.js';
export { runScenario, producerWorkers, type RunOptions } from './run-scenario.js';
export { loadScenario, listScenarios, checkScenario } from './scenarios.js';
export { defaultDataRoot } from './topology.js';
export { Progress } from './progress.js';
export * from './report/index.js';
