// Door of commitlog/: the CommitLog (segments, staging buffer, positional
// writes, preallocation), its FlushService and the record scanner that the
// dispatcher and recovery share.
export { CommitLog, type CommitLogOptions } from './commit-log.js';
export { FlushService } from './flush-service.js';
export { scanLog } from './log-scanner.js';
export { SPARE_FILL_QUIET_MS } from './segment-preallocator.js';
