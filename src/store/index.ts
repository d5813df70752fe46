// Public door of the message store: open a MessageStore on a directory; HA
// works on its ReplicaLog; fault injection reads a killed store's sync record
// and cuts its directory as a power cut would; how long its fdatasyncs take
// (buckets, and a percentile of them). The decoded-message shape its reads return comes
// from message/.
export { MessageStore } from './message-store.js';
export { readSyncRecord, type DurableImage } from './sync-record.js';
export { cutToDurableImage, type PowerCutStats } from './power-cut.js';
export type { QueueStart, ReplicaLog } from './replica-log.js';
export { STORE_DEFAULTS, resolveStoreConfig, type MessageStoreConfig } from './store-config.js';
export type { StoreMessage, PutResult, GetResult, GetStatus, FlushMode, ArrivalListener, LogChunk, StoreStats, KeyQueryResult, KeyLookupStats } from './types.js';
export { decodeRecord, decodeRecords, type DecodedMessage, RECORD_OVERHEAD } from '../message/index.js';
export { MAX_QUEUES_PER_TOPIC, validateQueueCount, validateTopicName } from './topic-table.js';
export { SYNC_LATENCY_BOUNDS_US, syncLatencyQuantileUs, type SyncLatencyStats } from './commitlog/index.js';
