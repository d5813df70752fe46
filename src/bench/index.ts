// Public door of the benchmarks: each returns a JSON-ready report.
export { runStoreBench, STORE_BENCH_DEFAULTS, type StoreBenchOptions } from './store-bench.js';
export { runStoreRateBench, type StoreRateBenchOptions } from './store-rate-bench.js';
export { runE2eBench, E2E_BENCH_DEFAULTS, type E2eBenchOptions } from './e2e-bench.js';
export { runHaBench, HA_BENCH_DEFAULTS, HA_BENCH_MODES, type HaBenchOptions, type HaBenchMode } from './ha-bench.js';
export { makeSelfSignedCert, type SelfSignedCert } from './self-signed-cert.js';
export { runBatchingBench, BATCHING_BENCH_DEFAULTS, type BatchingBenchOptions } from './batching-bench.js';
export { runActivityBench, ACTIVITY_BENCH_DEFAULTS, type ActivityBenchOptions, type ActivityBenchMode, type ActivityBenchTarget } from './activity-bench.js';
