// The measure room's door: the coordinator's side of the measurements. It
// merges the workers' per-second reports (run metrics), checks the shared
// arrays for loss (verifier), adds everything up into the run's figures and
// says where the CPU went (per role, per message).
export { RunMetrics, type SecondFigures } from './run-metrics.js';
export { verify, type Verification } from './verifier.js';
export { summarize, type SummaryInput } from './summarize.js';
export { faultFigures, lostMessageTimes, UNAVAILABLE_BELOW, type FaultFiguresInput, type FaultOutcome } from './fault-figures.js';
export type { PhaseLatency, RunFigures, SummaryFigures } from './run-figures.js';
export { addSystemSeconds, brokerSecond, type BrokerReading, type SystemSample } from './system-seconds.js';
export { cpuFigures, cpuPerMessage, roleKind, type ActivitySnapshot, type CpuFiguresInput, type RoleActivity, type RoleKind } from './cpu-figures.js';
