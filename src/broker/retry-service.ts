// Re-delivery of messages a consumer failed to process (RocketMQ's design).
// SEND_BACK stores a copy in SCHEDULE_TOPIC, in the queue of its delay level;
// one loop per level moves due messages to the group's retry topic, which the
// group consumes alongside its topics. After maxReconsumeTimes re-deliveries a
// message goes to the group's dead-letter topic instead. Progress of each
// level is a consumer offset, so scheduled messages survive a restart.
import { InvalidRequestError, NotFoundError, encodeMessageId, deadLetterTopic, GROUP_NAME_PATTERN, PROPERTY_DELAY_LEVEL, PROPERTY_ORIGIN_MESSAGE_ID, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC, PROPERTY_RETRY_TOPIC, retryTopic, SCHEDULE_GROUP, SCHEDULE_TOPIC } from '../common/index.js';
import type { SendBackRequest } from '../protocol/index.js';
import { decodeRecords, type DecodedMessage, type MessageStore, type StoreMessage } from '../store/index.js';
import type { ConsumerOffsets } from './consumer-offsets.js';

const SCAN_BATCH = 64;
const SCAN_BYTES = 1024 * 1024;
/** After a failed move (store full, closing), try again later rather than spin. */
const RETRY_AFTER_ERROR_MS = 1000;

export interface RetryServiceOptions {
  store: MessageStore;
  offsets: ConsumerOffsets;
  delaysMs: readonly number[];
  maxReconsumeTimes: number;
  queueCount: number;
  storeHost: string;
  storePort: number;
  onError: (err: unknown) => void;
  /** Creates `group`'s retry or dead-letter topic (through the broker's limits); resolves once it is durable. */
  createTopic: (topic: string, queueCount: number, group: string) => Promise<void>;
}

export class RetryService {
  readonly #o: RetryServiceOptions;
  readonly #timers: (NodeJS.Timeout | undefined)[];
  readonly #running: boolean[];
  #closed = false;
  #unsubscribe: () => void;
  /** Counters for stats. */
  retried = 0;
  deadLettered = 0;

  constructor(o: RetryServiceOptions) {
    this.#o = o;
    if (o.store.queueCount(SCHEDULE_TOPIC) === undefined) o.store.createTopic(SCHEDULE_TOPIC, o.delaysMs.length);
    const levels = o.store.queueCount(SCHEDULE_TOPIC)!;
    this.#timers = new Array(levels).fill(undefined);
    this.#running = new Array(levels).fill(false);
    this.#unsubscribe = o.store.onArrival((topic, queueId) => {
      if (topic === SCHEDULE_TOPIC && this.#timers[queueId] === undefined) this.#kick(queueId);
    });
    for (let level = 0; level < levels; level++) this.#kick(level);
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
    const level = Math.min(reconsumeTimes, this.#timers.length) - 1;
    props[PROPERTY_REAL_TOPIC] = retryTopic(req.group);
    props[PROPERTY_REAL_QUEUE_ID] = String(req.physicalOffset % this.#o.queueCount);
    props[PROPERTY_DELAY_LEVEL] = String(level + 1);
    await store.put(SCHEDULE_TOPIC, level, [this.#copy(m, props, reconsumeTimes)]);
    this.retried++;
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const t of this.#timers) if (t !== undefined) clearTimeout(t);
  }

  async #ensureTopic(topic: string, group: string): Promise<void> {
    if (this.#o.store.queueCount(topic) === undefined) await this.#o.createTopic(topic, this.#o.queueCount, group);
  }

  /** The original's user properties plus where it came from; store-managed ones dropped. */
  #carriedProperties(m: DecodedMessage): Record<string, string> {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.properties)) {
      if (k === 'TAGS' || k === 'KEYS' || k === PROPERTY_REAL_TOPIC || k === PROPERTY_REAL_QUEUE_ID || k === PROPERTY_DELAY_LEVEL) continue;
      props[k] = v;
    }
    props[PROPERTY_RETRY_TOPIC] ??= m.topic;
    props[PROPERTY_ORIGIN_MESSAGE_ID] ??= encodeMessageId(this.#o.storeHost, this.#o.storePort, m.physicalOffset);
    return props;
  }

  #copy(m: DecodedMessage, properties: Record<string, string>, reconsumeTimes: number): StoreMessage {
    return { body: m.body, tags: m.tags, keys: m.keys, properties, flag: m.flag, bornTimestamp: m.bornTimestamp, reconsumeTimes };
  }

  #kick(level: number): void {
    if (this.#closed || this.#running[level]) return;
    this.#running[level] = true;
    this.#timers[level] = undefined;
    this.#deliverDue(level).then(
      (waitMs) => {
        this.#running[level] = false;
        if (waitMs !== undefined && !this.#closed) this.#timers[level] = setTimeout(() => this.#kick(level), waitMs);
      },
      (err: unknown) => {
        this.#running[level] = false;
        if (this.#closed) return;
        this.#o.onError(err);
        this.#timers[level] = setTimeout(() => this.#kick(level), RETRY_AFTER_ERROR_MS);
      },
    );
  }

  /** Moves every due message of a level; returns how long until the next is due (undefined: none waiting). */
  async #deliverDue(level: number): Promise<number | undefined> {
    const { store, offsets } = this.#o;
    const delay = this.#o.delaysMs[Math.min(level, this.#o.delaysMs.length - 1)]!;
    for (;;) {
      if (this.#closed) return undefined;
      const offset = offsets.get(SCHEDULE_GROUP, SCHEDULE_TOPIC, level) ?? store.minOffset(SCHEDULE_TOPIC, level);
      const got = store.getMessages(SCHEDULE_TOPIC, level, offset, SCAN_BATCH, SCAN_BYTES);
      if (got.status === 'OFFSET_MOVED') {
        offsets.reset(SCHEDULE_GROUP, SCHEDULE_TOPIC, level, got.nextOffset);
        continue;
      }
      if (got.status !== 'FOUND') return undefined;
      const now = Date.now();
      let next = offset;
      for (const m of decodeRecords(got.records)) {
        const due = m.storeTimestamp + delay;
        if (due > now) {
          offsets.commit(SCHEDULE_GROUP, SCHEDULE_TOPIC, level, next);
          return due - now;
        }
        const topic = m.properties[PROPERTY_REAL_TOPIC];
        const queueId = Number(m.properties[PROPERTY_REAL_QUEUE_ID] ?? 0);
        if (topic !== undefined && store.queueCount(topic) !== undefined) {
          const props = this.#carriedProperties(m);
          await store.put(topic, queueId % store.queueCount(topic)!, [this.#copy(m, props, m.reconsumeTimes)]);
        }
        next = m.queueOffset + 1;
      }
      offsets.commit(SCHEDULE_GROUP, SCHEDULE_TOPIC, level, next);
    }
  }
}
