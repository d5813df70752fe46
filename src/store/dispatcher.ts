// The dispatcher follows the CommitLog up to the confirmed offset (written in
// async flush mode, flushed in sync mode) and turns each record into a
// ConsumeQueue entry and key-index entries. Entries are collected per queue
// and written once per pass; listeners hear which queues grew (long polling).
// Recovery runs the same code over the unverified tail of the log, and a
// filtered pass (rebuild) over older parts of the log for indexes found
// damaged: the log is the truth, an index never decides where the log ends.
import { readU64, TWO_POW_32, CorruptStoreError } from '../common/index.js';
import { type CommitLog, scanLog } from './commitlog/index.js';
import type { ConsumeQueue } from './consume-queue.js';
import { keyHashesFromProperties, keyHashPrefix, truncateHashes, type KeyIndex } from './key-index/index.js';
import {
  decodeProperties,
  KEY_SEPARATOR,
  OFF_BODY,
  OFF_BODY_LENGTH,
  OFF_QUEUE_ID,
  OFF_QUEUE_OFFSET,
  OFF_STORE_TIMESTAMP,
  OFF_SYS_FLAG,
  OFF_TAGS_CODE,
  PROPERTY_KEYS,
  SYS_FLAG_HAS_KEYS,
} from '../message/index.js';
import type { TopicState, TopicTable } from './topic-table.js';
import type { ArrivalListener } from './types.js';

const READ_CHUNK = 4 << 20;

/** Topic names are short: a plain loop beats a native compare call here. */
function sameBytes(buf: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

export class Dispatcher {
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #keys: KeyIndex;
  /** Scratch for one record's key hashes, and `${topic}#` hashes by topic. */
  readonly #keyHashes: number[] = [];
  readonly #keyPrefixes = new Map<string, number>();
  readonly #buf: Buffer;
  readonly #touched: ConsumeQueue[] = [];
  readonly #dirtyFiles: Set<string>;
  #lastTopic: TopicState | undefined;
  /** Every record below this offset has its index entries. */
  dispatchedOffset = 0;
  /**
   * Recovery: queues that met a record whose queue offset is past their next
   * one (their ConsumeQueue lost entries); their records are left for a rebuild.
   */
  readonly gapped = new Set<ConsumeQueue>();
  #recovering = false;
  /** Rebuild pass: the queues being rebuilt, and from which log offset keys are re-indexed. */
  #rebuildQueues: ReadonlySet<ConsumeQueue> = new Set();
  #rebuildKeysFrom = Infinity;
  #rebuildMinOffset = 0;
  readonly #entryScratch = Buffer.allocUnsafe(64);

  constructor(log: CommitLog, topics: TopicTable, keys: KeyIndex, dirtyFiles: Set<string>) {
    this.#log = log;
    this.#topics = topics;
    this.#keys = keys;
    this.#dirtyFiles = dirtyFiles;
    this.#buf = Buffer.allocUnsafe(Math.max(READ_CHUNK, 2 * log.maxRecordSize));
  }

  /** Dispatches [dispatchedOffset, to); calls `listener` per queue that grew. */
  dispatch(to: number, listener?: ArrivalListener): void {
    if (to <= this.dispatchedOffset) return;
    this.#recovering = false;
    let result;
    try {
      result = scanLog(this.#log, this.dispatchedOffset, to, this.#buf, false, this.#visit);
      this.#finishPass(listener);
    } catch (err) {
      // An IO error (a full disk, say): drop what this pass had not written.
      // The next pass starts from the same offset and skips what was written.
      for (const cq of this.#touched) cq.dropPending();
      this.#touched.length = 0;
      throw err;
    }
    if (result.end !== to) {
      throw new CorruptStoreError(`commit log unreadable at ${result.end} while dispatching up to ${to}`);
    }
    this.dispatchedOffset = to;
  }

  /**
   * Recovery: verifies (CRC included) and dispatches records from
   * dispatchedOffset to `limit`; returns where the valid log ends.
   */
  recover(limit: number): number {
    this.#recovering = true;
    this.gapped.clear();
    try {
      const result = scanLog(this.#log, this.dispatchedOffset, limit, this.#buf, true, this.#visit);
      this.#finishPass(undefined);
      this.dispatchedOffset = result.end;
      return result.end;
    } finally {
      this.#recovering = false;
    }
  }

  /**
   * Recovery: re-indexes records of [from, to) (records below the checkpoint,
   * not re-verified) into `queues` only (each from its next offset on) and,
   * from log offset `keysFrom` on, into the key index. Leaves dispatchedOffset
   * alone. Throws CorruptStoreError if the log cannot be read up to `to`.
   */
  rebuild(from: number, to: number, queues: ReadonlySet<ConsumeQueue>, keysFrom = Infinity): void {
    if (from >= to) return;
    this.#rebuildQueues = queues;
    this.#rebuildKeysFrom = keysFrom;
    this.#rebuildMinOffset = this.#log.minOffset;
    try {
      const result = scanLog(this.#log, from, to, this.#buf, false, this.#rebuildVisit);
      this.#finishPass(undefined);
      if (result.end < to) {
        throw new CorruptStoreError(`commit log unreadable at ${result.end} (below ${to}) while rebuilding indexes from it; the log was left as it is`);
      }
    } finally {
      this.#rebuildQueues = new Set();
      this.#rebuildKeysFrom = Infinity;
    }
  }

  #visit = (buf: Buffer, at: number, physicalOffset: number, size: number): boolean => {
    const bodyLength = buf.readUInt32BE(at + OFF_BODY_LENGTH);
    const topicAt = at + OFF_BODY + bodyLength;
    const topic = this.#topicAt(buf, topicAt);
    const queueId = buf.readUInt32BE(at + OFF_QUEUE_ID);
    if (queueId >= topic.queueCount) this.#topics.create(topic.name, queueId + 1);
    const cq = topic.queues[queueId]!;
    const queueOffset = buf.readUInt32BE(at + OFF_QUEUE_OFFSET) * TWO_POW_32 + buf.readUInt32BE(at + OFF_QUEUE_OFFSET + 4);
    if (queueOffset === cq.nextOffset) {
      if (!cq.hasPending) this.#touched.push(cq);
      cq.add(physicalOffset, size, buf.readUInt32BE(at + OFF_TAGS_CODE) * TWO_POW_32 + buf.readUInt32BE(at + OFF_TAGS_CODE + 4));
    } else if (queueOffset < cq.nextOffset) {
      // Already dispatched by a pass that failed half-way: dispatch is idempotent.
      return true;
    } else if (this.#recovering) {
      // The queue's ConsumeQueue lost entries the log has: the log is kept
      // whole, the queue is rebuilt from it after this pass.
      this.gapped.add(cq);
    } else {
      throw new CorruptStoreError(`record at ${physicalOffset} has queue offset ${queueOffset}, queue ${topic.name}/${queueId} expects ${cq.nextOffset}`);
    }
    if ((buf.readUInt32BE(at + OFF_SYS_FLAG) & SYS_FLAG_HAS_KEYS) !== 0) this.#indexKeys(buf, at, topicAt, topic, physicalOffset);
    return true;
  };

  #rebuildVisit = (buf: Buffer, at: number, physicalOffset: number, size: number): boolean => {
    const topicAt = at + OFF_BODY + buf.readUInt32BE(at + OFF_BODY_LENGTH);
    const topic = this.#topicAt(buf, topicAt);
    const queueId = buf.readUInt32BE(at + OFF_QUEUE_ID);
    if (queueId >= topic.queueCount) this.#topics.create(topic.name, queueId + 1);
    const cq = topic.queues[queueId]!;
    if (this.#rebuildQueues.has(cq)) {
      const queueOffset = buf.readUInt32BE(at + OFF_QUEUE_OFFSET) * TWO_POW_32 + buf.readUInt32BE(at + OFF_QUEUE_OFFSET + 4);
      if (queueOffset > cq.nextOffset) {
        // The queue's older records were deleted by retention: it starts over here.
        const lastEnd = cq.hasPending ? physicalOffset : cq.endOfLastEntry(this.#entryScratch) ?? 0;
        if (lastEnd > this.#rebuildMinOffset) {
          throw new CorruptStoreError(`record at ${physicalOffset} has queue offset ${queueOffset}, queue ${topic.name}/${queueId} expects ${cq.nextOffset}: the log lacks records of it`);
        }
        cq.startOverAt(queueOffset);
      }
      if (queueOffset === cq.nextOffset) {
        if (!cq.hasPending) this.#touched.push(cq);
        cq.add(physicalOffset, size, buf.readUInt32BE(at + OFF_TAGS_CODE) * TWO_POW_32 + buf.readUInt32BE(at + OFF_TAGS_CODE + 4));
      }
    }
    if (physicalOffset >= this.#rebuildKeysFrom && (buf.readUInt32BE(at + OFF_SYS_FLAG) & SYS_FLAG_HAS_KEYS) !== 0) {
      this.#indexKeys(buf, at, topicAt, topic, physicalOffset);
    }
    return true;
  };

  #indexKeys(buf: Buffer, at: number, topicAt: number, topic: TopicState, physicalOffset: number): void {
    const propsAt = topicAt + 1 + buf[topicAt]!;
    const propsEnd = propsAt + 2 + buf.readUInt16BE(propsAt);
    const storeTimestamp = readU64(buf, at + OFF_STORE_TIMESTAMP);
    const hashes = this.#keyHashes;
    truncateHashes(hashes, 0);
    let prefix = this.#keyPrefixes.get(topic.name);
    if (prefix === undefined) this.#keyPrefixes.set(topic.name, (prefix = keyHashPrefix(topic.name)));
    if (keyHashesFromProperties(buf, propsAt + 2, propsEnd, prefix, hashes)) {
      for (const h of hashes) this.#keys.addHash(h, physicalOffset, storeTimestamp);
    } else {
      // A non-ASCII key: hash the decoded string, as lookups do.
      const props = decodeProperties(buf.toString('utf8', propsAt + 2, propsEnd));
      for (const key of (props[PROPERTY_KEYS] ?? '').split(KEY_SEPARATOR)) {
        if (key !== '') this.#keys.add(topic.name, key, physicalOffset, storeTimestamp);
      }
    }
  }

  /** The topic whose name is at `topicAt`; the last one is remembered, as runs share topics. */
  #topicAt(buf: Buffer, topicAt: number): TopicState {
    const length = buf[topicAt]!;
    const last = this.#lastTopic;
    if (last !== undefined && last.bytes.length === length && sameBytes(buf, topicAt + 1, last.bytes)) return last;
    const name = buf.toString('latin1', topicAt + 1, topicAt + 1 + length);
    const topic = this.#topics.get(name) ?? this.#topics.create(name, 1);
    this.#lastTopic = topic;
    return topic;
  }

  #finishPass(listener: ArrivalListener | undefined): void {
    for (const cq of this.#touched) cq.publish(this.#dirtyFiles);
    this.#keys.writePending();
    if (listener !== undefined) for (const cq of this.#touched) listener(cq.topic, cq.queueId, cq.maxOffset);
    this.#touched.length = 0;
  }
}
