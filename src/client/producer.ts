// The Producer: sends messages and batches to a topic's queues across its
// brokers, round-robin by default or by a selector (ordered messages), with
// many sends in flight, a timeout per send and retries on another queue for
// failures that are safe to retry (never for ordered sends).
import { ClientStateError, ConnectError, ConnectionClosedError, InvalidConfigError, InvalidDelayError, InvalidMessageError, PROPERTY_TIMER_DELAY_MS, PROPERTY_TIMER_DELIVER_MS, MasterBehindSlaveError, MetaqError, NoRouteError, RequestTimeoutError, ServiceUnavailableError, StoreUnavailableError, UnknownQueueError, UnknownTopicError, stringHash } from '../common/index.js';
import { SendRequestTemplate, type WireMessage } from '../protocol/index.js';
import { BrokerApi, type SendStatus } from './broker-api.js';
import { CLIENT_DEFAULTS, clientTls, credentialOption, namesrvList, positiveOption, type ClientOptions } from './client-options.js';
import { ConnectionPool } from './connection-pool.js';
import { resolveBatching, SendBatcher, type BatchingOptions, type SendBatcherStats } from './send-batcher.js';
import { SendResultImpl, type SendResult } from './send-result.js';
import { TopicRoutes, type MessageQueue } from './topic-routes.js';

export interface Message {
  /** The payload; a string is sent as UTF-8. */
  body: Uint8Array | string;
  /** One tag, for filtering by consumers. */
  tags?: string;
  /** Business keys, indexed by the broker for query by key. */
  keys?: string | readonly string[];
  properties?: Readonly<Record<string, string>>;
  flag?: number;
}

export type { SendStatus, SendResult };

export type QueueSelector = (queues: readonly MessageQueue[]) => MessageQueue;

export interface SendOptions {
  /** Picks the queue; ordered sends use one and are not retried. */
  selector?: QueueSelector;
  /** Shorthand for a selector hashing this key: same key, same queue, in order. */
  shardingKey?: string;
  timeoutMs?: number;
  /**
   * Delayed message (README, "Delayed messages"): stored at once, visible to
   * consumers this many ms after the broker stored it (a non-negative
   * integer, at most the broker's maxDelayMs), never before. Sets the
   * TIMER_DELAY_MS property of every message of the send.
   */
  delayMs?: number;
  /** Delayed message: visible at this time (ms since the epoch, the broker's clock; a past time means now). Sets TIMER_DELIVER_MS. */
  deliverAt?: number;
}

/** The messages with the delay `options` asks for in their properties (the same messages if none). */
function withDelay<M extends Message>(messages: readonly M[], options: SendOptions): readonly M[] {
  const { delayMs, deliverAt } = options;
  if (delayMs === undefined && deliverAt === undefined) return messages;
  if (delayMs !== undefined && deliverAt !== undefined) throw new InvalidDelayError('give delayMs or deliverAt, not both');
  const [name, value] = delayMs !== undefined ? [PROPERTY_TIMER_DELAY_MS, delayMs] : [PROPERTY_TIMER_DELIVER_MS, deliverAt!];
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidDelayError(`${delayMs !== undefined ? 'delayMs' : 'deliverAt'} must be a non-negative integer (ms), got ${String(value)}`);
  return messages.map((m) => ({ ...m, properties: { ...m.properties, [name]: String(value) } }));
}

export interface ProducerOptions extends ClientOptions {
  /** Extra attempts on another queue after a retryable failure. Default 2. */
  retries?: number;
  /**
   * Coalesce single-message sends made close together into one request per
   * queue (README, "Send batching"). Off when absent; `{}` turns it on with
   * the defaults. Explicit batches (an array) are sent as they are.
   */
  batching?: BatchingOptions;
}

/** Every key ProducerOptions has: any other is a typo, refused (a misspelt `batching` would silently leave batching off). */
const PRODUCER_OPTION_KEYS = new Set(['namesrv', 'requestTimeoutMs', 'routeRefreshMs', 'clientId', 'tls', 'credential', 'retries', 'batching']);

/** Failures after which another queue (another broker) may well succeed: the producer retries them. */
export function isRetryableSendError(err: unknown): boolean {
  return (
    err instanceof ConnectError ||
    err instanceof ConnectionClosedError ||
    err instanceof RequestTimeoutError ||
    err instanceof ServiceUnavailableError ||
    err instanceof StoreUnavailableError ||
    err instanceof MasterBehindSlaveError ||
    err instanceof UnknownTopicError ||
    err instanceof UnknownQueueError
  );
}

export function hashSelector(key: string): QueueSelector {
  const h = stringHash(key);
  return (queues) => queues[Math.abs(h) % queues.length]!;
}

export class Producer {
  readonly #pool: ConnectionPool;
  readonly #api: BrokerApi;
  readonly #routes: TopicRoutes;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #counters = new Map<string, number>();
  readonly #batcher: SendBatcher | undefined;
  #closed = false;

  constructor(options: ProducerOptions) {
    for (const k of Object.keys(options)) {
      if (!PRODUCER_OPTION_KEYS.has(k)) throw new InvalidConfigError(`unknown producer option ${JSON.stringify(k)} (known: ${[...PRODUCER_OPTION_KEYS].join(', ')})`);
    }
    const batching = options.batching === undefined ? undefined : resolveBatching(options.batching);
    const namesrv = namesrvList(options.namesrv);
    this.#timeoutMs = positiveOption('requestTimeoutMs', options.requestTimeoutMs, CLIENT_DEFAULTS.requestTimeoutMs);
    this.#retries = positiveOption('retries', options.retries, 2, 0);
    this.#pool = new ConnectionPool(undefined, clientTls(options.tls), credentialOption(options.credential));
    this.#api = new BrokerApi(this.#pool, this.#timeoutMs);
    this.#routes = new TopicRoutes(this.#api, namesrv, positiveOption('routeRefreshMs', options.routeRefreshMs, CLIENT_DEFAULTS.routeRefreshMs));
    if (batching !== undefined) {
      this.#batcher = new SendBatcher(batching, {
        cachedQueues: (topic) => {
          const q = this.#routes.cachedQueues(topic);
          return q === undefined ? undefined : writableQueues(q);
        },
        queues: (topic) => this.queues(topic),
        roundRobin: (topic, queues) => this.#roundRobin(topic, queues, undefined),
        sendBatch: (topic, mq, messages, retry, timeoutMs) => this.#attempts(topic, new SendRequestTemplate(topic, messages), retry ? undefined : () => mq, timeoutMs, mq),
      }, this.#timeoutMs);
    }
  }

  /**
   * Sends one message, or a batch (all to one queue, consecutive offsets).
   * With `batching` on, one message waits (up to lingerMs) to share a request
   * with others to its queue; its result is its own.
   */
  send(topic: string, messages: Message | readonly Message[], options: SendOptions = {}): Promise<SendResult> {
    if (options.delayMs !== undefined || options.deliverAt !== undefined) {
      // Not through the batcher: the broker takes a batch delayed as a whole, or not delayed at all.
      try {
        return this.#send(topic, Array.isArray(messages) ? withDelay(messages as readonly Message[], options) : withDelay([messages as Message], options)[0]!, options);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.#batcher !== undefined && !Array.isArray(messages)) return this.#batcher.send(topic, messages as Message, options);
    return this.#send(topic, messages, options);
  }

  /** Sends what waits in open batches now; resolves once every batch sent so far is answered (before shutdown, say). */
  async flush(): Promise<void> {
    await this.#batcher?.flush();
  }

  /** Batches sent, the messages in them, and messages waiting now (undefined without batching). */
  batchingStats(): SendBatcherStats | undefined {
    return this.#batcher?.stats();
  }

  async #send(topic: string, messages: Message | readonly Message[], options: SendOptions): Promise<SendResult> {
    if (this.#closed) throw new ClientStateError('producer is shut down');
    const batch = Array.isArray(messages) ? (messages as readonly Message[]) : [messages as Message];
    if (batch.length === 0) throw new InvalidMessageError('a batch needs at least one message');
    const body = new SendRequestTemplate(topic, toWireBatch(batch));
    const selector = options.selector ?? (options.shardingKey !== undefined ? hashSelector(options.shardingKey) : undefined);
    return this.#attempts(topic, body, selector, options.timeoutMs ?? this.#timeoutMs);
  }

  /**
   * Sends an encoded batch: to `first` if given, else to the queue the
   * selector or the round robin picks; a plain send (no selector) is retried
   * on another broker's queue after a retryable failure, an ordered one is not.
   */
  async #attempts(topic: string, body: SendRequestTemplate, selector: QueueSelector | undefined, timeoutMs: number, first?: MessageQueue): Promise<SendResultImpl> {
    const attempts = selector === undefined ? this.#retries + 1 : 1;
    let lastError: unknown;
    let avoid: string | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let mq: MessageQueue;
      if (attempt === 0 && first !== undefined) mq = first;
      else {
        const queues = writableQueues(await this.#routes.queues(topic));
        if (queues.length === 0) throw new NoRouteError(`no queue of topic ${JSON.stringify(topic)} is served`);
        mq = selector !== undefined ? selector(queues) : this.#roundRobin(topic, queues, avoid);
      }
      try {
        return await this.#sendTo(mq, body, timeoutMs);
      } catch (err) {
        lastError = err;
        if (!isRetryableSendError(err)) throw err;
        avoid = mq.brokerName;
        this.#routes.refreshSoon(topic);
      }
    }
    throw lastError instanceof MetaqError ? lastError : new ServiceUnavailableError('send failed', { cause: lastError });
  }

  /** The writable queues of a topic as routed now (for selectors, tools and tests). */
  async queues(topic: string): Promise<MessageQueue[]> {
    return writableQueues(await this.#routes.queues(topic));
  }

  /** The writable queues of a topic as the name servers route it now (fetched afresh; the cached route when none answers). */
  async refreshQueues(topic: string): Promise<MessageQueue[]> {
    return writableQueues(await this.#routes.refresh(topic));
  }

  /** Sends straight to one queue, no retry (tools, benchmarks). */
  sendToQueue(mq: MessageQueue, messages: readonly Message[], timeoutMs = this.#timeoutMs): Promise<SendResult> {
    if (this.#closed) return Promise.reject(new ClientStateError('producer is shut down'));
    let body: SendRequestTemplate;
    try {
      body = new SendRequestTemplate(mq.topic, toWireBatch(messages));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sendTo(mq, body, timeoutMs);
  }

  /**
   * Sends a request already encoded (a SendRequestBuilder's, say) straight to
   * one queue, no retry; the template may be sent again on failure (a copy
   * goes out if the first bytes may still be queued).
   */
  sendTemplateToQueue(mq: MessageQueue, template: SendRequestTemplate, timeoutMs = this.#timeoutMs): Promise<SendResult> {
    if (this.#closed) return Promise.reject(new ClientStateError('producer is shut down'));
    return this.#sendTo(mq, template, timeoutMs);
  }

  /** Closes the connections; messages still waiting in open batches fail with a ClientStateError (not sent): await flush() first to send them. */
  shutdown(): void {
    this.#closed = true;
    this.#batcher?.close();
    this.#routes.close();
    this.#pool.close();
  }

  #roundRobin(topic: string, queues: readonly MessageQueue[], avoidBroker: string | undefined): MessageQueue {
    let n = this.#counters.get(topic) ?? 0;
    let mq = queues[n % queues.length]!;
    if (avoidBroker !== undefined) {
      for (let i = 0; i < queues.length && mq.brokerName === avoidBroker; i++) mq = queues[++n % queues.length]!;
    }
    this.#counters.set(topic, n + 1);
    return mq;
  }

  async #sendTo(mq: MessageQueue, template: SendRequestTemplate, timeoutMs: number): Promise<SendResultImpl> {
    const r = await this.#api.send(mq.addr, template, mq.queueId, timeoutMs);
    return new SendResultImpl(r.status, mq.topic, mq.brokerName, r.queueId, r.queueOffset, r.count, r.storeTimestamp, mq.addr, r.physicalOffsets);
  }
}

/** Queues on a live master (a broker whose master is gone is readable only). */
function writableQueues(queues: MessageQueue[]): MessageQueue[] {
  return queues.every((q) => q.writable !== false) ? queues : queues.filter((q) => q.writable !== false);
}

/** Messages as the encoder takes them: the same objects unless a body is a string (no copy per message). */
function toWireBatch(batch: readonly Message[]): readonly WireMessage[] {
  let strings = false;
  for (const m of batch) {
    if (m === null || typeof m !== 'object') throw new InvalidMessageError('a message must be an object with a body');
    if (typeof m.body === 'string') strings = true;
    else if (!(m.body instanceof Uint8Array)) throw new InvalidMessageError('message body must be a string or a Uint8Array');
  }
  return strings ? batch.map(toWire) : (batch as readonly WireMessage[]);
}

function toWire(m: Message): WireMessage {
  if (m === null || typeof m !== 'object') throw new InvalidMessageError('a message must be an object with a body');
  const body = typeof m.body === 'string' ? Buffer.from(m.body, 'utf8') : m.body;
  if (!(body instanceof Uint8Array)) throw new InvalidMessageError('message body must be a string or a Uint8Array');
  return { body, tags: m.tags, keys: m.keys, properties: m.properties, flag: m.flag, bornTimestamp: Date.now() };
}
