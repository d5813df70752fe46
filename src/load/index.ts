// Public door of load/: the one load generator of metaq, used by the scenario
// harness, the benchmarks and the replication tests. Open loop (messages due
// on a schedule, latency from the intended time), closed loop (a fixed number
// of sends in flight), the clock every thread shares, and the HDR latency
// histograms the results are recorded in, and the CPU time of a process or
// of one thread (CPU per message).
export { nowUs, sleep } from './clock.js';
export { ownThreadTid, processCpuUs, threadCpuUs } from './cpu-time.js';
export { runOpenLoop, constantRateSchedule, type OpenLoopSchedule, type OpenLoopOptions } from './open-loop.js';
export { startClosedLoop, type ClosedLoopOptions, type ClosedLoop } from './closed-loop.js';
export { createLatencyHistogram, createMergeHistogram, decodeHistogram, encodeHistogram, percentileMs } from './latency-histogram.js';
