// The broker's own topics and properties for transactional messages
// (RocketMQ's names): half messages wait in the half topic, every end of a
// transaction and every check is an op record, and half messages never
// answered end in the discard topic. None is registered with the name
// servers, and producers may not send to them.

/** Half messages: stored at once, seen by no consumer until committed. One queue. */
export const HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** Op records: one per commit, rollback, discard and check of a half message. One queue. */
export const OP_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
/** Half messages checked transactionCheckMax times without an answer. One queue. */
export const DISCARD_TOPIC = 'TRANS_CHECK_MAX_TIME_TOPIC';
/** The check service's progress through the half and op topics (an internal group: clients cannot write it). */
export const CHECK_GROUP = '%TRANS_CHECK%';

/** On half messages: where the committed message goes, and which producer group may end or answer for it. */
export const PROPERTY_TRANSACTION_TOPIC = 'REAL_TOPIC';
export const PROPERTY_TRANSACTION_QUEUE_ID = 'REAL_QID';
export const PROPERTY_PRODUCER_GROUP = 'PGROUP';

/** The properties the broker adds to a half message: a producer may not set them. */
export const RESERVED_PROPERTIES: readonly string[] = [PROPERTY_TRANSACTION_TOPIC, PROPERTY_TRANSACTION_QUEUE_ID, PROPERTY_PRODUCER_GROUP];

const SYSTEM_TOPICS = new Set([HALF_TOPIC, OP_TOPIC, DISCARD_TOPIC]);

/** One of the transaction service's own topics. */
export function isTransactionTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic);
}

/**
 * The key a committed message carries: after a crash between writing the
 * committed message and its op record, the key index says the half message
 * was committed, so it is never committed twice.
 */
export function commitKey(halfPhysicalOffset: number): string {
  return `%TXN%${halfPhysicalOffset}`;
}
