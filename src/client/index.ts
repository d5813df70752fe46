// Public door of client/: Producer, Consumer and the Admin/pull tool client.
export { Producer, hashSelector, isRetryableSendError, type Message, type SendResult, type SendStatus, type SendOptions, type ProducerOptions, type QueueSelector } from './producer.js';
export { Consumer, CONSUMER_DEFAULTS, type ConsumerOptions, type MessageHandler, type ConsumeResult, type ConsumeContext } from './consumer/index.js';
export { Admin, type AdminOptions, type KeyLookup, type OffsetReset, type ResetOptions, type ResetTarget, type PullResult, type PullOptions, type PullStatus, type BrokerStats, type NameServerStats } from './admin.js';
export { ReceivedMessage, splitRecords } from './received-message.js';
export { allocateAveragely } from './allocate.js';
export type { MessageQueue } from './topic-routes.js';
export { BATCHING_DEFAULTS, type BatchingOptions, type BatchFlushReason, type SendBatcherStats } from './send-batcher.js';
export { TransactionProducer, type TransactionProducerOptions, type TransactionSendResult, type TransactionSendOutcome, type TransactionInfo, type TransactionCheck, type TransactionChecker, type LocalTransaction, type LocalTransactionState } from './transaction-producer.js';
export type { ClientOptions } from './client-options.js';
// The send encoder the load generator fills in place (no object per message), and what it makes.
export { SendRequestBuilder, SendRequestTemplate } from '../protocol/index.js';
export type { Credential } from '../security/index.js';
