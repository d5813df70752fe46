// The CommitLog: one append-only log for every topic, split into fixed-size
// segment files. Appends are encoded into an in-memory staging buffer and
// written with one positional write per drain (a drain per event-loop turn,
// so every batch appended in the same turn shares one syscall).
//
// Three positions move forward, always appendOffset >= writtenOffset >= flushedOffset:
//  - appendOffset: bytes handed out to records (some may still be staged);
//  - writtenOffset: bytes written into the page cache;
//  - flushedOffset: bytes an fdatasync has covered (advanced by FlushService).
import fs from 'node:fs';
import path from 'node:path';
import { isAllZero, offsetFileName, CorruptStoreError, StoreStateError, StoreWriteError } from '../../common/index.js';
import { syncDirectory } from '../file-io.js';
import { LogSegment } from './log-segment.js';
import { SegmentPreallocator } from './segment-preallocator.js';
import { BLANK_MARKER_SIZE, recordSize, writeBlankMarker, writeRecord, type RecordFields } from '../../message/index.js';

const SEGMENT_NAME = /^\d{20}$/;
/** Chunk used when wiping a truncated tail. */
const WIPE_CHUNK = 1 << 20;

export interface CommitLogOptions {
  dir: string;
  segmentSize: number;
  /** Largest record accepted; the staging buffer holds at least two. */
  maxRecordSize: number;
  stagingSize: number;
  /** Keep segments ready ahead of use, zero-filled or recycled (see SegmentPreallocator). */
  preallocate: boolean;
  /** How many ready segments to keep beyond the one being written. */
  spareSegments: number;
}

export class CommitLog {
  readonly dir: string;
  readonly segmentSize: number;
  readonly maxRecordSize: number;
  readonly #segments: LogSegment[] = [];
  readonly #preallocator: SegmentPreallocator | undefined;
  #staging: Buffer;
  #stagingView: DataView;
  #stagingStart = 0;
  #stagingLength = 0;
  appendOffset = 0;
  writtenOffset = 0;
  flushedOffset = 0;
  /**
   * Told, before flushedOffset moves, each new offset below which every byte
   * is covered by a completed fdatasync (a sync record keeps it); may throw,
   * and then the offset does not move. Unset: nobody listens, no cost.
   */
  durableListener: ((offset: number) => void) | undefined;

  constructor(options: CommitLogOptions) {
    this.dir = options.dir;
    this.segmentSize = options.segmentSize;
    this.maxRecordSize = options.maxRecordSize;
    this.#staging = Buffer.allocUnsafe(Math.max(options.stagingSize, 2 * options.maxRecordSize));
    this.#stagingView = new DataView(this.#staging.buffer, this.#staging.byteOffset, this.#staging.byteLength);
    fs.mkdirSync(this.dir, { recursive: true });
    this.#preallocator = options.preallocate ? new SegmentPreallocator(this.dir, this.segmentSize, options.spareSegments) : undefined;
    const names = fs.readdirSync(this.dir).filter((n) => SEGMENT_NAME.test(n)).sort();
    for (const name of names) {
      const base = Number(name);
      if (base % this.segmentSize !== 0) {
        throw new CorruptStoreError(`segment ${name} is not aligned to segment size ${this.segmentSize}: was the store created with another segmentSize?`);
      }
      const expected = this.#segments.length === 0 ? base : this.#segments[this.#segments.length - 1]!.endOffset;
      if (base !== expected) throw new CorruptStoreError(`commit log segments are not contiguous: expected ${expected}, found ${name}`);
      this.#segments.push(LogSegment.open(this.dir, base, this.segmentSize));
    }
  }

  get minOffset(): number {
    return this.#segments[0]?.baseOffset ?? this.appendOffset;
  }

  /** End of the last segment file: how far recovery may have to look. */
  get fileEndOffset(): number {
    return this.#segments[this.#segments.length - 1]?.endOffset ?? 0;
  }

  get segments(): readonly LogSegment[] {
    return this.#segments;
  }

  /** Sets every position to `offset` (a record boundary found by recovery). */
  resetPositions(offset: number): void {
    this.appendOffset = offset;
    this.writtenOffset = offset;
    this.flushedOffset = offset;
    this.#stagingStart = offset;
    this.#stagingLength = 0;
  }

  segmentFor(offset: number): LogSegment | undefined {
    const first = this.#segments[0];
    if (first === undefined || offset < first.baseOffset) return undefined;
    return this.#segments[Math.floor((offset - first.baseOffset) / this.segmentSize)];
  }

  /**
   * Appends one batch of records for one queue. `fields` is a scratch object
   * whose per-message fields the caller's `fill` callback sets; the log stamps
   * the physical offset. Returns the end offset of the batch.
   */
  appendBatch(count: number, fields: RecordFields, fill: (i: number) => void, physicalOffsets: number[]): number {
    for (let i = 0; i < count; i++) {
      fill(i);
      const size = recordSize(fields.bodyLength ?? fields.body.length, fields.topic.length, fields.propertiesLength);
      const at = this.#reserve(size);
      fields.physicalOffset = this.appendOffset;
      writeRecord(this.#staging, at, fields, this.#stagingView);
      physicalOffsets[i] = this.appendOffset;
      this.appendOffset += size;
      this.#stagingLength += size;
    }
    return this.appendOffset;
  }

  /**
   * Appends bytes copied from another log (a master's, on a slave) at the same
   * offsets: `data` is whole records, possibly ending with a segment's blank
   * marker, starting exactly at the end of this log. The caller has checked
   * the records. Written at once, one positional write per segment touched.
   */
  appendRaw(data: Buffer, runs: readonly { at: number; length: number; offset: number }[], end: number): void {
    if (this.#stagingLength > 0) this.drain();
    for (const r of runs) {
      const segment = this.#segmentForWrite(r.offset);
      try {
        segment.write(data, r.at, r.length, r.offset);
      } catch (err) {
        throw new StoreWriteError(`writing ${r.length} replicated bytes at commit log offset ${r.offset} failed`, { cause: err });
      }
    }
    this.appendOffset = end;
    this.writtenOffset = end;
    this.#stagingStart = end;
  }

  /**
   * Writes the staging buffer into its segment with one positional write.
   * On failure nothing is considered written: the caller rolls positions back.
   */
  drain(): void {
    if (this.#stagingLength === 0) return;
    const segment = this.#segmentForWrite(this.#stagingStart);
    try {
      segment.write(this.#staging, 0, this.#stagingLength, this.#stagingStart);
    } catch (err) {
      throw new StoreWriteError(`writing ${this.#stagingLength} bytes at commit log offset ${this.#stagingStart} failed`, { cause: err });
    }
    this.writtenOffset = this.#stagingStart + this.#stagingLength;
    this.#stagingStart = this.writtenOffset;
    this.#stagingLength = 0;
  }

  /** After a failed write: forget everything from `offset` on (not yet written). */
  rollbackTo(offset: number): void {
    this.appendOffset = offset;
    if (this.writtenOffset > offset) this.writtenOffset = offset;
    this.#stagingStart = offset;
    this.#stagingLength = 0;
  }

  /** Reads log bytes [offset, offset+length) within one segment; returns bytes read. */
  read(offset: number, buf: Buffer, bufOffset: number, length: number): number {
    const segment = this.segmentFor(offset);
    if (segment === undefined) return 0;
    return segment.read(buf, bufOffset, Math.min(length, segment.endOffset - offset), offset);
  }

  /** Segments holding any byte of [from, to). */
  segmentsBetween(from: number, to: number): LogSegment[] {
    return this.#segments.filter((s) => s.endOffset > from && s.baseOffset < to);
  }

  /**
   * Cuts the log at `offset`: zeroes whatever follows it in its segment (so a
   * stale record can never be read back after a shorter one is written over
   * it) and removes later segments.
   */
  truncate(offset: number): void {
    while (this.#segments.length > 0 && this.#segments[this.#segments.length - 1]!.baseOffset > offset) {
      this.#segments.pop()!.destroy();
    }
    const last = this.#segments[this.#segments.length - 1];
    if (last !== undefined && offset < last.endOffset) {
      const chunk = Buffer.alloc(WIPE_CHUNK);
      const zeros = Buffer.alloc(WIPE_CHUNK);
      for (let pos = offset; pos < last.endOffset; pos += WIPE_CHUNK) {
        const len = Math.min(WIPE_CHUNK, last.endOffset - pos);
        const n = last.read(chunk, 0, len, pos);
        if (isAllZero(chunk, 0, n)) break;
        last.write(zeros, 0, len, pos);
      }
      fs.fdatasyncSync(last.fd);
    }
    // The positions will say "flushed up to offset": make that true of the
    // earlier segments too (an unflushed tail may span several).
    for (const s of this.segmentsBetween(Math.min(this.flushedOffset, offset), offset)) if (s !== last) fs.fdatasyncSync(s.fd);
    this.durableListener?.(offset);
    this.resetPositions(offset);
  }

  /**
   * Removes every segment and starts the log empty at `offset` (a segment
   * start): a replica that fell behind its master's retention copies on from
   * the master's oldest kept offset.
   */
  resetTo(offset: number): void {
    if (offset % this.segmentSize !== 0) throw new StoreStateError(`commit log can only start at a segment boundary, not at ${offset}`);
    // Recycled spares from at or above `offset` could be reused at their old offsets: they go.
    this.#preallocator?.dropRecycledFrom(offset);
    while (this.#segments.length > 0) this.#segments.pop()!.destroy();
    // A segment zero-filled ahead of the old end would break the log's contiguity at the next open.
    for (const name of fs.readdirSync(this.dir)) if (SEGMENT_NAME.test(name)) fs.rmSync(path.join(this.dir, name), { force: true });
    syncDirectory(this.dir);
    this.durableListener?.(offset);
    this.resetPositions(offset);
  }

  /**
   * Removes the oldest segment (never the one being written): with
   * preallocation on its file becomes a spare for a later segment when the
   * pool is short (recycling), else it is deleted.
   */
  deleteOldestSegment(): LogSegment | undefined {
    if (this.#segments.length <= 1) return undefined;
    const segment = this.#segments.shift()!;
    if (this.#preallocator === undefined) {
      segment.destroy();
    } else {
      segment.close();
      this.#preallocator.recycle(segment.path, segment.baseOffset);
    }
    return segment;
  }

  /**
   * Makes sure the segment that the next append goes to exists, ready when
   * preallocation is on (a spare is made flat out at open if none is there,
   * so the first segment is fast too), and starts keeping spares ready.
   */
  async prepareSegments(): Promise<void> {
    const base = Math.floor(this.appendOffset / this.segmentSize) * this.segmentSize;
    if (this.segmentFor(this.appendOffset) === undefined) {
      await this.#preallocator?.ensureOne();
      this.#segmentForWrite(base);
    }
    this.#preallocator?.start();
  }

  /** Spares ready now (0 without preallocation), for diagnostics and tests. */
  get spareSegments(): number {
    return this.#preallocator?.ready ?? 0;
  }

  /** Background zero-fills wait while `busy()` (the flush service is not quiet). */
  yieldPreallocationTo(busy: () => boolean): void {
    this.#preallocator?.yieldTo(busy);
  }

  /** Stops background preparation (before close). */
  async stopPreallocation(): Promise<void> {
    await this.#preallocator?.stop();
  }

  close(): void {
    void this.#preallocator?.stop();
    for (const s of this.#segments) s.close();
    this.#segments.length = 0;
  }

  /** Staging position for a record of `size` bytes, rolling to a new segment if needed. */
  #reserve(size: number): number {
    // The last record ended exactly at a segment end: what is staged belongs to
    // that segment. Write it out, or the next record would be staged after it
    // and written into that segment's file, past its end.
    if (this.#stagingLength > 0 && this.appendOffset % this.segmentSize === 0) this.drain();
    const segmentEnd = (Math.floor(this.appendOffset / this.segmentSize) + 1) * this.segmentSize;
    if (this.appendOffset + size > segmentEnd) {
      const remaining = segmentEnd - this.appendOffset;
      if (remaining >= BLANK_MARKER_SIZE) {
        if (this.#stagingLength + BLANK_MARKER_SIZE > this.#staging.length) this.drain();
        writeBlankMarker(this.#staging, this.#stagingLength, remaining);
        this.#stagingLength += BLANK_MARKER_SIZE;
      }
      // The staging buffer maps onto one segment: write out this one's tail first.
      this.drain();
      // The unused tail counts as written: readers skip it by the marker.
      this.appendOffset = segmentEnd;
      this.writtenOffset = segmentEnd;
      this.#stagingStart = segmentEnd;
    }
    if (this.#stagingLength + size > this.#staging.length) this.drain();
    return this.#stagingLength;
  }

  #segmentForWrite(offset: number): LogSegment {
    const existing = this.segmentFor(offset);
    if (existing !== undefined) return existing;
    const base = Math.floor(offset / this.segmentSize) * this.segmentSize;
    const last = this.#segments[this.#segments.length - 1];
    if (last !== undefined && base !== last.endOffset) {
      throw new StoreStateError(`commit log would not be contiguous: next segment ${base} after ${last.endOffset}`);
    }
    const spare = this.#preallocator?.take(base);
    if (spare !== undefined) fs.renameSync(spare, path.join(this.dir, offsetFileName(base)));
    const segment = LogSegment.open(this.dir, base, this.segmentSize);
    // The new directory entry must survive a power cut along with what is written into it.
    syncDirectory(this.dir);
    this.#segments.push(segment);
    return segment;
  }
}
