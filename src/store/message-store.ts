// MessageStore: the facade a broker opens on a directory. It ties together
// the CommitLog (appends), the FlushService (durability), the Dispatcher
// (ConsumeQueues and key index), recovery, checkpoints and retention, and
// answers reads. Visibility follows durability: in sync flush mode readers
// see a message only once an fdatasync covers it.
import fs from 'node:fs';
import path from 'node:path';
import { readU64, CorruptStoreError, DiskFullError, InvalidMessageError, MessageTooLargeError, MetaqError, StoreClosedError, StoreUnavailableError, StoreWriteError, tagsCode, decodeMessageId } from '../common/index.js';
import { readCheckpoint, writeCheckpoint, writeCheckpointAsync } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { CQ_ENTRY_SIZE, CQ_OFF_PHYSICAL, CQ_OFF_SIZE, CQ_OFF_TAGS_CODE, type ConsumeQueue } from './consume-queue.js';
import { Dispatcher } from './dispatcher.js';
import { FdCache } from './fd-cache.js';
import { fdatasync } from './file-io.js';
import { FlushService } from './flush-service.js';
import { KeyIndex } from './key-index.js';
import {
  BLANK_MARKER_SIZE,
  checkRecord,
  decodeRecord,
  encodeMessageProperties,
  MESSAGE_MAGIC,
  OFF_CRC,
  OFF_MAGIC,
  OFF_PHYSICAL_OFFSET,
  OFF_STORE_TIMESTAMP,
  propertiesLength,
  RecordCheck,
  SYS_FLAG_HAS_KEYS,
  type DecodedMessage,
  type RecordFields,
} from '../message/index.js';
import { acquireStoreLock, type StoreLock } from './store-lock.js';
import { maxRecordSizeFor, resolveStoreConfig, type MessageStoreConfig, type ResolvedStoreConfig } from './store-config.js';
import { TopicTable, type TopicState } from './topic-table.js';
import type { ArrivalListener, GetResult, LogChunk, PutResult, StoreMessage } from './types.js';

const STAGING_SIZE = 8 << 20;
/** Entries scanned per read when a tag filter may skip many. */
const FILTER_SCAN_ENTRIES = 800;
/** Entries read per read without a filter, at most. */
const MAX_ENTRIES_PER_READ = 4096;
/** Concurrent fdatasyncs of ConsumeQueue files at a checkpoint. */
const CHECKPOINT_SYNC_CONCURRENCY = 8;
/** Pause before retrying a dispatch pass that failed on IO. */
const DISPATCH_RETRY_MS = 100;
const EMPTY = Buffer.alloc(0);

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

export interface StoreStats {
  flushMode: 'sync' | 'async';
  minOffset: number;
  appendOffset: number;
  writtenOffset: number;
  flushedOffset: number;
  dispatchedOffset: number;
  segments: number;
  topics: number;
  flushCycles: number;
  pendingPuts: number;
  openQueueFiles: number;
  diskFull: boolean;
  /** The last dispatch failure (e.g. a full disk while writing ConsumeQueues), until a pass succeeds. */
  dispatchError: string | undefined;
  /** True when this open found an unclean stop and ran recovery over the tail. */
  recovered: boolean;
  /** True when recovery at open cut off bytes that were not valid records (a torn tail). */
  truncatedTail: boolean;
}

/** What a power cut would leave: per file, how many bytes the last completed fdatasync covered. */
export interface DurableImage {
  /** CommitLog segment path -> durable length (the rest of the preallocated file reads as zeros). */
  segments: Map<string, number>;
  /** ConsumeQueue and key-index file path -> durable length. */
  files: Map<string, number>;
}

export class MessageStore {
  readonly config: ResolvedStoreConfig;
  readonly #lock: StoreLock;
  readonly #fds: FdCache;
  readonly #topics: TopicTable;
  readonly #log: CommitLog;
  readonly #keys: KeyIndex;
  readonly #dispatcher: Dispatcher;
  readonly #flush: FlushService;
  /** ConsumeQueue / index files written since the last checkpoint. */
  readonly #dirtyFiles = new Set<string>();
  /** Durable length of each index file, as of its last fdatasync. */
  readonly #syncedLengths = new Map<string, number>();
  readonly #pending: PendingPut[] = [];
  #pendingHead = 0;
  readonly #fields: RecordFields;
  readonly #listeners = new Set<ArrivalListener>();
  readonly #writeListeners = new Set<(writtenOffset: number) => void>();
  readonly #entryBuf = Buffer.allocUnsafe(MAX_ENTRIES_PER_READ * CQ_ENTRY_SIZE);
  readonly #smallBuf = Buffer.allocUnsafe(64);
  readonly #timers: NodeJS.Timeout[] = [];
  #drainScheduled = false;
  #dispatchScheduled = false;
  #checkpointRunning: Promise<void> | undefined;
  #unavailable: MetaqError | undefined;
  #diskFull = false;
  #dispatchError: Error | undefined;
  /** Checkpoint bookkeeping: see Checkpoint.verifyFrom. */
  #lastSafe = 0;
  #verifyFrom = 0;
  #closed = false;
  #recovered = false;
  #truncatedTail = false;
  /** Sync replication: readers see nothing past what the slave confirmed. */
  #visibilityLimit: number | undefined;
  /** Replicated appends waiting for their flush (sync flush on a slave). */
  readonly #replicaWaiters: { end: number; resolve: (offset: number) => void; reject: (err: unknown) => void }[] = [];

  private constructor(config: ResolvedStoreConfig) {
    this.config = config;
    fs.mkdirSync(config.dir, { recursive: true });
    this.#lock = acquireStoreLock(config.dir);
    try {
      this.#fds = new FdCache(config.maxOpenFiles);
      this.#topics = new TopicTable(path.join(config.dir, 'config'), path.join(config.dir, 'consumequeue'), this.#fds, config.consumeQueueEntriesPerFile);
      this.#topics.load();
      this.#log = new CommitLog({
        dir: path.join(config.dir, 'commitlog'),
        segmentSize: config.segmentSize,
        maxRecordSize: maxRecordSizeFor(config),
        stagingSize: STAGING_SIZE,
        preallocate: config.preallocateSegments,
      });
      this.#keys = new KeyIndex(path.join(config.dir, 'index'), config.indexSlotCount, config.indexMaxEntries);
      this.#dispatcher = new Dispatcher(this.#log, this.#topics, this.#keys, this.#dirtyFiles);
      this.#flush = new FlushService(this.#log, config.flushMode, config.flushIntervalMs, {
        flushed: (offset) => this.#onFlushed(offset),
        failed: (err) => this.#onFlushFailed(err),
      });
      const flush = this.#flush;
      this.#log.yieldPreallocationTo(() => flush.syncing);
    } catch (err) {
      this.#lock.release();
      throw err;
    }
    this.#fields = {
      body: EMPTY,
      topic: EMPTY,
      properties: '',
      propertiesLength: 0,
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
  }

  /** Opens (creating if needed) the store in `config.dir`, recovering after an unclean stop. */
  static async open(config: MessageStoreConfig): Promise<MessageStore> {
    const store = new MessageStore(resolveStoreConfig(config));
    try {
      await store.#recover();
      await store.#log.prepareSegments();
      await store.#checkDisk();
    } catch (err) {
      store.#closeFiles();
      throw err;
    }
    store.#startTimers();
    return store;
  }

  // ---- topics ----

  /** Creates a topic with `queueCount` queues (or grows an existing one). */
  createTopic(topic: string, queueCount: number): void {
    this.#checkOpen();
    this.#topics.create(topic, queueCount);
  }

  /** Queue count of a topic, or undefined if it does not exist. */
  queueCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.queueCount;
  }

  topicNames(): string[] {
    return [...this.#topics.all()].map((t) => t.name);
  }

  // ---- writes ----

  /**
   * Appends a batch of messages to one queue. Resolves once the batch is in the
   * page cache (async flush) or covered by an fdatasync (sync flush); rejects
   * with a typed error otherwise, and then nothing of the batch is acknowledged.
   */
  put(topic: string, queueId: number, messages: readonly StoreMessage[]): Promise<PutResult> {
    let t: TopicState;
    let props: string[];
    let propLengths: number[];
    try {
      this.#checkWritable();
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
    let end: number;
    try {
      end = log.appendBatch(
        count,
        f,
        (i) => {
          const m = messages[i]!;
          f.body = m.body;
          f.properties = props[i]!;
          f.propertiesLength = propLengths[i]!;
          f.queueOffset = firstQueueOffset + i;
          f.flag = m.flag ?? 0;
          f.sysFlag = m.keys !== undefined && m.keys.length > 0 ? SYS_FLAG_HAS_KEYS : 0;
          f.bornTimestamp = m.bornTimestamp ?? storeTimestamp;
          f.reconsumeTimes = m.reconsumeTimes ?? 0;
          f.tagsCode = tagsCode(m.tags);
        },
        physicalOffsets,
      );
    } catch (err) {
      this.#failUnwritten(err, start);
      return Promise.reject(err);
    }
    t.nextOffsets[queueId] = firstQueueOffset + count;
    const result: PutResult = { status: 'PUT_OK', topic, queueId, queueOffset: firstQueueOffset, count, physicalOffsets, endOffset: end, storeTimestamp };
    const promise = new Promise<PutResult>((resolve, reject) => {
      this.#pending.push({ start, end, topic: t, queueId, count, result, resolve, reject });
    });
    this.#scheduleDrain();
    return promise;
  }

  // ---- replication (src/ha) ----

  /** End of the log in the page cache: the next append goes here. */
  get writtenOffset(): number {
    return this.#log.writtenOffset;
  }

  /** How far this store vouches for its log on its own (flushed in sync mode, written in async). */
  get localConfirmedOffset(): number {
    return this.#localConfirmedOffset();
  }

  /**
   * Master side of sync replication: readers see nothing past `offset` (what
   * the slave confirmed), so no consumer commits past what survives a
   * failover. `undefined` lifts the cap.
   */
  setVisibilityLimit(offset: number | undefined): void {
    const before = this.#visibilityLimit;
    this.#visibilityLimit = offset;
    if (offset === undefined || before === undefined || offset > before) this.#scheduleDispatch();
  }

  /**
   * Raw log bytes for a replica: whole records from `offset` (a record
   * boundary, normally what the replica reported), at most about `maxBytes`
   * (at least one record), never past the written offset; a segment's blank
   * marker ends a chunk, the next one starts at the next segment. Undefined
   * when there is nothing new. Throws InvalidMessageError when `offset` was
   * deleted by retention or is not in the log.
   */
  readLog(offset: number, maxBytes: number): LogChunk | undefined {
    const log = this.#log;
    const end = log.writtenOffset;
    if (offset >= end) return undefined;
    if (offset < log.minOffset) throw new InvalidMessageError(`log offset ${offset} is below the oldest kept (${log.minOffset})`);
    const segment = log.segmentFor(offset);
    if (segment === undefined) throw new InvalidMessageError(`log offset ${offset} is not in the log`);
    // Fewer bytes than a blank marker left in the segment: the writer rolled without one.
    if (segment.endOffset - offset < BLANK_MARKER_SIZE) return end > segment.endOffset ? this.readLog(segment.endOffset, maxBytes) : undefined;
    const available = Math.min(end, segment.endOffset) - offset;
    // Read what maxBytes allows; only if not even one whole record fits, enough for the largest.
    for (const want of [Math.min(available, Math.max(1, maxBytes)), Math.min(available, log.maxRecordSize)]) {
      const buf = Buffer.allocUnsafe(want);
      const n = log.read(offset, buf, 0, want);
      let at = 0;
      while (at < n) {
        const check = checkRecord(buf, at, n, log.maxRecordSize, offset + at, false);
        if (check === RecordCheck.Blank) {
          at += BLANK_MARKER_SIZE;
          return { offset, bytes: buf.subarray(0, at), nextOffset: segment.endOffset };
        }
        if (check !== RecordCheck.Ok) break;
        at += buf.readUInt32BE(at);
      }
      if (at > 0) return { offset, bytes: buf.subarray(0, at), nextOffset: offset + at };
      if (want >= available) break;
    }
    throw new CorruptStoreError(`no whole record at log offset ${offset}`);
  }

  /**
   * Slave side: appends records copied from the master's log at exactly
   * `offset` (this log's end), after checking each (size, magic, position,
   * CRC). Resolves with the new confirmed offset once they are as durable as
   * this store's flush mode promises (page cache, or fdatasync'ed).
   */
  appendReplicated(offset: number, data: Buffer): Promise<number> {
    try {
      this.#checkWritable();
      const log = this.#log;
      // The master's log rolled with too little room for a blank marker: its next chunk starts at the next segment.
      const rolled = offset > log.writtenOffset && offset % log.segmentSize === 0 && offset - log.writtenOffset < BLANK_MARKER_SIZE;
      if ((offset !== log.writtenOffset && !rolled) || log.appendOffset !== log.writtenOffset) {
        throw new InvalidMessageError(`replicated bytes start at ${offset}, this log ends at ${log.writtenOffset}`);
      }
      const runs: { at: number; length: number; offset: number }[] = [];
      let at = 0;
      let pos = offset;
      let runStart = 0;
      while (at < data.length) {
        const check = checkRecord(data, at, data.length, log.maxRecordSize, pos, true);
        if (check === RecordCheck.Ok) {
          const size = data.readUInt32BE(at);
          at += size;
          pos += size;
          continue;
        }
        if (check === RecordCheck.Blank && at + BLANK_MARKER_SIZE === data.length) {
          const segmentEnd = (Math.floor(pos / log.segmentSize) + 1) * log.segmentSize;
          if (pos + data.readUInt32BE(at) !== segmentEnd) throw new CorruptStoreError(`replicated blank marker at ${pos} does not reach the segment end ${segmentEnd}`);
          at += BLANK_MARKER_SIZE;
          runs.push({ at: runStart, length: at - runStart, offset: offset + runStart });
          runStart = at;
          pos = segmentEnd;
          break;
        }
        throw new CorruptStoreError(`replicated bytes at log offset ${pos} are not a valid record`);
      }
      if (at > runStart) runs.push({ at: runStart, length: at - runStart, offset: offset + runStart });
      log.appendRaw(data, runs, pos);
    } catch (err) {
      return Promise.reject(err);
    }
    const written = this.#log.writtenOffset;
    if (this.config.flushMode === 'async') {
      this.#scheduleDispatch();
      return Promise.resolve(written);
    }
    return new Promise((resolve, reject) => {
      this.#replicaWaiters.push({ end: written, resolve, reject });
      this.#flush.request();
    });
  }

  /** Size and CRC of the record starting at `offset` of the written log, or undefined if none starts there. */
  recordSignatureAt(offset: number): { size: number; crc: number } | undefined {
    if (!Number.isSafeInteger(offset) || offset < this.#log.minOffset || offset >= this.#log.writtenOffset) return undefined;
    const head = this.#smallBuf;
    if (this.#log.read(offset, head, 0, 36) < 36) return undefined;
    if (head.readUInt32BE(OFF_MAGIC) !== MESSAGE_MAGIC || readU64(head, OFF_PHYSICAL_OFFSET) !== offset) return undefined;
    return { size: head.readUInt32BE(0), crc: head.readUInt32BE(OFF_CRC) };
  }

  /**
   * Signatures of up to `max` of the newest records (newest last), taken from
   * the last entry of every queue: enough for a master to find where a
   * slave's log stops agreeing with its own.
   */
  lastRecordSignatures(max: number): { offset: number; size: number; crc: number }[] {
    const scratch = this.#smallBuf;
    // A record among the newest `max` belongs to a queue whose last entry is
    // among the newest `max` last entries: only those queues are read further
    // (one read per queue, not `max`, whatever the queue count).
    const lasts: { cq: ConsumeQueue; last: number }[] = [];
    for (const t of this.#topics.all()) {
      for (const cq of t.queues) if (cq.maxOffset > cq.minOffset) lasts.push({ cq, last: cq.physicalOffsetAt(cq.maxOffset - 1, scratch) });
    }
    lasts.sort((a, b) => b.last - a.last);
    const offsets: number[] = [];
    for (const { cq } of lasts.slice(0, max)) {
      for (let o = cq.maxOffset - 1, n = 0; o >= cq.minOffset && n < max; o--, n++) offsets.push(cq.physicalOffsetAt(o, scratch));
    }
    offsets.sort((a, b) => a - b);
    const out: { offset: number; size: number; crc: number }[] = [];
    for (const offset of offsets.slice(-max)) {
      const sig = this.recordSignatureAt(offset);
      if (sig !== undefined) out.push({ offset, ...sig });
    }
    return out;
  }


  /**
   * Slave side: cuts the log at `offset` (a record boundary), with every
   * ConsumeQueue entry and key-index entry at or past it: a tail the master
   * never had (it diverged) is thrown away before replication goes on.
   */
  truncateLog(offset: number): void {
    this.#checkOpen();
    const log = this.#log;
    if (offset >= log.writtenOffset) return;
    if (offset < log.minOffset) throw new InvalidMessageError(`cannot truncate below the oldest kept log offset ${log.minOffset}`);
    if (this.#pending.length > this.#pendingHead) throw new InvalidMessageError('cannot truncate while puts are pending');
    const scratch = this.#smallBuf;
    for (const t of this.#topics.all()) {
      for (let q = 0; q < t.queues.length; q++) {
        t.queues[q]!.truncateFromPhysical(offset, scratch);
        t.nextOffsets[q] = t.queues[q]!.maxOffset;
      }
    }
    this.#keys.truncateFromPhysical(offset);
    if (this.#dispatcher.dispatchedOffset > offset) this.#dispatcher.dispatchedOffset = offset;
    log.truncate(offset);
    this.#lastSafe = Math.min(this.#lastSafe, offset);
    this.#verifyFrom = Math.min(this.#verifyFrom, offset);
  }

  // ---- reads ----

  /**
   * Reads up to `maxCount` messages (and about `maxBytes`, at least one) of a
   * queue from `offset`. With `tags`, only messages carrying one of them (by
   * tag code; the client re-checks the tag text). Never throws for a bad
   * offset or queue: see GetStatus.
   */
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
      out += this.#readLog(spanStart, records, out, spanEnd - spanStart);
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
      this.#readLog(physical + OFF_STORE_TIMESTAMP, buf, 0, 8);
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
    if (this.#readLog(physicalOffset, head, 0, 36) < 36) return undefined;
    if (head.readUInt32BE(OFF_MAGIC) !== MESSAGE_MAGIC || readU64(head, OFF_PHYSICAL_OFFSET) !== physicalOffset) return undefined;
    const size = head.readUInt32BE(0);
    const record = Buffer.allocUnsafe(size);
    return this.#readLog(physicalOffset, record, 0, size) === size ? record : undefined;
  }

  /** Looks a message up by its id (see encodeMessageId); throws InvalidMessageIdError on a malformed id. */
  getMessageById(id: string): DecodedMessage | undefined {
    return this.getMessageByOffset(decodeMessageId(id).offset);
  }

  /** Messages of `topic` carrying `key`, newest first. */
  queryByKey(topic: string, key: string, maxCount = 32): DecodedMessage[] {
    const out: DecodedMessage[] = [];
    for (const physical of new Set(this.#keys.lookup(topic, key, maxCount * 4))) {
      const m = this.getMessageByOffset(physical);
      if (m !== undefined && m.topic === topic && m.keys.includes(key)) out.push(m);
      if (out.length >= maxCount) break;
    }
    return out;
  }

  /** Calls `listener` with the written offset after each write of appended records (replication pushes from it). */
  onWritten(listener: (writtenOffset: number) => void): () => void {
    this.#writeListeners.add(listener);
    return () => this.#writeListeners.delete(listener);
  }

  /** Calls `listener` whenever new messages of a queue become visible. Returns an unsubscribe. */
  onArrival(listener: ArrivalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- maintenance ----

  /**
   * Deletes CommitLog segments whose last write is older than the retention
   * time, oldest first (never the one being written), and the index entries
   * pointing into them. Returns how many segments were deleted.
   */
  deleteExpiredSegments(now = Date.now()): number {
    let deleted = 0;
    for (;;) {
      const oldest = this.#log.segments[0];
      if (oldest === undefined || this.#log.segments.length <= 1) break;
      // Only whole segments that readers and the flusher are done with.
      if (oldest.endOffset > this.#dispatcher.dispatchedOffset || oldest.endOffset > this.#log.flushedOffset) break;
      if (now - oldest.mtimeMs() < this.config.retentionMs) break;
      this.#log.deleteOldestSegment();
      deleted++;
    }
    if (deleted > 0) {
      const min = this.#log.minOffset;
      for (const t of this.#topics.all()) for (const cq of t.queues) cq.dropBelowPhysical(min, this.#smallBuf);
      this.#keys.dropBelowPhysical(min);
    }
    return deleted;
  }

  stats(): StoreStats {
    return {
      flushMode: this.config.flushMode,
      minOffset: this.#log.minOffset,
      appendOffset: this.#log.appendOffset,
      writtenOffset: this.#log.writtenOffset,
      flushedOffset: this.#log.flushedOffset,
      dispatchedOffset: this.#dispatcher.dispatchedOffset,
      segments: this.#log.segments.length,
      topics: this.#topics.size,
      flushCycles: this.#flush.cycles,
      pendingPuts: this.#pending.length - this.#pendingHead,
      openQueueFiles: this.#fds.size,
      diskFull: this.#diskFull,
      dispatchError: this.#dispatchError?.message,
      recovered: this.#recovered,
      truncatedTail: this.#truncatedTail,
    };
  }

  /**
   * For fault-injection tests: what each file would hold after a power cut now,
   * i.e. what the last completed fdatasync of each covered.
   */
  durableImage(): DurableImage {
    const segments = new Map<string, number>();
    for (const s of this.#log.segments) {
      segments.set(s.path, Math.max(0, Math.min(s.size, this.#log.flushedOffset - s.baseOffset)));
    }
    return { segments, files: new Map([...this.#syncedLengths, ...this.#keys.syncedLengths]) };
  }

  /** Runs a checkpoint now (indexes synced, checkpoint file rewritten). */
  async checkpoint(): Promise<void> {
    while (this.#checkpointRunning !== undefined) await this.#checkpointRunning;
    this.#checkpointRunning = this.#writeCheckpoint().finally(() => {
      this.#checkpointRunning = undefined;
    });
    await this.#checkpointRunning;
  }

  /** Re-measures disk use now (normally done on a timer). */
  async checkDiskSpace(): Promise<boolean> {
    await this.#checkDisk();
    return this.#diskFull;
  }

  /**
   * Stops taking writes, waits for pending ones to be written and flushed,
   * dispatches everything, writes a final checkpoint and releases the directory.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#flush.stop();
    try {
      this.#drainNow();
      await this.#flush.flushAll();
      await this.#log.stopPreallocation();
      this.#ack(this.#confirmedOffset());
      this.#dispatchNow();
      while (this.#checkpointRunning !== undefined) await this.#checkpointRunning;
      if (this.#unavailable === undefined) await this.#writeCheckpoint();
    } finally {
      this.#rejectPendingFrom(this.#pendingHead, new StoreClosedError('the store closed before this batch was stored'));
      this.#closeFiles();
    }
  }

  // ---- internals: write path ----

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#unavailable !== undefined) throw new StoreUnavailableError(undefined, { cause: this.#unavailable });
    if (this.#diskFull) {
      throw new DiskFullError(`disk use of ${this.config.dir} is above ${Math.round(this.config.diskHighWaterRatio * 100)}%; writes are refused until space is freed`);
    }
  }

  /** Validates one message and encodes its properties string. */
  #prepare(m: StoreMessage, i: number, props: string[], lengths: number[]): void {
    if (m === null || typeof m !== 'object' || !(m.body instanceof Uint8Array)) {
      throw new InvalidMessageError(`message ${i} of the batch has no body (a Uint8Array)`);
    }
    if (m.body.length > this.config.maxMessageSize) {
      throw new MessageTooLargeError(`message ${i} has a ${m.body.length}-byte body; the maximum is ${this.config.maxMessageSize}`);
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
    setImmediate(this.#drainNow);
  }

  #drainNow = (): void => {
    this.#drainScheduled = false;
    try {
      this.#log.drain();
    } catch (err) {
      this.#failUnwritten(err, this.#log.appendOffset);
      return;
    }
    for (const l of this.#writeListeners) l(this.#log.writtenOffset);
    if (this.config.flushMode === 'sync') {
      this.#flush.request();
    } else {
      this.#ack(this.#log.writtenOffset);
      // Right away, not on the next turn: a consumer's held pull is answered in
      // the same turn the message was written (one event-loop turn less of
      // end-to-end latency). The acknowledgements go out after this, as
      // microtasks.
      if (!this.#closed) this.#dispatchNow();
    }
  };

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

  /** Resolves every pending put that ends at or below `offset`. */
  #ack(offset: number): void {
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
    } else if (head > 1024 && head * 2 > pending.length) {
      pending.splice(0, head);
      head = 0;
    }
    this.#pendingHead = head;
  }

  #onFlushed(offset: number): void {
    if (this.config.flushMode === 'sync') {
      this.#ack(offset);
      this.#releaseReplicaWaiters(offset);
      this.#scheduleDispatch();
    }
  }

  #releaseReplicaWaiters(offset: number): void {
    const w = this.#replicaWaiters;
    let n = 0;
    while (n < w.length && w[n]!.end <= offset) w[n++]!.resolve(offset);
    if (n > 0) w.splice(0, n);
  }

  #onFlushFailed(err: MetaqError): void {
    // After a failed fdatasync the kernel may have dropped the dirty pages:
    // nothing unflushed can be vouched for, so stop taking writes.
    this.#unavailable = err;
    for (const w of this.#replicaWaiters.splice(0)) w.reject(err);
    if (this.config.flushMode === 'sync') {
      for (let i = this.#pending.length - 1; i >= this.#pendingHead; i--) this.#pending[i]!.reject(err);
      this.#pending.length = 0;
      this.#pendingHead = 0;
    }
  }

  /** How far this store vouches for its log: flushed (sync flush) or written (async). */
  #localConfirmedOffset(): number {
    return this.config.flushMode === 'sync' ? this.#log.flushedOffset : this.#log.writtenOffset;
  }

  /** How far readers may see: the local confirmation, capped by the replica's when one is required. */
  #confirmedOffset(): number {
    const local = this.#localConfirmedOffset();
    return this.#visibilityLimit === undefined ? local : Math.min(local, this.#visibilityLimit);
  }

  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    setImmediate(() => {
      this.#dispatchScheduled = false;
      if (!this.#closed) this.#dispatchNow();
    });
  }

  #dispatchNow(): void {
    try {
      this.#dispatchPass();
      this.#dispatchError = undefined;
    } catch (err) {
      // Readers keep seeing what was indexed before; try again shortly.
      const first = this.#dispatchError === undefined;
      this.#dispatchError = err instanceof Error ? err : new StoreWriteError(String(err), { cause: err });
      // Say it once per failure streak; stats().dispatchError keeps saying it.
      if (first) process.emitWarning(`metaq store: dispatch failed, retrying: ${this.#dispatchError.message}`, { code: 'METAQ_DISPATCH_FAILED' });
      if (!this.#closed) setTimeout(() => this.#scheduleDispatch(), DISPATCH_RETRY_MS).unref();
    }
  }

  #dispatchPass(): void {
    const listeners = this.#listeners;
    this.#dispatcher.dispatch(
      this.#confirmedOffset(),
      listeners.size === 0
        ? undefined
        : (topic, queueId, maxOffset) => {
            for (const l of listeners) l(topic, queueId, maxOffset);
          },
    );
  }

  #readLog(offset: number, buf: Buffer, at: number, length: number): number {
    let done = 0;
    while (done < length) {
      const n = this.#log.read(offset + done, buf, at + done, length - done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  }

  // ---- internals: recovery, checkpoints, timers ----

  /**
   * Verifies the log from the checkpoint's verifyFrom on (size, magic,
   * position, CRC, queue offsets), cuts it at the first bad record, and
   * rebuilds ConsumeQueue and key-index entries from that point.
   */
  async #recover(): Promise<void> {
    const log = this.#log;
    const cp = readCheckpoint(this.config.dir);
    const fileEnd = log.fileEndOffset;
    // Re-verify from a bit before the safe offset (the last data written), so
    // that even after a clean stop a damaged tail is found and cut.
    const clamp = (o: number): number => Math.min(Math.max(o, log.minOffset), fileEnd);
    const start = clamp(cp?.verifyFrom ?? 0);
    this.#recovered = this.#lock.wasStale;
    const scratch = this.#smallBuf;
    for (const t of this.#topics.all()) {
      for (const cq of t.queues) {
        cq.truncateFromPhysical(start, scratch);
        if (cq.maxOffset > cq.minOffset && cq.physicalOffsetAt(cq.minOffset, scratch) < log.minOffset) cq.dropBelowPhysical(log.minOffset, scratch);
      }
    }
    this.#keys.truncateFromPhysical(start);
    this.#dispatcher.dispatchedOffset = start;
    log.resetPositions(start);
    const end = this.#dispatcher.recover(fileEnd);
    // Whatever lies past the valid end (a torn record, stale bytes) is wiped.
    if (end < fileEnd) {
      const probe = Buffer.alloc(8);
      this.#truncatedTail = log.read(end, probe, 0, 8) > 0 && !probe.equals(Buffer.alloc(8));
    }
    log.truncate(end);
    this.#writeQueueTails();
    for (const t of this.#topics.all()) t.queues.forEach((cq, q) => (t.nextOffsets[q] = cq.maxOffset));
    // The verified tail may only be in the page cache (a process crash): make
    // it durable before a checkpoint vouches for it.
    for (const s of log.segmentsBetween(start, end)) fs.fdatasyncSync(s.fd);
    for (const file of this.#dirtyFiles) {
      const fd = this.#fds.pin(file);
      try {
        fs.fdatasyncSync(fd);
      } finally {
        this.#fds.unpin(file);
      }
    }
    this.#dirtyFiles.clear();
    await this.#keys.sync();
    this.#lastSafe = end;
    this.#verifyFrom = start;
    writeCheckpoint(this.config.dir, { safeOffset: end, verifyFrom: start, timestamp: Date.now() });
  }

  async #writeCheckpoint(): Promise<void> {
    const safe = Math.min(this.#dispatcher.dispatchedOffset, this.#log.flushedOffset);
    // Every entry below `safe` is published; put them all in their files first.
    this.#writeQueueTails();
    const files = [...this.#dirtyFiles];
    this.#dirtyFiles.clear();
    const failures: unknown[] = [];
    for (let i = 0; i < files.length; i += CHECKPOINT_SYNC_CONCURRENCY) {
      await Promise.all(
        files.slice(i, i + CHECKPOINT_SYNC_CONCURRENCY).map(async (file) => {
          // Retention may have deleted the file since it was written: pin()
          // would recreate it empty (and an empty first file hides the queue).
          if (!fs.existsSync(file)) return;
          const fd = this.#fds.pin(file);
          try {
            const length = fs.fstatSync(fd).size;
            await fdatasync(fd);
            this.#syncedLengths.set(file, length);
          } catch (err) {
            failures.push(err);
            this.#dirtyFiles.add(file);
          } finally {
            this.#fds.unpin(file);
          }
        }),
      );
    }
    await this.#keys.sync();
    if (failures.length > 0) return; // keep the old checkpoint: it is still true
    if (safe !== this.#lastSafe) {
      this.#verifyFrom = this.#lastSafe;
      this.#lastSafe = safe;
    }
    await writeCheckpointAsync(this.config.dir, { safeOffset: safe, verifyFrom: this.#verifyFrom, timestamp: Date.now() });
  }

  /** Writes every ConsumeQueue's in-memory tail to its files. */
  #writeQueueTails(): void {
    for (const t of this.#topics.all()) for (const cq of t.queues) if (cq.unwritten) cq.writeTail(this.#dirtyFiles);
  }

  async #checkDisk(): Promise<void> {
    try {
      const s = await fs.promises.statfs(this.config.dir);
      const used = 1 - s.bavail / s.blocks;
      this.#diskFull = used > this.config.diskHighWaterRatio;
    } catch {
      // statfs unsupported: do not refuse writes on a guess.
      this.#diskFull = false;
    }
  }

  #startTimers(): void {
    this.#flush.start();
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.config.checkpointIntervalMs, () => {
      if (this.#checkpointRunning === undefined && !this.#closed) void this.checkpoint().catch(() => undefined);
    });
    every(this.config.diskCheckIntervalMs, () => void this.#checkDisk());
    if (this.config.retentionCheckIntervalMs > 0) {
      every(this.config.retentionCheckIntervalMs, () => {
        try {
          this.deleteExpiredSegments();
        } catch {
          // An IO error deleting a file: the next round tries again.
        }
      });
    }
  }

  #closeFiles(): void {
    try {
      this.#keys.close();
      this.#fds.closeAll();
      this.#log.close();
    } finally {
      this.#lock.release();
    }
  }
}
