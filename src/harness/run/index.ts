// The run room's door: one run of a scenario, step by step, with the
// topology it boots, the worker pools it drives and its live view on stderr.
export { runScenario } from './run-scenario.js';
export { producerWorkers, type RunOptions } from './run-context.js';
export { defaultDataRoot } from './topology.js';
export { Progress } from './progress.js';
