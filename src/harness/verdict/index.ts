// The verdict room's door: pass or fail of a run, judged from its figures
// and the scenario's thresholds, apart from running it.
export { judgeRun, GENERATOR_LAG_WARN_MS, type RunVerdict } from './judge.js';
