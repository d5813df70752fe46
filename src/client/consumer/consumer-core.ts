// What the consumer's parts share: its resolved options, the broker API,
// the routes, the subscriptions, the queues it owns now, whether it is
// running, and where recovered errors are noted. The Consumer builds one and
// hands it to each part.
import type { BrokerApi } from '../broker-api.js';
import type { TopicRoutes } from '../topic-routes.js';
import type { ResolvedConsumerOptions } from './consumer-options.js';
import type { ProcessQueue } from './process-queue.js';
import type { Subscription } from './subscription.js';

export interface ConsumerCore {
  readonly o: ResolvedConsumerOptions;
  readonly api: BrokerApi;
  readonly routes: TopicRoutes;
  /** By topic. */
  readonly subs: Map<string, Subscription>;
  /** Owned queues by queueKey. */
  readonly queues: Map<string, ProcessQueue>;
  running(): boolean;
  /** Keeps an error the consumer recovered from (Consumer.errors). */
  note(err: unknown): void;
}

/** A queue's key in ConsumerCore.queues. */
export function queueKey(mq: { topic: string; queueId: number; brokerName?: string }): string {
  return `${mq.brokerName ?? ''}/${mq.topic}/${mq.queueId}`;
}
