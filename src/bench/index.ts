// Public door of the benchmarks: each returns a JSON-ready report.
export { runStoreBench, STORE_BENCH_DEFAULTS, type StoreBenchOptions } from './store-bench.js';
