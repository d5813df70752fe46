// Send batching (the producer's `batching` option): single-message sends made
// close together are coalesced, per target queue, into one SEND request of
// many messages, as Kafka's linger.ms / batch.size do. Each message picks its
// queue when it is sent, exactly as an unbatched send would (round robin, or
// its selector / sharding key); it then waits in that queue's open batch,
// which goes out when it holds `maxMessages`, reaches `maxBytes`, or its
// first message has waited `lingerMs` (one timer per open batch; lingerMs 0,
// the default: at the end of the event-loop turn it was opened in). Keyed
// (ordered) and plain messages wait in separate batches: a plain batch is
// retried on another queue as a plain send is, an ordered one is not. Every
// caller gets the batch's outcome for its own message: its own id and queue
// offset, or the batch's error. A batch refused for one bad message (the
// broker validates a batch as a whole and stores none of it) is re-sent one
// message at a time, so only the bad message fails.
import { ClientStateError, InvalidConfigError, InvalidMessageError, MalformedFrameError, MessageTooLargeError, NoRouteError, checkInteger, stringHash } from '../common/index.js';
import type { WireMessage } from '../protocol/index.js';
import type { SendResultImpl } from './send-result.js';
import type { MessageQueue } from './topic-routes.js';

export interface BatchingOptions {
  /**
   * How long the first message of a batch may wait for more. 0 (the
   * default): until the end of the current event-loop turn, so a batch holds
   * what was sent during one turn (one setImmediate per batch) and no timer
   * delays it; 1-5 ms make larger batches when each turn sends only a few.
   */
  lingerMs?: number;
  /** A batch is sent once it holds this many messages. Default 128. */
  maxMessages?: number;
  /** A batch is sent once its messages reach this many bytes (as encoded, near enough); a message this large goes alone. Default 256 KiB. */
  maxBytes?: number;
  /**
   * Plain messages (no selector, no sharding key) join the topic's open
   * plain batch, whatever its queue, instead of each taking the next queue of
   * the round robin: one batch per topic per linger instead of one per queue
   * (Kafka's sticky partitioner). The round robin then moves on per batch,
   * so the queues still share the load. Default false.
   */
  sticky?: boolean;
  /** Called as each batch goes out: its message count, bytes, and what sent it (for metrics). */
  onBatch?: (messages: number, bytes: number, reason: BatchFlushReason) => void;
}

/** What sent a batch: full by count, full by bytes, its linger elapsed, flush()/timeout change, or a message too large to share a batch. */
export type BatchFlushReason = 'messages' | 'bytes' | 'linger' | 'flush' | 'alone';

export const BATCHING_DEFAULTS = { lingerMs: 0, maxMessages: 128, maxBytes: 256 * 1024, sticky: false } as const;
/** A longer wait is a misconfiguration, not batching: the request timeout is of the order of seconds. */
export const MAX_LINGER_MS = 1000;
export const MAX_BATCH_MESSAGES = 65_535;
/** Well below the default frame limit (16 MiB): a batch must fit one frame. */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const BATCHING_KEYS = new Set(['lingerMs', 'maxMessages', 'maxBytes', 'sticky', 'onBatch']);

export interface ResolvedBatching {
  lingerMs: number;
  maxMessages: number;
  maxBytes: number;
  sticky: boolean;
  onBatch: ((messages: number, bytes: number, reason: BatchFlushReason) => void) | undefined;
}

/** The batching option checked, defaults filled in; an unknown key or a bad value is an InvalidConfigError naming it. */
export function resolveBatching(o: unknown): ResolvedBatching {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InvalidConfigError(`batching must be an object ({ lingerMs, maxMessages, maxBytes }), got ${JSON.stringify(o)}`);
  for (const k of Object.keys(o)) {
    if (!BATCHING_KEYS.has(k)) throw new InvalidConfigError(`batching: unknown key ${JSON.stringify(k)} (known: ${[...BATCHING_KEYS].join(', ')})`);
  }
  const b = o as BatchingOptions;
  if (b.onBatch !== undefined && typeof b.onBatch !== 'function') throw new InvalidConfigError('batching.onBatch must be a function');
  if (b.sticky !== undefined && typeof b.sticky !== 'boolean') throw new InvalidConfigError(`batching.sticky must be a boolean, got ${JSON.stringify(b.sticky)}`);
  return {
    lingerMs: checkInteger('batching.lingerMs', b.lingerMs ?? BATCHING_DEFAULTS.lingerMs, 0, MAX_LINGER_MS),
    maxMessages: checkInteger('batching.maxMessages', b.maxMessages ?? BATCHING_DEFAULTS.maxMessages, 1, MAX_BATCH_MESSAGES),
    maxBytes: checkInteger('batching.maxBytes', b.maxBytes ?? BATCHING_DEFAULTS.maxBytes, 1, MAX_BATCH_BYTES),
    sticky: b.sticky ?? BATCHING_DEFAULTS.sticky,
    onBatch: b.onBatch,
  };
}

/** What the batcher needs of the producer. */
export interface BatchTransport {
  /** The writable queues of a topic from the cached route; undefined when it must be fetched. */
  cachedQueues(topic: string): readonly MessageQueue[] | undefined;
  /** The writable queues of a topic, fetching the route if needed. */
  queues(topic: string): Promise<readonly MessageQueue[]>;
  /** The next queue of a plain send (the producer's round robin). */
  roundRobin(topic: string, queues: readonly MessageQueue[]): MessageQueue;
  /** Sends one batch to `mq`, retried elsewhere as a plain send is when `retry`; the batch's acknowledgement or error. */
  sendBatch(topic: string, mq: MessageQueue, messages: readonly WireMessage[], retry: boolean, timeoutMs: number): Promise<SendResultImpl>;
}

/** How one message is sent: by which rule its queue is chosen, and its timeout. */
export interface BatchedSendOptions {
  selector?: ((queues: readonly MessageQueue[]) => MessageQueue) | undefined;
  shardingKey?: string | undefined;
  timeoutMs?: number | undefined;
}

/** A message as callers give it (the producer's Message). */
export interface BatchableMessage {
  body: Uint8Array | string;
  tags?: string | undefined;
  keys?: string | readonly string[] | undefined;
  properties?: Readonly<Record<string, string>> | undefined;
  flag?: number | undefined;
}

type Resolve = (r: SendResultImpl) => void;
type Reject = (err: unknown) => void;

/** Bytes a message takes in a SEND request besides its body, tags, keys and properties (flag, bornTimestamp, length fields). */
const MESSAGE_OVERHEAD = 4 + 8 + 4 + 1 + 2 + 2;

/** One open (or sent) batch of one queue: the messages and their callers, in order. */
class Batch {
  readonly messages: WireMessage[] = [];
  readonly resolves: Resolve[] = [];
  readonly rejects: Reject[] = [];
  bytes = 0;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  constructor(
    readonly topic: string,
    readonly mq: MessageQueue,
    readonly ordered: boolean,
    readonly timeoutMs: number,
    readonly slot: Slot | undefined,
  ) {}
}

/** A queue's open batches: plain messages in one, keyed/selected (ordered) ones in the other. */
interface Slot {
  plain: Batch | undefined;
  ordered: Batch | undefined;
}

/** A send made while the topic's route is being fetched: placed, in call order, once it arrives. */
interface Waiting {
  wire: WireMessage;
  bytes: number;
  options: BatchedSendOptions;
  resolve: Resolve;
  reject: Reject;
}

/** Errors that say one message of a batch is bad (nothing of the batch was stored): worth re-sending the others alone. */
function oneMessageRefused(err: unknown): boolean {
  return err instanceof InvalidMessageError || err instanceof MessageTooLargeError || err instanceof MalformedFrameError;
}

export interface SendBatcherStats {
  /** Batches sent (each one SEND request, retries aside). */
  batches: number;
  /** Messages in them. */
  messages: number;
  /** Messages waiting in open batches now. */
  pending: number;
}

export class SendBatcher {
  readonly #o: ResolvedBatching;
  readonly #t: BatchTransport;
  readonly #timeoutMs: number;
  /** topic -> brokerName -> queueId -> slot. */
  readonly #slots = new Map<string, Map<string, Slot[]>>();
  readonly #open = new Set<Batch>();
  /** Sticky batching: per topic, the plain batch new plain messages join (see BatchingOptions.sticky). */
  readonly #sticky = new Map<string, Batch>();
  readonly #waiting = new Map<string, Waiting[]>();
  readonly #sending = new Set<Promise<void>>();
  #closed = false;
  #batches = 0;
  #messages = 0;
  #pending = 0;

  constructor(options: ResolvedBatching, transport: BatchTransport, defaultTimeoutMs: number) {
    this.#o = options;
    this.#t = transport;
    this.#timeoutMs = defaultTimeoutMs;
  }

  /** Sends one message through its queue's open batch; resolves with that message's own result. */
  send(topic: string, message: BatchableMessage, options: BatchedSendOptions): Promise<SendResultImpl> {
    return new Promise<SendResultImpl>((resolve, reject) => {
      if (this.#closed) return reject(new ClientStateError('producer is shut down'));
      let wire: WireMessage;
      try {
        wire = toWire(message);
      } catch (err) {
        return reject(err);
      }
      const bytes = sizeOf(wire);
      const queues = this.#waiting.has(topic) ? undefined : this.#t.cachedQueues(topic);
      if (queues === undefined) this.#awaitRoute(topic, { wire, bytes, options, resolve, reject });
      else this.#place(topic, queues, wire, bytes, options, resolve, reject);
    });
  }

  /** Sends every open batch now; resolves once every batch sent so far is answered. */
  async flush(): Promise<void> {
    for (const b of [...this.#open]) this.#flush(b, 'flush');
    while (this.#sending.size > 0 || this.#waiting.size > 0) {
      if (this.#sending.size > 0) await Promise.all([...this.#sending]);
      else await new Promise((r) => setImmediate(r));
      for (const b of [...this.#open]) this.#flush(b, 'flush');
    }
  }

  /** Fails every message not sent yet (never sent: safe to send again elsewhere); batches already sent settle as they will. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ClientStateError('producer shut down before this message was sent (it was not sent): await producer.flush() before shutdown() to send what is waiting');
    for (const b of this.#open) {
      this.#detach(b);
      for (const reject of b.rejects) reject(err);
    }
    this.#open.clear();
    this.#pending = 0;
    for (const list of this.#waiting.values()) for (const w of list) w.reject(err);
    this.#waiting.clear();
  }

  stats(): SendBatcherStats {
    return { batches: this.#batches, messages: this.#messages, pending: this.#pending };
  }

  #awaitRoute(topic: string, w: Waiting): void {
    let list = this.#waiting.get(topic);
    if (list !== undefined) {
      list.push(w);
      return;
    }
    list = [w];
    this.#waiting.set(topic, list);
    const placeAll = (queues: readonly MessageQueue[] | undefined, err: unknown): void => {
      if (this.#waiting.get(topic) !== list) return; // closed meanwhile: already failed
      this.#waiting.delete(topic);
      for (const x of list) {
        if (queues === undefined) x.reject(err);
        else this.#place(topic, queues, x.wire, x.bytes, x.options, x.resolve, x.reject);
      }
    };
    this.#t.queues(topic).then(
      (queues) => placeAll(queues, undefined),
      (err: unknown) => placeAll(undefined, err),
    );
  }

  #place(topic: string, queues: readonly MessageQueue[], wire: WireMessage, bytes: number, options: BatchedSendOptions, resolve: Resolve, reject: Reject): void {
    if (queues.length === 0) return reject(new NoRouteError(`no queue of topic ${JSON.stringify(topic)} is served`));
    const { selector, shardingKey } = options;
    const ordered = selector !== undefined || shardingKey !== undefined;
    let mq: MessageQueue;
    try {
      // The same choice an unbatched send makes (hashSelector for a sharding key).
      mq = selector !== undefined ? selector(queues) : shardingKey !== undefined ? queues[Math.abs(stringHash(shardingKey)) % queues.length]! : (this.#stickyQueue(topic, queues) ?? this.#t.roundRobin(topic, queues));
    } catch (err) {
      return reject(err);
    }
    if (mq === null || typeof mq !== 'object') return reject(new InvalidConfigError(`the queue selector returned ${String(mq)}, not one of the queues it was given`));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const o = this.#o;
    const slot = this.#slot(topic, mq);
    let b = ordered ? slot.ordered : slot.plain;
    // One timeout per request: a message asking for another closes the open batch (order kept).
    if (b !== undefined && b.timeoutMs !== timeoutMs) {
      this.#flush(b, 'flush');
      b = undefined;
    }
    if (b !== undefined && b.bytes + bytes > o.maxBytes) {
      this.#flush(b, 'bytes');
      b = undefined;
    }
    if (bytes >= o.maxBytes) {
      // Too large to share a batch: alone, now, behind what its queue already sent.
      const alone = new Batch(topic, mq, ordered, timeoutMs, undefined);
      this.#push(alone, wire, bytes, resolve, reject);
      this.#dispatch(alone, 'alone');
      return;
    }
    if (b === undefined) {
      b = new Batch(topic, mq, ordered, timeoutMs, slot);
      if (ordered) slot.ordered = b;
      else {
        slot.plain = b;
        if (o.sticky) this.#sticky.set(topic, b);
      }
      this.#open.add(b);
      const batch = b;
      b.timer = o.lingerMs === 0 ? setImmediate(() => this.#flush(batch, 'linger')) : setTimeout(() => this.#flush(batch, 'linger'), o.lingerMs);
    }
    this.#push(b, wire, bytes, resolve, reject);
    this.#pending++;
    if (b.messages.length >= o.maxMessages) this.#flush(b, 'messages');
    else if (b.bytes >= o.maxBytes) this.#flush(b, 'bytes');
  }

  /** Sticky batching: the queue of the topic's open plain batch, while it is open and its queue still in the route. */
  #stickyQueue(topic: string, queues: readonly MessageQueue[]): MessageQueue | undefined {
    if (!this.#o.sticky) return undefined;
    const b = this.#sticky.get(topic);
    if (b === undefined) return undefined;
    if (this.#open.has(b) && queues.includes(b.mq)) return b.mq;
    this.#sticky.delete(topic);
    return undefined;
  }

  #push(b: Batch, wire: WireMessage, bytes: number, resolve: Resolve, reject: Reject): void {
    b.messages.push(wire);
    b.resolves.push(resolve);
    b.rejects.push(reject);
    b.bytes += bytes;
  }

  #slot(topic: string, mq: MessageQueue): Slot {
    let byBroker = this.#slots.get(topic);
    if (byBroker === undefined) this.#slots.set(topic, (byBroker = new Map()));
    let byQueue = byBroker.get(mq.brokerName);
    if (byQueue === undefined) byBroker.set(mq.brokerName, (byQueue = []));
    let slot = byQueue[mq.queueId];
    if (slot === undefined) byQueue[mq.queueId] = slot = { plain: undefined, ordered: undefined };
    return slot;
  }

  #detach(b: Batch): void {
    if (b.timer !== undefined) {
      if (this.#o.lingerMs === 0) clearImmediate(b.timer as NodeJS.Immediate);
      else clearTimeout(b.timer as NodeJS.Timeout);
      b.timer = undefined;
    }
    const s = b.slot;
    if (s !== undefined) {
      if (s.plain === b) s.plain = undefined;
      else if (s.ordered === b) s.ordered = undefined;
    }
  }

  #flush(b: Batch, reason: BatchFlushReason): void {
    if (!this.#open.delete(b)) return; // sent already (or failed by close)
    this.#detach(b);
    this.#pending -= b.messages.length;
    this.#dispatch(b, reason);
  }

  #dispatch(b: Batch, reason: BatchFlushReason): void {
    this.#batches++;
    this.#messages += b.messages.length;
    try {
      this.#o.onBatch?.(b.messages.length, b.bytes, reason);
    } catch {
      // A failing metrics callback must not cost the batch.
    }
    let sent: Promise<SendResultImpl>;
    try {
      sent = this.#t.sendBatch(b.topic, b.mq, b.messages, !b.ordered, b.timeoutMs);
    } catch (err) {
      // The batch could not be encoded (a field of some message is not what the wire takes): nothing went out.
      if (b.messages.length > 1) this.#sendOneByOne(b);
      else b.rejects[0]!(err);
      return;
    }
    const done = sent.then(
      (r) => {
        for (let i = 0; i < b.resolves.length; i++) b.resolves[i]!(r.one(i));
      },
      (err: unknown) => {
        if (b.messages.length > 1 && oneMessageRefused(err)) return this.#sendOneByOne(b);
        for (const reject of b.rejects) reject(err);
      },
    );
    this.#sending.add(done);
    void done.finally(() => this.#sending.delete(done));
  }

  /** The broker (or the encoder) refused the batch for a bad message and stored none: each goes alone, in order, so only the bad one fails. */
  #sendOneByOne(b: Batch): void {
    for (let i = 0; i < b.messages.length; i++) {
      const one = new Batch(b.topic, b.mq, b.ordered, b.timeoutMs, undefined);
      this.#push(one, b.messages[i]!, 0, b.resolves[i]!, b.rejects[i]!);
      this.#dispatch(one, 'alone');
    }
  }
}

/** The message as the wire takes it: the caller's object unless its body is a string (copied now as UTF-8). */
function toWire(m: BatchableMessage): WireMessage {
  if (m === null || typeof m !== 'object') throw new InvalidMessageError('a message must be an object with a body');
  if (m.body instanceof Uint8Array) return m as WireMessage;
  if (typeof m.body !== 'string') throw new InvalidMessageError('message body must be a string or a Uint8Array');
  return { body: Buffer.from(m.body, 'utf8'), tags: m.tags, keys: m.keys, properties: m.properties, flag: m.flag, bornTimestamp: Date.now() };
}

/** A message's bytes in a SEND request, near enough (string lengths in UTF-16 units; properties counted only when present). */
function sizeOf(m: WireMessage): number {
  let n = MESSAGE_OVERHEAD + m.body.length + (m.tags?.length ?? 0);
  const k = m.keys;
  if (k !== undefined) {
    if (typeof k === 'string') n += k.length;
    else for (const key of k) n += key.length + 1;
  }
  const p = m.properties;
  if (p !== undefined) for (const name in p) n += name.length + (p[name]?.length ?? 0) + 2;
  return n;
}
