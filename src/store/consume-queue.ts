// The ConsumeQueue of one (topic, queue): fixed 20-byte entries
// [CommitLog offset u64][record size u32][tag code u64], entry n of the queue
// at byte 20*n of the queue's file sequence, so a lookup is O(1). Files hold a
// fixed number of entries and are named by the 20-digit queue offset of their
// first entry. Entries are appended by the dispatcher, in batches.
import fs from 'node:fs';
import path from 'node:path';
import { offsetFileName, readU64, writeU64 } from '../common/bytes.js';
import type { FdCache } from './fd-cache.js';
import { readFully, writeFully } from './file-io.js';

export const CQ_ENTRY_SIZE = 20;
export const CQ_OFF_PHYSICAL = 0;
export const CQ_OFF_SIZE = 8;
export const CQ_OFF_TAGS_CODE = 12;

const FILE_NAME = /^\d{20}$/;
/** Numbers kept per pending entry: physical offset, size, tag code. */
const PENDING_STRIDE = 3;
const INITIAL_PENDING_ENTRIES = 64;

export class ConsumeQueue {
  readonly topic: string;
  readonly queueId: number;
  readonly dir: string;
  readonly #entriesPerFile: number;
  readonly #fds: FdCache;
  /** First readable queue offset (older entries were removed by retention). */
  minOffset = 0;
  /** Queue offset the next entry gets: entries [minOffset, maxOffset) exist. */
  maxOffset = 0;
  /** Entries dispatched but not yet written: (physical, size, tagsCode) triplets. */
  // Allocated on first use: most of 10,000 queues may sit idle.
  #pending = new Float64Array(0);
  #pendingLength = 0;

  constructor(topic: string, queueId: number, dir: string, entriesPerFile: number, fds: FdCache) {
    this.topic = topic;
    this.queueId = queueId;
    this.dir = dir;
    this.#entriesPerFile = entriesPerFile;
    this.#fds = fds;
  }

  /**
   * Reads the queue's bounds from its files; cuts a torn trailing entry. The
   * queue ends at the first gap: after a power cut a file may be shorter than
   * full (or empty) while a later one kept entries. Those later entries were
   * never covered by a checkpoint, so their files are removed and recovery
   * rebuilds them from the CommitLog.
   */
  load(): void {
    if (!fs.existsSync(this.dir)) return;
    const bases = this.#fileBases();
    if (bases.length === 0) return;
    this.minOffset = bases[0]!;
    let end = bases[0]!;
    for (const base of bases) {
      const file = this.#pathOf(base);
      if (base !== end) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const size = fs.statSync(file).size;
      const whole = Math.min(Math.floor(size / CQ_ENTRY_SIZE), this.#entriesPerFile);
      if (whole * CQ_ENTRY_SIZE !== size) fs.truncateSync(file, whole * CQ_ENTRY_SIZE);
      // Only a full file is followed by the next one.
      end = whole === this.#entriesPerFile ? base + whole : -1;
      this.maxOffset = base + whole;
    }
  }

  /** Queue offset the next add() must carry. */
  get nextOffset(): number {
    return this.maxOffset + this.#pendingLength / PENDING_STRIDE;
  }

  get hasPending(): boolean {
    return this.#pendingLength > 0;
  }

  add(physicalOffset: number, size: number, tagsCode: number): void {
    let p = this.#pending;
    const n = this.#pendingLength;
    if (n + PENDING_STRIDE > p.length) {
      p = new Float64Array(Math.max(p.length * 2, PENDING_STRIDE * INITIAL_PENDING_ENTRIES));
      p.set(this.#pending);
      this.#pending = p;
    }
    p[n] = physicalOffset;
    p[n + 1] = size;
    p[n + 2] = tagsCode;
    this.#pendingLength = n + PENDING_STRIDE;
  }

  /** Forgets entries not yet written (after a failed pass). */
  dropPending(): void {
    this.#pendingLength = 0;
  }

  /** Writes pending entries (one positional write per file touched). */
  writePending(scratch: Buffer, dirty: Set<string>): void {
    const pending = this.#pending;
    const length = this.#pendingLength;
    let i = 0;
    while (i < length) {
      const offset = this.maxOffset;
      const base = offset - (offset % this.#entriesPerFile);
      const room = base + this.#entriesPerFile - offset;
      const count = Math.min(room, (length - i) / PENDING_STRIDE, Math.floor(scratch.length / CQ_ENTRY_SIZE));
      for (let k = 0; k < count; k++, i += PENDING_STRIDE) {
        const at = k * CQ_ENTRY_SIZE;
        writeU64(scratch, pending[i]!, at + CQ_OFF_PHYSICAL);
        scratch.writeUInt32BE(pending[i + 1]!, at + CQ_OFF_SIZE);
        writeU64(scratch, pending[i + 2]!, at + CQ_OFF_TAGS_CODE);
      }
      if (offset === base) fs.mkdirSync(this.dir, { recursive: true });
      const file = this.#pathOf(base);
      try {
        writeFully(this.#fds.get(file), scratch, 0, count * CQ_ENTRY_SIZE, (offset - base) * CQ_ENTRY_SIZE);
      } catch (err) {
        // Keep only what was not written (dropPending() usually follows).
        pending.copyWithin(0, i - count * PENDING_STRIDE, length);
        this.#pendingLength = length - (i - count * PENDING_STRIDE);
        throw err;
      }
      dirty.add(file);
      this.maxOffset += count;
    }
    this.#pendingLength = 0;
  }

  /**
   * Reads entries from `offset` (>= minOffset, < maxOffset) into `buf`, at most
   * `maxCount` and never across a file boundary; returns how many were read.
   */
  readEntries(offset: number, maxCount: number, buf: Buffer): number {
    const base = offset - (offset % this.#entriesPerFile);
    const count = Math.min(maxCount, this.maxOffset - offset, base + this.#entriesPerFile - offset, Math.floor(buf.length / CQ_ENTRY_SIZE));
    if (count <= 0) return 0;
    const n = readFully(this.#fds.get(this.#pathOf(base)), buf, 0, count * CQ_ENTRY_SIZE, (offset - base) * CQ_ENTRY_SIZE);
    return Math.floor(n / CQ_ENTRY_SIZE);
  }

  /** CommitLog offset of entry `offset`. */
  physicalOffsetAt(offset: number, scratch: Buffer): number {
    if (this.readEntries(offset, 1, scratch) !== 1) throw new Error(`consume queue ${this.topic}/${this.queueId}: entry ${offset} unreadable`);
    return readU64(scratch, CQ_OFF_PHYSICAL);
  }

  /** First queue offset in [lo, hi) whose entry satisfies `pred` (monotone), or hi. */
  search(lo: number, hi: number, scratch: Buffer, pred: (physicalOffset: number) => boolean): number {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (pred(this.physicalOffsetAt(mid, scratch))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Removes every entry pointing at CommitLog offset >= `physicalOffset` (recovery). */
  truncateFromPhysical(physicalOffset: number, scratch: Buffer): void {
    if (this.maxOffset === this.minOffset) return;
    const cut = this.search(this.minOffset, this.maxOffset, scratch, (p) => p >= physicalOffset);
    if (cut === this.maxOffset) return;
    for (const base of this.#fileBases()) {
      const file = this.#pathOf(base);
      if (base >= cut && base > this.minOffset) {
        this.#fds.close(file);
        fs.rmSync(file, { force: true });
      } else if (base + this.#entriesPerFile > cut) {
        fs.ftruncateSync(this.#fds.get(file), (cut - base) * CQ_ENTRY_SIZE);
      }
    }
    this.maxOffset = cut;
  }

  /**
   * Retention: entries pointing below `physicalOffset` are gone. Deletes files
   * whose entries all are, and moves minOffset to the first live entry.
   */
  dropBelowPhysical(physicalOffset: number, scratch: Buffer): void {
    if (this.maxOffset === this.minOffset) return;
    const newMin = this.search(this.minOffset, this.maxOffset, scratch, (p) => p >= physicalOffset);
    for (const base of this.#fileBases()) {
      // Keep the file holding newMin (or the last entries) so maxOffset stays derivable on reload.
      if (base + this.#entriesPerFile <= newMin && base + this.#entriesPerFile < this.maxOffset) {
        const file = this.#pathOf(base);
        this.#fds.close(file);
        fs.rmSync(file, { force: true });
      }
    }
    this.minOffset = newMin;
  }

  /** Closes this queue's files (before the directory is removed). */
  closeFiles(): void {
    for (const base of this.#fileBases()) this.#fds.close(this.#pathOf(base));
  }

  #fileBases(): number[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((n) => FILE_NAME.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  #pathOf(base: number): string {
    return path.join(this.dir, offsetFileName(base));
  }
}
