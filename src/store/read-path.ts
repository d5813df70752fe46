// The read path: a queue's messages by queue offset (with tag filter and byte
// budget), queue offsets by time, and single records by CommitLog offset,
// message id or key. Reads are synchronous preads (page-cache hits cost ~1 us,
// far less than a trip through the thread pool) and never look past what the
// dispatcher made visible.
import { readU64, tagsCode, decodeMessageId } from '../common/index.js';
import { decodeRecord, MESSAGE_MAGIC, OFF_MAGIC, OFF_PHYSICAL_OFFSET, OFF_STORE_TIMESTAMP, RECORD_HEAD_SIZE, type DecodedMessage } from '../message/index.js';
import type { CommitLog } from './commitlog/index.js';
import { CQ_ENTRY_SIZE, CQ_OFF_PHYSICAL, CQ_OFF_SIZE, CQ_OFF_TAGS_CODE } from './consume-queue.js';
import type { Dispatcher } from './dispatcher.js';
import type { KeyIndex } from './key-index/index.js';
import type { TopicTable } from './topic-table.js';
import type { GetResult, KeyLookupStats, KeyQueryResult } from './types.js';

/** Entries scanned per read when a tag filter may skip many. */
const FILTER_SCAN_ENTRIES = 800;
/** Entries read per read without a filter, at most. */
const MAX_ENTRIES_PER_READ = 4096;
/** Scratch for record heads, entries and timestamps. */
const SCRATCH_BYTES = 64;
/** queryByKey without a budget: the walk ends where the chains do (in-process tools and tests). */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
const EMPTY = Buffer.alloc(0);

export class ReadPath {
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #keys: KeyIndex;
  readonly #dispatcher: Dispatcher;
  readonly #entryBuf = Buffer.allocUnsafe(MAX_ENTRIES_PER_READ * CQ_ENTRY_SIZE);
  readonly #smallBuf = Buffer.allocUnsafe(SCRATCH_BYTES);
  readonly #keyLookups: KeyLookupStats = { lookups: 0, examined: 0, truncated: 0 };

  constructor(log: CommitLog, topics: TopicTable, keys: KeyIndex, dispatcher: Dispatcher) {
    this.#log = log;
    this.#topics = topics;
    this.#keys = keys;
    this.#dispatcher = dispatcher;
  }

  /** See MessageStore.getMessages. */
  getMessages(topic: string, queueId: number, offset: number, maxCount: number, maxBytes: number, tags?: readonly string[]): GetResult {
    const cq = this.#topics.queue(topic, queueId);
    if (cq === undefined) return { status: 'NO_SUCH_QUEUE', records: EMPTY, count: 0, nextOffset: 0, minOffset: 0, maxOffset: 0 };
    const minOffset = cq.minOffset;
    const maxOffset = cq.maxOffset;
    const answer = (status: GetResult['status'], nextOffset: number, records = EMPTY, count = 0): GetResult => ({
      status,
      records,
      count,
      nextOffset,
      minOffset,
      maxOffset,
    });
    if (!Number.isSafeInteger(offset) || offset < minOffset) return answer('OFFSET_MOVED', minOffset);
    if (offset > maxOffset) return answer('OFFSET_OVERFLOW', maxOffset);
    if (offset === maxOffset) return answer('NO_NEW_MESSAGE', offset);

    const filter = tags === undefined || tags.length === 0 || tags.includes('*') ? undefined : new Set(tags.map(tagsCode));
    const wantCount = Math.max(1, Math.min(Math.floor(maxCount) || 1, MAX_ENTRIES_PER_READ));
    const scan = filter === undefined ? wantCount : FILTER_SCAN_ENTRIES;
    const entries = this.#entryBuf;
    const read = cq.readEntries(offset, scan, entries);
    const logMin = this.#log.minOffset;

    // Pick the entries to return, then read their records span by span:
    // records of one queue written together are adjacent in the log.
    let picked = 0;
    let totalBytes = 0;
    let consumed = 0;
    const picks: number[] = [];
    for (let k = 0; k < read && picked < wantCount; k++) {
      const at = k * CQ_ENTRY_SIZE;
      const physical = readU64(entries, at + CQ_OFF_PHYSICAL);
      const size = entries.readUInt32BE(at + CQ_OFF_SIZE);
      if (picked > 0 && totalBytes + size > maxBytes) break;
      consumed = k + 1;
      if (physical < logMin) continue;
      if (filter !== undefined && !filter.has(readU64(entries, at + CQ_OFF_TAGS_CODE))) continue;
      picks.push(physical, size);
      picked++;
      totalBytes += size;
    }
    if (picked === 0) {
      if (read > 0 && readU64(entries, CQ_OFF_PHYSICAL) < logMin) return answer('OFFSET_MOVED', offset + consumed);
      return answer('NO_MATCHED_MESSAGE', offset + consumed);
    }
    const records = Buffer.allocUnsafe(totalBytes);
    let out = 0;
    for (let i = 0; i < picks.length; ) {
      const spanStart = picks[i]!;
      let spanEnd = spanStart + picks[i + 1]!;
      i += 2;
      while (i < picks.length && picks[i] === spanEnd) {
        spanEnd += picks[i + 1]!;
        i += 2;
      }
      out += this.#readFully(spanStart, records, out, spanEnd - spanStart);
    }
    return answer('FOUND', offset + consumed, out === totalBytes ? records : records.subarray(0, out), picked);
  }

  minOffset(topic: string, queueId: number): number {
    return this.#topics.queue(topic, queueId)?.minOffset ?? 0;
  }

  /** Queue offset the next visible message will get (messages [min, max) are readable). */
  maxOffset(topic: string, queueId: number): number {
    return this.#topics.queue(topic, queueId)?.maxOffset ?? 0;
  }

  /**
   * The first queue offset whose message was stored at or after `timestamp`
   * (ms since epoch); maxOffset if none. For re-consuming from a point in time.
   */
  offsetForTimestamp(topic: string, queueId: number, timestamp: number): number {
    const cq = this.#topics.queue(topic, queueId);
    if (cq === undefined) return 0;
    const buf = this.#smallBuf;
    const logMin = this.#log.minOffset;
    const lo = cq.search(cq.minOffset, cq.maxOffset, buf, (p) => p >= logMin);
    return cq.search(lo, cq.maxOffset, buf, (physical) => {
      this.#readFully(physical + OFF_STORE_TIMESTAMP, buf, 0, 8);
      return readU64(buf, 0) >= timestamp;
    });
  }

  /** The message stored at CommitLog offset `physicalOffset`, if there is one. */
  getMessageByOffset(physicalOffset: number): DecodedMessage | undefined {
    const raw = this.readRecord(physicalOffset);
    return raw === undefined ? undefined : decodeRecord(raw);
  }

  /** Raw bytes of the record at `physicalOffset`, if it is a visible record. */
  readRecord(physicalOffset: number): Buffer | undefined {
    if (!Number.isSafeInteger(physicalOffset) || physicalOffset < this.#log.minOffset || physicalOffset >= this.#dispatcher.dispatchedOffset) {
      return undefined;
    }
    const head = this.#smallBuf;
    if (this.#readFully(physicalOffset, head, 0, RECORD_HEAD_SIZE) < RECORD_HEAD_SIZE) return undefined;
    if (head.readUInt32BE(OFF_MAGIC) !== MESSAGE_MAGIC || readU64(head, OFF_PHYSICAL_OFFSET) !== physicalOffset) return undefined;
    const size = head.readUInt32BE(0);
    const record = Buffer.allocUnsafe(size);
    return this.#readFully(physicalOffset, record, 0, size) === size ? record : undefined;
  }

  /** Looks a message up by its id (see encodeMessageId); throws InvalidMessageIdError on a malformed id. */
  getMessageById(id: string): DecodedMessage | undefined {
    return this.getMessageByOffset(decodeMessageId(id).offset);
  }

  /** Messages of `topic` carrying `key`, newest first. */
  queryByKey(topic: string, key: string, maxCount = 32): DecodedMessage[] {
    return this.queryKey(topic, key, maxCount, UNBOUNDED).messages;
  }

  /**
   * Up to `maxCount` messages of `topic` carrying `key`, newest first, reading
   * at most `maxCandidates` index slots and entries (keys chosen to collide
   * under the index hash make long chains: the budget bounds one lookup's
   * work whatever is stored). Each hash match costs one record read more.
   */
  queryKey(topic: string, key: string, maxCount: number, maxCandidates: number): KeyQueryResult {
    const messages: DecodedMessage[] = [];
    const seen = new Set<number>();
    const budget = { left: maxCandidates };
    const end = this.#keys.scan(topic, key, budget, (physical) => {
      if (seen.has(physical)) return true; // a record naming the key twice has two entries
      seen.add(physical);
      const m = this.getMessageByOffset(physical);
      if (m !== undefined && m.topic === topic && m.keys.includes(key)) messages.push(m);
      return messages.length < maxCount;
    });
    const examined = maxCandidates - budget.left;
    const truncated = end === 'exhausted';
    this.#keyLookups.lookups++;
    this.#keyLookups.examined += examined;
    if (truncated) this.#keyLookups.truncated++;
    return { messages, examined, truncated };
  }

  /** Lookups by key so far. */
  keyLookupStats(): KeyLookupStats {
    return { ...this.#keyLookups };
  }

  /** Reads `length` bytes at `offset` unless the log ends first; returns how many were read. */
  #readFully(offset: number, buf: Buffer, at: number, length: number): number {
    let done = 0;
    while (done < length) {
      const n = this.#log.read(offset + done, buf, at + done, length - done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  }
}
