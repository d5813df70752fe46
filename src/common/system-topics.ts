// Names the broker and clients agree on for retries and dead letters, and the
// message properties that carry a re-delivered message's origin.

/** A group's re-deliveries come back through this topic (the group subscribes to it). */
export const RETRY_TOPIC_PREFIX = '%RETRY%';
/** Messages that failed more than maxReconsumeTimes end here. */
export const DLQ_TOPIC_PREFIX = '%DLQ%';
/** Legacy: where the retry service of older brokers kept re-deliveries, one queue per delay level (no longer written). */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
/** Internal: every delayed message (public delayed sends and re-deliveries) waits here, in one queue, in send order (broker/timer/). */
export const TIMER_TOPIC = '%TIMER%';

/** The topic a retried message was first sent to (clients show it as the topic). */
export const PROPERTY_RETRY_TOPIC = 'RETRY_TOPIC';
/** The id of the original message, kept across retries and in the dead-letter topic. */
export const PROPERTY_ORIGIN_MESSAGE_ID = 'ORIGIN_MESSAGE_ID';
/** Internal, on scheduled messages: where to deliver them when due. */
export const PROPERTY_REAL_TOPIC = 'REAL_TOPIC';
export const PROPERTY_REAL_QUEUE_ID = 'REAL_QID';
export const PROPERTY_DELAY_LEVEL = 'DELAY';
/** On a SEND: deliver this many ms after the broker stores the message (a non-negative integer, at most the broker's maxDelayMs). */
export const PROPERTY_TIMER_DELAY_MS = 'TIMER_DELAY_MS';
/** On a SEND: deliver at this time (ms since the epoch, the broker's clock); on a waiting message: when it is due. */
export const PROPERTY_TIMER_DELIVER_MS = 'TIMER_DELIVER_MS';
/** Broker-set, on a delivered delayed message: its position in TIMER_TOPIC (how recovery knows it was delivered). Stripped from what clients send. */
export const PROPERTY_TIMER_OFFSET = 'TIMER_OFFSET';

/**
 * Groups whose names start with this are the broker's own (their offsets are
 * its bookkeeping): clients may read them but never commit, reset or join them.
 */
export const INTERNAL_GROUP_PREFIX = '%';
/** The retry service's progress through each delay level of SCHEDULE_TOPIC. */
export const SCHEDULE_GROUP = '%SCHEDULE%';

/** Consumer group names: they become part of topic names, so the same alphabet. */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

export function retryTopic(group: string): string {
  return RETRY_TOPIC_PREFIX + group;
}

export function deadLetterTopic(group: string): string {
  return DLQ_TOPIC_PREFIX + group;
}

export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(RETRY_TOPIC_PREFIX);
}

export function isInternalGroup(group: string): boolean {
  return group.startsWith(INTERNAL_GROUP_PREFIX);
}
