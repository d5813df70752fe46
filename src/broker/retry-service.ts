// Re-delivery of messages a consumer failed to process (RocketMQ's design).
// SEND_BACK hands a copy to the broker's timer (timer/), due after the delay
// of its attempt (retryDelaysMs); when due, the timer puts it in the group's
// retry topic, which the group consumes alongside its topics. After
// maxReconsumeTimes re-deliveries a message goes to the group's dead-letter
// topic instead. The timer's records and checkpoint make scheduled
// re-deliveries survive a restart.
import { InvalidRequestError, NotFoundError, encodeMessageId, deadLetterTopic, GROUP_NAME_PATTERN, PROPERTY_DELAY_LEVEL, PROPERTY_ORIGIN_MESSAGE_ID, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC, PROPERTY_RETRY_TOPIC, PROPERTY_TIMER_DELIVER_MS, PROPERTY_TIMER_OFFSET, retryTopic } from '../common/index.js';
import type { SendBackRequest } from '../protocol/index.js';
import type { DecodedMessage, MessageStore, StoreMessage } from '../store/index.js';
import type { TimerService } from './timer/index.js';

export interface RetryServiceOptions {
  store: MessageStore;
  timer: TimerService;
  delaysMs: readonly number[];
  maxReconsumeTimes: number;
  queueCount: number;
  storeHost: string;
  storePort: number;
  /** Creates `group`'s retry or dead-letter topic (through the broker's limits); resolves once it is durable. */
  createTopic: (topic: string, queueCount: number, group: string) => Promise<void>;
}

export class RetryService {
  readonly #o: RetryServiceOptions;
  /** Counters for stats. */
  retried = 0;
  deadLettered = 0;

  constructor(o: RetryServiceOptions) {
    this.#o = o;
  }

  /** Handles a SEND_BACK: schedules a retry, or dead-letters. */
  async sendBack(req: SendBackRequest): Promise<void> {
    if (!GROUP_NAME_PATTERN.test(req.group)) throw new InvalidRequestError(`invalid group name ${JSON.stringify(req.group)}`);
    const { store } = this.#o;
    const m = store.getMessageByOffset(req.physicalOffset);
    if (m === undefined) throw new NotFoundError(`no message at physical offset ${req.physicalOffset}`);
    const reconsumeTimes = m.reconsumeTimes + 1;
    const max = Math.min(req.maxReconsumeTimes, this.#o.maxReconsumeTimes);
    const props = this.#carriedProperties(m);
    if (req.toDeadLetter || reconsumeTimes > max) {
      const dlq = deadLetterTopic(req.group);
      await this.#ensureTopic(dlq, req.group);
      await store.put(dlq, 0, [this.#copy(m, props, reconsumeTimes)]);
      this.deadLettered++;
      return;
    }
    await this.#ensureTopic(retryTopic(req.group), req.group);
    const attempt = Math.min(reconsumeTimes, this.#o.delaysMs.length) - 1;
    await this.#o.timer.scheduleIn(retryTopic(req.group), req.physicalOffset % this.#o.queueCount, this.#copy(m, props, reconsumeTimes), this.#o.delaysMs[attempt]!);
    this.retried++;
  }

  async #ensureTopic(topic: string, group: string): Promise<void> {
    if (this.#o.store.queueCount(topic) === undefined) await this.#o.createTopic(topic, this.#o.queueCount, group);
  }

  /** The original's user properties plus where it came from; store-managed ones dropped. */
  #carriedProperties(m: DecodedMessage): Record<string, string> {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.properties)) {
      if (k === 'TAGS' || k === 'KEYS' || k === PROPERTY_REAL_TOPIC || k === PROPERTY_REAL_QUEUE_ID || k === PROPERTY_DELAY_LEVEL || k === PROPERTY_TIMER_DELIVER_MS || k === PROPERTY_TIMER_OFFSET) continue;
      props[k] = v;
    }
    props[PROPERTY_RETRY_TOPIC] ??= m.topic;
    props[PROPERTY_ORIGIN_MESSAGE_ID] ??= encodeMessageId(this.#o.storeHost, this.#o.storePort, m.physicalOffset);
    return props;
  }

  #copy(m: DecodedMessage, properties: Record<string, string>, reconsumeTimes: number): StoreMessage {
    return { body: m.body, tags: m.tags, keys: m.keys, properties, flag: m.flag, bornTimestamp: m.bornTimestamp, reconsumeTimes };
  }
}
