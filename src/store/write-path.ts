// The write path: put() validates a batch, assigns queue offsets and encodes
// every record into the CommitLog's staging buffer (one reused scratch
// object); one drain per event-loop turn writes everything staged with one
// positional write; pending batches are acknowledged once confirmed (written
// under async flush, flushed under sync flush) or rejected with their offsets
// handed back.
import { InvalidMessageError, MessageTooLargeError, MetaqError, StoreUnavailableError, StoreWriteError, tagsCode } from '../common/index.js';
import {
  encodeMessageProperties,
  isPlainTagsAndKeys,
  MAX_PROPERTIES_LENGTH,
  plainPropertiesLength,
  plainTagsCode,
  propertiesLength,
  SYS_FLAG_HAS_KEYS,
  type PlainMessageBatch,
  type RecordFields,
} from '../message/index.js';
import type { CommitLog, FlushService } from './commitlog/index.js';
import type { StoreGate } from './store-gate.js';
import type { ResolvedStoreConfig } from './store-config.js';
import type { TopicState, TopicTable } from './topic-table.js';
import type { PutResult, StoreMessage } from './types.js';
import type { Visibility } from './visibility.js';

const EMPTY = Buffer.alloc(0);
/** Acknowledged entries at the head of the pending list are cut off past this many (and past half the list). */
const PENDING_COMPACT_AT = 1024;

interface PendingPut {
  start: number;
  end: number;
  topic: TopicState;
  queueId: number;
  count: number;
  result: PutResult;
  resolve: (r: PutResult) => void;
  reject: (e: Error) => void;
}

/** [at, at + length) lies within `buf`. */
function within(buf: Uint8Array, at: number, length: number): boolean {
  return at >= 0 && length >= 0 && at + length <= buf.length;
}

export class WritePath {
  readonly #config: ResolvedStoreConfig;
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #flush: FlushService;
  readonly #gate: StoreGate;
  readonly #visibility: Visibility;
  readonly #pending: PendingPut[] = [];
  #pendingHead = 0;
  readonly #fields: RecordFields = {
    body: EMPTY,
    bodyAt: 0,
    bodyLength: 0,
    topic: EMPTY,
    properties: '',
    propertiesLength: 0,
    propertySource: undefined,
    tagsAt: 0,
    tagsLength: 0,
    keysAt: 0,
    keysLength: 0,
    queueId: 0,
    queueOffset: 0,
    physicalOffset: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 0,
    storeTimestamp: 0,
    reconsumeTimes: 0,
    tagsCode: 0,
  };
  readonly #writeListeners = new Set<(writtenOffset: number) => void>();
  #drainScheduled = false;

  constructor(config: ResolvedStoreConfig, log: CommitLog, topics: TopicTable, flush: FlushService, gate: StoreGate, visibility: Visibility) {
    this.#config = config;
    this.#log = log;
    this.#topics = topics;
    this.#flush = flush;
    this.#gate = gate;
    this.#visibility = visibility;
  }

  /** Batches put and not yet acknowledged or rejected. */
  get pendingCount(): number {
    return this.#pending.length - this.#pendingHead;
  }

  /** See MessageStore.put. */
  put(topic: string, queueId: number, messages: readonly StoreMessage[]): Promise<PutResult> {
    let t: TopicState;
    let props: string[];
    let propLengths: number[];
    try {
      this.#gate.checkWritable();
      t = this.#topics.requireQueue(topic, queueId);
      if (!Array.isArray(messages) || messages.length === 0) throw new InvalidMessageError('a batch needs at least one message');
      props = new Array<string>(messages.length);
      propLengths = new Array<number>(messages.length);
      for (let i = 0; i < messages.length; i++) this.#prepare(messages[i]!, i, props, propLengths);
    } catch (err) {
      return Promise.reject(err);
    }

    const log = this.#log;
    const start = log.appendOffset;
    const count = messages.length;
    const storeTimestamp = Date.now();
    const physicalOffsets = new Array<number>(count);
    const firstQueueOffset = t.nextOffsets[queueId]!;
    const f = this.#fields;
    f.topic = t.bytes;
    f.queueId = queueId;
    f.storeTimestamp = storeTimestamp;
    f.propertySource = undefined;
    f.bodyAt = 0;
    let end: number;
    try {
      end = log.appendBatch(
        count,
        f,
        (i) => {
          const m = messages[i]!;
          f.body = m.body;
          f.bodyLength = m.body.length;
          f.properties = props[i]!;
          f.propertiesLength = propLengths[i]!;
          f.queueOffset = firstQueueOffset + i;
          f.flag = m.flag ?? 0;
          f.sysFlag = m.keys !== undefined && m.keys.length > 0 ? SYS_FLAG_HAS_KEYS : 0;
          f.bornTimestamp = m.bornTimestamp ?? storeTimestamp;
          f.reconsumeTimes = m.reconsumeTimes ?? 0;
          f.tagsCode = m.tagsCode ?? tagsCode(m.tags);
        },
        physicalOffsets,
      );
    } catch (err) {
      this.#failUnwritten(err, start);
      return Promise.reject(err);
    }
    return this.#staged(t, topic, queueId, start, end, firstQueueOffset, count, physicalOffsets, storeTimestamp);
  }

  /**
   * See MessageStore.putPlain: put() for a batch read in place from the bytes
   * it arrived in. Validated as put() validates (a non-plain message is an
   * InvalidMessageError), encoded with no object or string per message.
   */
  putPlain(topic: string, queueId: number, batch: PlainMessageBatch): Promise<PutResult> {
    let t: TopicState;
    const count = batch.count;
    const src = batch.bytes;
    try {
      this.#gate.checkWritable();
      t = this.#topics.requireQueue(topic, queueId);
      if (!Number.isInteger(count) || count <= 0) throw new InvalidMessageError('a batch needs at least one message');
      const max = this.#config.maxMessageSize;
      for (let i = 0; i < count; i++) {
        batch.select(i);
        if (batch.bodyLength > max) throw new MessageTooLargeError(`message ${i} has a ${batch.bodyLength}-byte body; the maximum is ${max}`);
        if (!within(src, batch.bodyAt, batch.bodyLength) || !within(src, batch.tagsAt, batch.tagsLength) || !within(src, batch.keysAt, batch.keysLength)) {
          throw new InvalidMessageError(`message ${i} of the batch names bytes outside the batch's`);
        }
        if (!isPlainTagsAndKeys(src, batch.tagsAt, batch.tagsLength, batch.keysAt, batch.keysLength)) {
          throw new InvalidMessageError(`message ${i}: tags and keys must be ASCII without \\x01 or \\x02, keys non-empty and space-separated`);
        }
        const length = plainPropertiesLength(batch.tagsLength, batch.keysLength);
        if (length > MAX_PROPERTIES_LENGTH) throw new InvalidMessageError(`message ${i}: properties take ${length} bytes; the maximum is ${MAX_PROPERTIES_LENGTH}`);
      }
    } catch (err) {
      return Promise.reject(err);
    }

    const log = this.#log;
    const start = log.appendOffset;
    const storeTimestamp = Date.now();
    const physicalOffsets = new Array<number>(count);
    const firstQueueOffset = t.nextOffsets[queueId]!;
    const f = this.#fields;
    f.topic = t.bytes;
    f.queueId = queueId;
    f.storeTimestamp = storeTimestamp;
    f.body = src;
    f.propertySource = src;
    f.properties = '';
    f.reconsumeTimes = 0;
    let end: number;
    try {
      end = log.appendBatch(
        count,
        f,
        (i) => {
          batch.select(i);
          f.bodyAt = batch.bodyAt;
          f.bodyLength = batch.bodyLength;
          f.tagsAt = batch.tagsAt;
          f.tagsLength = batch.tagsLength;
          f.keysAt = batch.keysAt;
          f.keysLength = batch.keysLength;
          f.propertiesLength = plainPropertiesLength(batch.tagsLength, batch.keysLength);
          f.queueOffset = firstQueueOffset + i;
          f.flag = batch.flag;
          f.sysFlag = batch.keysLength > 0 ? SYS_FLAG_HAS_KEYS : 0;
          f.bornTimestamp = batch.bornTimestamp;
          f.tagsCode = plainTagsCode(src, batch.tagsAt, batch.tagsLength);
        },
        physicalOffsets,
      );
    } catch (err) {
      this.#failUnwritten(err, start);
      return Promise.reject(err);
    } finally {
      // The scratch must not keep the request's bytes alive.
      f.body = EMPTY;
      f.propertySource = undefined;
    }
    return this.#staged(t, topic, queueId, start, end, firstQueueOffset, count, physicalOffsets, storeTimestamp);
  }

  /** A batch is staged: its queue offsets taken, its promise pending until the batch is confirmed. */
  #staged(t: TopicState, topic: string, queueId: number, start: number, end: number, firstQueueOffset: number, count: number, physicalOffsets: number[], storeTimestamp: number): Promise<PutResult> {
    t.nextOffsets[queueId] = firstQueueOffset + count;
    const result: PutResult = { status: 'PUT_OK', topic, queueId, queueOffset: firstQueueOffset, count, physicalOffsets, endOffset: end, storeTimestamp };
    const promise = new Promise<PutResult>((resolve, reject) => {
      this.#pending.push({ start, end, topic: t, queueId, count, result, resolve, reject });
    });
    this.#scheduleDrain();
    return promise;
  }

  /** Calls `listener` with the written offset after each write of appended records (replication pushes from it). */
  onWritten(listener: (writtenOffset: number) => void): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  /** Writes everything staged now (normally once per event-loop turn). */
  drainNow = (): void => {
    this.#drainScheduled = false;
    const failure = this.#gate.unavailable;
    if (failure !== undefined) {
      // An fdatasync failed since these batches were staged: they are not written at all.
      if (this.#log.appendOffset > this.#log.writtenOffset) this.#failUnwritten(new StoreUnavailableError(undefined, { cause: failure }), this.#log.appendOffset);
      return;
    }
    try {
      this.#log.drain();
    } catch (err) {
      this.#failUnwritten(err, this.#log.appendOffset);
      return;
    }
    for (const l of this.#writeListeners) l(this.#log.writtenOffset);
    if (this.#config.flushMode === 'sync') {
      this.#flush.request();
    } else {
      this.ack(this.#log.writtenOffset);
      // Right away, not on the next turn: a consumer's held pull is answered in
      // the same turn the message was written (one event-loop turn less of
      // end-to-end latency). The acknowledgements go out after this, as
      // microtasks.
      if (!this.#gate.closed) this.#visibility.dispatchNow();
    }
  };

  /** Resolves every pending put that ends at or below `offset`. */
  ack(offset: number): void {
    const pending = this.#pending;
    let head = this.#pendingHead;
    while (head < pending.length && pending[head]!.end <= offset) {
      const p = pending[head]!;
      pending[head] = undefined as unknown as PendingPut;
      p.resolve(p.result);
      head++;
    }
    if (head === pending.length) {
      pending.length = 0;
      head = 0;
    } else if (head > PENDING_COMPACT_AT && head * 2 > pending.length) {
      pending.splice(0, head);
      head = 0;
    }
    this.#pendingHead = head;
  }

  /** A failed fdatasync under sync flush: no pending batch can be vouched for. */
  rejectUnflushed(err: MetaqError): void {
    if (this.#config.flushMode !== 'sync') return;
    for (let i = this.#pending.length - 1; i >= this.#pendingHead; i--) this.#pending[i]!.reject(err);
    this.#pending.length = 0;
    this.#pendingHead = 0;
  }

  /** Rejects every batch still pending (the store closes), handing its queue offsets back. */
  rejectAll(error: Error): void {
    this.#rejectPendingFrom(this.#pendingHead, error);
  }

  /** Validates one message and encodes its properties string. */
  #prepare(m: StoreMessage, i: number, props: string[], lengths: number[]): void {
    if (m === null || typeof m !== 'object' || !(m.body instanceof Uint8Array)) {
      throw new InvalidMessageError(`message ${i} of the batch has no body (a Uint8Array)`);
    }
    if (m.body.length > this.#config.maxMessageSize) {
      throw new MessageTooLargeError(`message ${i} has a ${m.body.length}-byte body; the maximum is ${this.#config.maxMessageSize}`);
    }
    const s = encodeMessageProperties(m, i);
    props[i] = s;
    lengths[i] = propertiesLength(s, i);
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    // After this event-loop turn's IO: every put made meanwhile (all frames of
    // every socket read in this turn) lands in one write. Not a microtask: a
    // producer awaiting puts in a loop would then never let timers (flush,
    // checkpoint) or the dispatcher run.
    setImmediate(this.drainNow);
  }

  /**
   * A write failed: every batch not wholly written is rejected and its offsets
   * (log and queue) handed back, so nothing is acknowledged and no gap is left.
   */
  #failUnwritten(err: unknown, currentStart: number): void {
    const error = err instanceof MetaqError ? err : new StoreWriteError(undefined, { cause: err });
    let first = this.#pending.length;
    while (first > this.#pendingHead && this.#pending[first - 1]!.end > this.#log.writtenOffset) first--;
    const rollbackTo = first < this.#pending.length ? Math.min(this.#pending[first]!.start, currentStart) : currentStart;
    this.#log.rollbackTo(rollbackTo);
    this.#rejectPendingFrom(first, error);
  }

  #rejectPendingFrom(first: number, error: Error): void {
    for (let i = this.#pending.length - 1; i >= first; i--) {
      const p = this.#pending[i]!;
      p.topic.nextOffsets[p.queueId] = p.topic.nextOffsets[p.queueId]! - p.count;
      p.reject(error);
    }
    this.#pending.length = Math.max(first, this.#pendingHead);
  }
}
