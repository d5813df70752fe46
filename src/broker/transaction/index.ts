// Transactional messages: half messages, their end (commit or rollback), the
// check back on a live producer of the group, the discard of unanswered ones.
export { TransactionService, type EndResult, type ReplicaOutcome, type TransactionServiceOptions, type TransactionStats, type TransactionTimings } from './transaction-service.js';
export { DISCARD_TOPIC, HALF_TOPIC, OP_TOPIC, CHECK_GROUP, isTransactionTopic, commitKey } from './transaction-topics.js';
