// The http room's door: the HTTP front of a run, where autocannon plays the
// users against the activity service (the load, its hooks, the rate plan)
// and the figures of its side of the run.
export { HttpLoad, type HttpLoadOptions, type HttpLoadResult } from './http-load.js';
export { connectionQuota, dueBySecond, BLOCKED_RATE } from './rate-plan.js';
export type { HttpInterval, HttpThreadDone } from './hook-config.js';
export { httpSummary, httpOutcome, type HttpSummaryInput } from './http-summary.js';
