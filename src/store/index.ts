// Public door of the message store: open a MessageStore on a directory; the
// record codec is exported for the wire layer and tools that read raw records.
export { MessageStore, type StoreStats, type DurableImage } from './message-store.js';
export { STORE_DEFAULTS, resolveStoreConfig, type MessageStoreConfig } from './store-config.js';
export type { StoreMessage, PutResult, GetResult, GetStatus, FlushMode, ArrivalListener, LogChunk } from './types.js';
export { decodeRecord, decodeRecords, type DecodedMessage, RECORD_OVERHEAD } from '../message/index.js';
export { MAX_QUEUES_PER_TOPIC, validateQueueCount, validateTopicName } from './topic-table.js';
