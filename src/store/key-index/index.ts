// Door of key-index/: the hash index by key (topic#key -> CommitLog offsets)
// and the hashes the dispatcher computes straight from encoded properties.
export { KeyIndex } from './key-index.js';
export type { KeyScanBudget, KeyScanEnd } from './index-file.js';
export { keyHash, keyHashPrefix, keyHashesFromProperties, truncateHashes } from './key-hash.js';
