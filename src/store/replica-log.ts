// The replica log: the part of the store that replication (src/ha) works on,
// behind the narrow ReplicaLog interface. The master reads raw log bytes and
// record signatures and caps visibility at what the slave confirmed; the
// slave appends checked records at the master's offsets and cuts a diverged
// tail. Every decision about which log bytes a replica may keep, append or
// drop is made here.
import { crc32 } from 'node:zlib';
import { readU64, CorruptStoreError, InvalidMessageError, StoreStateError, type MetaqError } from '../common/index.js';
import { BLANK_MARKER_SIZE, checkRecord, MESSAGE_MAGIC, OFF_CRC, OFF_MAGIC, OFF_PHYSICAL_OFFSET, RECORD_HEAD_SIZE, RecordCheck } from '../message/index.js';
import type { CheckpointService } from './checkpoint-service.js';
import { scanLog, type CommitLog, type FlushService } from './commitlog/index.js';
import type { ConsumeQueue } from './consume-queue.js';
import type { Dispatcher } from './dispatcher.js';
import type { KeyIndex } from './key-index/index.js';
import type { StoreGate } from './store-gate.js';
import type { TopicTable } from './topic-table.js';
import type { FlushMode, LogChunk } from './types.js';
import type { Visibility } from './visibility.js';
import type { WritePath } from './write-path.js';

/** Scratch for record heads and ConsumeQueue entries. */
const SCRATCH_BYTES = 64;
/** Chunk read while walking the undispatched tail of the log for record signatures (a handshake, not the hot path). */
const TAIL_SCAN_BYTES = 1024 * 1024;

/** Identifies one record of a log: where it starts, its size and CRC. */
export interface RecordSignature {
  offset: number;
  size: number;
  crc: number;
}

/** Where one queue goes on in a log that starts at a given offset: the queue offset of its first record there. */
export interface QueueStart {
  topic: string;
  queueId: number;
  queueOffset: number;
}

/** What replication needs of a store, and nothing more. */
export interface ReplicaLog {
  /** Segment size: master and slave must agree, or offsets would not line up. */
  readonly segmentSize: number;
  /** The oldest log offset kept (retention deletes below it). */
  readonly minOffset: number;
  /** End of the log in the page cache: the next append goes here. */
  readonly writtenOffset: number;
  /** How far this store vouches for its log on its own (flushed in sync mode, written in async). */
  readonly localConfirmedOffset: number;
  /** How this store makes appends durable: what `localConfirmedOffset` means. */
  readonly flushMode: FlushMode;
  /**
   * Master side: while `reason` is set, the store's own writes (puts) are
   * refused with it; replicated appends go on (a master catching up from its
   * slave). `undefined` lifts the hold.
   */
  holdWrites(reason: MetaqError | undefined): void;
  /**
   * Master side, after catching up from a slave: dispatches the whole log and
   * sets every queue's next queue offset to follow it, so that the records
   * copied in become this store's own and new writes never reuse their queue
   * offsets. Throws StoreStateError if the log could not be dispatched to its
   * end (the caller keeps holding writes).
   */
  adoptReplicated(): void;
  /**
   * Readers see nothing past `offset`; `undefined` lifts the cap. A master
   * under sync replication caps at what its slave confirmed (while one is
   * available); a slave caps at what its master made durable. So no consumer
   * commits past what a crash of either broker could erase.
   */
  setVisibilityLimit(offset: number | undefined): void;
  /** Calls `listener` with the written offset after each write of appended records. Returns an unsubscribe. */
  onWritten(listener: (writtenOffset: number) => void): () => void;
  /**
   * Sync flush: calls `listener` with the flushed offset after each flush
   * cycle, before the appends it covers are acknowledged (so a slave hears
   * "durable here" before any producer hears SEND_OK). Under async flush the
   * written offset is the confirmed one: see onWritten. Returns an unsubscribe.
   */
  onFlushed(listener: (flushedOffset: number) => void): () => void;
  /**
   * Raw log bytes for a replica: whole records from `offset` (a record
   * boundary, normally what the replica reported), at most about `maxBytes`
   * (at least one record), never past the written offset; a segment's blank
   * marker ends a chunk, the next one starts at the next segment. Undefined
   * when there is nothing new. Throws InvalidMessageError when `offset` was
   * deleted by retention or is not in the log.
   */
  readLog(offset: number, maxBytes: number): LogChunk | undefined;
  /**
   * Slave side: appends records copied from the master's log at exactly
   * `offset` (this log's end), after checking each record's framing (size,
   * magic, position, field lengths) and either `chunkCrc`, the CRC-32 the
   * sender computed over all of `data`, or, without it, each record's own
   * CRC. Throws (rejects) CorruptStoreError and appends nothing if any check
   * fails. Resolves with the new confirmed offset once they are as durable
   * as this store's flush mode promises (page cache, or fdatasync'ed).
   */
  appendReplicated(offset: number, data: Buffer, chunkCrc?: number): Promise<number>;
  /** Size and CRC of the record starting at `offset` of the written log, or undefined if none starts there. */
  recordSignatureAt(offset: number): Omit<RecordSignature, 'offset'> | undefined;
  /**
   * Signatures of up to `max` of the newest records of the written log (newest
   * last): every record past what is dispatched, read from the log (a slave
   * indexes only what its master said is durable), then older ones from the
   * last entries of every queue. Enough for a master to find where a slave's
   * log stops agreeing with its own.
   */
  lastRecordSignatures(max: number): RecordSignature[];
  /**
   * Slave side: cuts the log at `offset` (a record boundary), with every
   * ConsumeQueue entry and key-index entry at or past it: a tail the master
   * never had (it diverged) is thrown away before replication goes on.
   */
  truncateLog(offset: number): void;
  /**
   * Master side of a re-sync: where every queue goes on in a log starting at
   * `offset` (the queue offset of its first record at or past it).
   */
  queueStarts(offset: number): QueueStart[];
  /**
   * Slave side of a re-sync, when its log ends before the oldest data its
   * master keeps: drops the whole log with every ConsumeQueue and key-index
   * entry, and starts the log empty at `offset` (a segment start, past this
   * log's end) with each queue going on at its `starts` entry (queues not
   * listed go on where they are).
   */
  resetLog(offset: number, starts: readonly QueueStart[]): Promise<void>;
}

/** The store's ReplicaLog. */
export class StoreReplicaLog implements ReplicaLog {
  readonly #flushMode: FlushMode;
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #keys: KeyIndex;
  readonly #dispatcher: Dispatcher;
  readonly #gate: StoreGate;
  readonly #writes: WritePath;
  readonly #visibility: Visibility;
  readonly #flush: FlushService;
  readonly #checkpoints: CheckpointService;
  /** ConsumeQueue / index files the next checkpoint syncs (shared with the dispatcher). */
  readonly #dirtyFiles: Set<string>;
  readonly #flushListeners = new Set<(flushedOffset: number) => void>();
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** Replicated appends waiting for their flush (sync flush on a slave). */
  readonly #waiters: { end: number; resolve: (offset: number) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    flushMode: FlushMode,
    log: CommitLog,
    parts: {
      topics: TopicTable;
      keys: KeyIndex;
      dispatcher: Dispatcher;
      gate: StoreGate;
      writes: WritePath;
      visibility: Visibility;
      flush: FlushService;
      checkpoints: CheckpointService;
      dirtyFiles: Set<string>;
    },
  ) {
    this.#flushMode = flushMode;
    this.#log = log;
    this.#topics = parts.topics;
    this.#keys = parts.keys;
    this.#dispatcher = parts.dispatcher;
    this.#gate = parts.gate;
    this.#writes = parts.writes;
    this.#visibility = parts.visibility;
    this.#flush = parts.flush;
    this.#checkpoints = parts.checkpoints;
    this.#dirtyFiles = parts.dirtyFiles;
  }

  get segmentSize(): number {
    return this.#log.segmentSize;
  }

  get minOffset(): number {
    return this.#log.minOffset;
  }

  get writtenOffset(): number {
    return this.#log.writtenOffset;
  }

  get localConfirmedOffset(): number {
    return this.#visibility.localConfirmedOffset();
  }

  get flushMode(): FlushMode {
    return this.#flushMode;
  }

  setVisibilityLimit(offset: number | undefined): void {
    this.#visibility.setLimit(offset);
  }

  holdWrites(reason: MetaqError | undefined): void {
    this.#gate.held = reason;
  }

  adoptReplicated(): void {
    this.#gate.checkOpen();
    this.#visibility.dispatchNow();
    const end = this.#log.writtenOffset;
    if (this.#dispatcher.dispatchedOffset !== end || this.#writes.pendingCount > 0) {
      throw new StoreStateError(`replicated log dispatched to ${this.#dispatcher.dispatchedOffset} of ${end}: queue offsets cannot be taken over yet`);
    }
    for (const t of this.#topics.all()) t.queues.forEach((cq, q) => (t.nextOffsets[q] = cq.maxOffset));
  }

  onWritten(listener: (writtenOffset: number) => void): () => void {
    return this.#writes.onWritten(listener);
  }

  onFlushed(listener: (flushedOffset: number) => void): () => void {
    this.#flushListeners.add(listener);
    return () => this.#flushListeners.delete(listener);
  }

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

  appendReplicated(offset: number, data: Buffer, chunkCrc?: number): Promise<number> {
    try {
      this.#gate.checkWritable(true);
      const log = this.#log;
      // The master's log rolled with too little room for a blank marker: its next chunk starts at the next segment.
      const rolled = offset > log.writtenOffset && offset % log.segmentSize === 0 && offset - log.writtenOffset < BLANK_MARKER_SIZE;
      if ((offset !== log.writtenOffset && !rolled) || log.appendOffset !== log.writtenOffset) {
        throw new InvalidMessageError(`replicated bytes start at ${offset}, this log ends at ${log.writtenOffset}`);
      }
      // One CRC over the chunk stands in for each record's: the bytes are what the sender read from its log.
      const verifyRecordCrc = chunkCrc === undefined;
      if (!verifyRecordCrc && crc32(data) !== chunkCrc) {
        throw new CorruptStoreError(`replicated chunk at log offset ${offset} (${data.length} bytes) fails its CRC: damaged on the way, nothing appended`);
      }
      const runs: { at: number; length: number; offset: number }[] = [];
      let at = 0;
      let pos = offset;
      let runStart = 0;
      while (at < data.length) {
        const check = checkRecord(data, at, data.length, log.maxRecordSize, pos, verifyRecordCrc);
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
    if (this.#flushMode === 'async') {
      this.#visibility.schedule();
      return Promise.resolve(written);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ end: written, resolve, reject });
      this.#flush.request();
    });
  }

  recordSignatureAt(offset: number): Omit<RecordSignature, 'offset'> | undefined {
    if (!Number.isSafeInteger(offset) || offset < this.#log.minOffset || offset >= this.#log.writtenOffset) return undefined;
    const head = this.#scratch;
    if (this.#log.read(offset, head, 0, RECORD_HEAD_SIZE) < RECORD_HEAD_SIZE) return undefined;
    if (head.readUInt32BE(OFF_MAGIC) !== MESSAGE_MAGIC || readU64(head, OFF_PHYSICAL_OFFSET) !== offset) return undefined;
    return { size: head.readUInt32BE(0), crc: head.readUInt32BE(OFF_CRC) };
  }

  lastRecordSignatures(max: number): RecordSignature[] {
    if (max <= 0) return [];
    // The newest records may lie past what is dispatched: a slave indexes only
    // what its master said is durable, and a master that died between pushing
    // records and its fdatasync never said so for its last ones. Those are
    // read from the log itself; signatures from the ConsumeQueues alone would
    // stop short of the log's end, and the logs would look different past it.
    const tail = this.#signaturesFrom(this.#dispatcher.dispatchedOffset, max);
    if (tail.length >= max) return tail;
    const scratch = this.#scratch;
    const below = tail.length > 0 ? tail[0]!.offset : this.#log.writtenOffset;
    const want = max - tail.length;
    // A record among the newest `want` belongs to a queue whose last entry is
    // among the newest `want` last entries: only those queues are read further
    // (one read per queue, not `want`, whatever the queue count).
    const lasts: { cq: ConsumeQueue; last: number }[] = [];
    for (const t of this.#topics.all()) {
      for (const cq of t.queues) if (cq.maxOffset > cq.minOffset) lasts.push({ cq, last: cq.physicalOffsetAt(cq.maxOffset - 1, scratch) });
    }
    lasts.sort((a, b) => b.last - a.last);
    const offsets: number[] = [];
    for (const { cq } of lasts.slice(0, want)) {
      for (let o = cq.maxOffset - 1, n = 0; o >= cq.minOffset && n < want; o--) {
        const physical = cq.physicalOffsetAt(o, scratch);
        if (physical >= below) continue;
        offsets.push(physical);
        n++;
      }
    }
    offsets.sort((a, b) => a - b);
    const out: RecordSignature[] = [];
    for (const offset of offsets.slice(-want)) {
      const sig = this.recordSignatureAt(offset);
      if (sig !== undefined) out.push({ offset, ...sig });
    }
    return out.concat(tail);
  }

  /** Signatures of the newest `max` records of the written log from `from` on (a record boundary), oldest first. */
  #signaturesFrom(from: number, max: number): RecordSignature[] {
    const log = this.#log;
    const end = log.writtenOffset;
    if (from >= end) return [];
    // Newest `max` kept in a ring while the records are walked (heads only, no CRC check: they were checked when written).
    const ring: RecordSignature[] = [];
    let next = 0;
    const buf = Buffer.allocUnsafe(Math.max(TAIL_SCAN_BYTES, log.maxRecordSize));
    scanLog(log, Math.max(from, log.minOffset), end, buf, false, (b, at, offset, size) => {
      const sig = { offset, size, crc: b.readUInt32BE(at + OFF_CRC) };
      if (ring.length < max) ring.push(sig);
      else ring[next] = sig;
      next = (next + 1) % max;
      return true;
    });
    return ring.length < max ? ring : ring.slice(next).concat(ring.slice(0, next));
  }

  truncateLog(offset: number): void {
    this.#gate.checkOpen();
    const log = this.#log;
    if (offset >= log.writtenOffset) return;
    if (offset < log.minOffset) throw new InvalidMessageError(`cannot truncate below the oldest kept log offset ${log.minOffset}`);
    if (this.#writes.pendingCount > 0) throw new InvalidMessageError('cannot truncate while puts are pending');
    const scratch = this.#scratch;
    for (const t of this.#topics.all()) {
      for (let q = 0; q < t.queues.length; q++) {
        t.queues[q]!.truncateFromPhysical(offset, scratch);
        t.nextOffsets[q] = t.queues[q]!.maxOffset;
      }
    }
    this.#keys.truncateFromPhysical(offset);
    if (this.#dispatcher.dispatchedOffset > offset) this.#dispatcher.dispatchedOffset = offset;
    log.truncate(offset);
    this.#checkpoints.lowerTo(offset);
  }

  queueStarts(offset: number): QueueStart[] {
    const out: QueueStart[] = [];
    const scratch = this.#scratch;
    for (const t of this.#topics.all()) {
      t.queues.forEach((cq, queueId) => out.push({ topic: t.name, queueId, queueOffset: cq.search(cq.minOffset, cq.maxOffset, scratch, (p) => p >= offset) }));
    }
    return out;
  }

  async resetLog(offset: number, starts: readonly QueueStart[]): Promise<void> {
    const log = this.#log;
    const check = (): void => {
      this.#gate.checkOpen();
      if (!Number.isSafeInteger(offset) || offset % log.segmentSize !== 0 || offset < log.writtenOffset) {
        throw new InvalidMessageError(`cannot reset the log to ${offset}: a reset starts at a segment boundary at or past this log's end (${log.writtenOffset})`);
      }
      if (this.#writes.pendingCount > 0 || log.appendOffset !== log.writtenOffset) throw new InvalidMessageError('cannot reset the log while appends are pending');
    };
    check();
    // Nothing of the old log may be in flight: no fdatasync, no checkpoint.
    await this.#flush.flushAll();
    await this.#checkpoints.settle();
    check();
    for (const s of starts) {
      const t = this.#topics.get(s.topic);
      if (t === undefined || s.queueId >= t.queueCount) this.#topics.create(s.topic, s.queueId + 1);
    }
    const startOf = new Map(starts.map((s) => [`${s.topic}\n${s.queueId}`, s.queueOffset]));
    for (const t of this.#topics.all()) {
      t.queues.forEach((cq, q) => {
        const at = startOf.get(`${t.name}\n${q}`) ?? cq.maxOffset;
        cq.restartAt(at, this.#dirtyFiles);
        t.nextOffsets[q] = at;
      });
    }
    this.#keys.dropBelowPhysical(offset);
    log.resetTo(offset);
    this.#dispatcher.dispatchedOffset = offset;
    // The log's first segment exists before anything is appended: a restart finds the log starting here.
    await log.prepareSegments();
  }

  /** A flush reached `offset`: replicated appends at or below it are durable. */
  releaseWaiters(offset: number): void {
    for (const l of this.#flushListeners) l(offset);
    const w = this.#waiters;
    let n = 0;
    while (n < w.length && w[n]!.end <= offset) w[n++]!.resolve(offset);
    if (n > 0) w.splice(0, n);
  }

  /** A flush failed: no replicated append waiting for it can be vouched for. */
  rejectWaiters(err: unknown): void {
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }
}
