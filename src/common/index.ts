// Public door of common/: typed errors and small helpers used across metaq.
export * from './errors.js';
export { stringHash, tagsCode } from './hash.js';
export { encodeMessageId, decodeMessageId, type MessageIdParts } from './message-id.js';
export { TWO_POW_32, readU64, writeU64, setU64, offsetFileName, isAllZero } from './bytes.js';
export * from './system-topics.js';
export { checkInteger } from './validate.js';
export { RefusalCounters } from './refusal-counters.js';
