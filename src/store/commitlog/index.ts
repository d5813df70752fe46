// Door of commitlog/: the CommitLog (segments, staging buffer, positional
// writes, preallocation), its FlushService (and how long its fdatasyncs
// take) and the record scanner that the dispatcher and recovery share.
export { CommitLog, type CommitLogOptions } from './commit-log.js';
export { FlushService } from './flush-service.js';
export { SyncLatency, SYNC_LATENCY_BOUNDS_US, syncLatencyQuantileUs, type SyncLatencyStats } from './sync-latency.js';
export { scanLog } from './log-scanner.js';
export { SPARE_FILL_QUIET_MS } from './segment-preallocator.js';
