// The ConsumeQueue of one (topic, queue): fixed 20-byte entries
// [CommitLog offset u64][record size u32][tag code u64], entry n of the queue
// at byte 20*n of the queue's file sequence, so a lookup is O(1). Files hold a
// fixed number of entries and are named by the 20-digit queue offset of their
// first entry. Entries are appended by the dispatcher, in batches.
import fs from 'node:fs';
import path from 'node:path';
import { offsetFileName, readU64, setU64, CorruptStoreError, StoreStateError } from '../common/index.js';
import type { DirectorySyncs } from './directory-syncs.js';
import type { FdCache } from './fd-cache.js';
import { readFully, writeFully } from './file-io.js';

export const CQ_ENTRY_SIZE = 20;
export const CQ_OFF_PHYSICAL = 0;
export const CQ_OFF_SIZE = 8;
export const CQ_OFF_TAGS_CODE = 12;

const FILE_NAME = /^\d{20}$/;
/**
 * Entries gathered in memory before one write to the file: queues get small
 * batches from each dispatch pass, and one syscall per queue per pass cost
 * ~12% of the store's CPU in the append benchmark.
 */
const TAIL_WRITE_ENTRIES = 256;

export class ConsumeQueue {
  readonly topic: string;
  readonly queueId: number;
  readonly dir: string;
  readonly #entriesPerFile: number;
  readonly #fds: FdCache;
  readonly #dirSyncs: DirectorySyncs;
  /** The queue's directory exists (checked once, then created with its new entries marked for fsync). */
  #dirReady = false;
  /** First readable queue offset (older entries were removed by retention). */
  minOffset = 0;
  /** Queue offset the next entry gets: entries [minOffset, maxOffset) exist. */
  maxOffset = 0;
  /** Entries in the queue's files: [minOffset, writtenOffset). */
  #writtenOffset = 0;
  /**
   * Encoded entries not yet in the files: [writtenOffset, writtenOffset +
   * tailCount), published (visible) up to maxOffset. Allocated on first use:
   * most of 10,000 queues may sit idle.
   */
  #tail = Buffer.alloc(0);
  #tailView = new DataView(new ArrayBuffer(0));
  #tailCount = 0;

  constructor(topic: string, queueId: number, dir: string, entriesPerFile: number, fds: FdCache, dirSyncs: DirectorySyncs) {
    this.topic = topic;
    this.queueId = queueId;
    this.dir = dir;
    this.#entriesPerFile = entriesPerFile;
    this.#fds = fds;
    this.#dirSyncs = dirSyncs;
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
      this.#writtenOffset = this.maxOffset;
    }
  }

  /** Queue offset the next add() must carry. */
  get nextOffset(): number {
    return this.#writtenOffset + this.#tailCount;
  }

  /** Entries added since the last publish(). */
  get hasPending(): boolean {
    return this.#writtenOffset + this.#tailCount > this.maxOffset;
  }

  add(physicalOffset: number, size: number, tagsCode: number): void {
    const at = this.#tailCount * CQ_ENTRY_SIZE;
    if (at + CQ_ENTRY_SIZE > this.#tail.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#tail.length * 2, TAIL_WRITE_ENTRIES * CQ_ENTRY_SIZE));
      this.#tail.copy(grown, 0, 0, at);
      this.#tail = grown;
      this.#tailView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    const v = this.#tailView;
    setU64(v, at + CQ_OFF_PHYSICAL, physicalOffset);
    v.setUint32(at + CQ_OFF_SIZE, size);
    setU64(v, at + CQ_OFF_TAGS_CODE, tagsCode);
    this.#tailCount++;
  }

  /**
   * Makes the added entries visible to readers. They are written to the file
   * once TAIL_WRITE_ENTRIES have gathered (or at writeTail(): checkpoints,
   * close): readers are served from memory meanwhile.
   */
  publish(dirty: Set<string>): void {
    this.maxOffset = this.#writtenOffset + this.#tailCount;
    if (this.#tailCount >= TAIL_WRITE_ENTRIES) this.writeTail(dirty);
  }

  /** Forgets entries added but not published (after a failed dispatch pass). */
  dropPending(): void {
    this.#tailCount = this.maxOffset - this.#writtenOffset;
  }

  /** Writes the published tail to the queue's files, one positional write per file. */
  writeTail(dirty: Set<string>): void {
    while (this.maxOffset > this.#writtenOffset) {
      const offset = this.#writtenOffset;
      const base = offset - (offset % this.#entriesPerFile);
      const count = Math.min(base + this.#entriesPerFile - offset, this.maxOffset - offset);
      if (!this.#dirReady) this.#makeDir();
      const file = this.#pathOf(base);
      writeFully(this.#fds.get(file), this.#tail, 0, count * CQ_ENTRY_SIZE, (offset - base) * CQ_ENTRY_SIZE);
      dirty.add(file);
      this.#writtenOffset += count;
      // What is still only in memory moves to the front of the tail buffer.
      this.#tail.copyWithin(0, count * CQ_ENTRY_SIZE, this.#tailCount * CQ_ENTRY_SIZE);
      this.#tailCount -= count;
    }
  }

  get unwritten(): boolean {
    return this.maxOffset > this.#writtenOffset;
  }

  /**
   * Reads entries from `offset` (>= minOffset, < maxOffset) into `buf`, at most
   * `maxCount`; from the file (never across a file boundary), then from the
   * in-memory tail. Returns how many were read.
   */
  readEntries(offset: number, maxCount: number, buf: Buffer): number {
    const want = Math.min(maxCount, this.maxOffset - offset, Math.floor(buf.length / CQ_ENTRY_SIZE));
    if (want <= 0 || offset < 0) return 0;
    let n = 0;
    if (offset < this.#writtenOffset) {
      const base = offset - (offset % this.#entriesPerFile);
      const count = Math.min(want, this.#writtenOffset - offset, base + this.#entriesPerFile - offset);
      const bytes = readFully(this.#fds.get(this.#pathOf(base)), buf, 0, count * CQ_ENTRY_SIZE, (offset - base) * CQ_ENTRY_SIZE);
      n = Math.floor(bytes / CQ_ENTRY_SIZE);
      if (n < count || offset + n < this.#writtenOffset) return n;
    }
    const from = offset + n - this.#writtenOffset;
    const more = want - n;
    if (more > 0) this.#tail.copy(buf, n * CQ_ENTRY_SIZE, from * CQ_ENTRY_SIZE, (from + more) * CQ_ENTRY_SIZE);
    return n + Math.max(0, more);
  }

  /** CommitLog offset of entry `offset`. */
  physicalOffsetAt(offset: number, scratch: Buffer): number {
    if (this.readEntries(offset, 1, scratch) !== 1) throw new CorruptStoreError(`consume queue ${this.topic}/${this.queueId}: entry ${offset} unreadable`);
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
    this.#requireWritten();
    if (this.maxOffset === this.minOffset) return;
    const cut = this.search(this.minOffset, this.maxOffset, scratch, (p) => p >= physicalOffset);
    if (cut === this.maxOffset) return;
    this.#cutAt(cut);
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

  /**
   * Recovery: cuts entries at the tail that do not match the CommitLog
   * (`matches` checks one entry against the record it points at), as a
   * damaged file leaves them (zeros, garbage). The damage is taken to be a
   * suffix: a binary search finds the last matching entry. Returns how many
   * entries were cut.
   */
  cutUnmatchedTail(scratch: Buffer, matches: (queueOffset: number, physicalOffset: number, size: number) => boolean): number {
    this.#requireWritten();
    if (this.maxOffset === this.minOffset) return 0;
    const ok = (o: number): boolean => this.readEntries(o, 1, scratch) === 1 && matches(o, readU64(scratch, CQ_OFF_PHYSICAL), scratch.readUInt32BE(CQ_OFF_SIZE));
    if (ok(this.maxOffset - 1)) return 0;
    // Last offset in [minOffset, maxOffset) that matches, or minOffset - 1.
    let lo = this.minOffset - 1;
    let hi = this.maxOffset - 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    const cut = this.maxOffset - (lo + 1);
    this.#cutAt(lo + 1);
    return cut;
  }

  /** CommitLog offset just past the record of the last entry, or undefined if the queue has none. */
  endOfLastEntry(scratch: Buffer): number | undefined {
    if (this.maxOffset === this.minOffset) return undefined;
    if (this.readEntries(this.maxOffset - 1, 1, scratch) !== 1) return undefined;
    return readU64(scratch, CQ_OFF_PHYSICAL) + scratch.readUInt32BE(CQ_OFF_SIZE);
  }

  /**
   * Recovery, rebuilding a queue whose older records retention deleted: the
   * queue starts over at `offset` (its files go; readers below it get
   * OFFSET_MOVED). Unlike `restartAt`, it leaves no file
   * behind: recovery records where the queue starts in the checkpoint.
   */
  startOverAt(offset: number): void {
    this.#requireWritten();
    for (const base of this.#fileBases()) {
      const file = this.#pathOf(base);
      this.#fds.close(file);
      fs.rmSync(file, { force: true });
    }
    this.minOffset = offset;
    this.maxOffset = offset;
    this.#writtenOffset = offset;
  }

  /**
   * The queue goes on at queue offset `offset`, every older entry gone: a
   * replica whose log was reset because it fell behind its master's retention.
   * Its files are removed; the file that will hold `offset` is created
   * sparse up to it (so a reload finds the queue's end there), the slots
   * before it reading as zeros: CommitLog offset 0, below the log's start,
   * which readers skip as expired.
   */
  restartAt(offset: number, dirty: Set<string>): void {
    for (const base of this.#fileBases()) {
      const file = this.#pathOf(base);
      dirty.delete(file);
      this.#fds.close(file);
      fs.rmSync(file, { force: true });
    }
    this.#makeDir();
    const base = offset - (offset % this.#entriesPerFile);
    const file = this.#pathOf(base);
    fs.ftruncateSync(this.#fds.get(file), (offset - base) * CQ_ENTRY_SIZE);
    dirty.add(file);
    this.#tailCount = 0;
    this.minOffset = offset;
    this.maxOffset = offset;
    this.#writtenOffset = offset;
  }

  #makeDir(): void {
    // New directory entries (the topic's, the queue's) must survive a power cut with the files in them.
    const first = fs.mkdirSync(this.dir, { recursive: true });
    if (first !== undefined) this.#dirSyncs.addCreated(first, this.dir);
    this.#dirReady = true;
  }

  /** Removes every entry from queue offset `cut` on. */
  #cutAt(cut: number): void {
    for (const base of this.#fileBases()) {
      const file = this.#pathOf(base);
      if (base >= cut && base > this.minOffset) {
        this.#fds.close(file);
        fs.rmSync(file, { force: true });
      } else if (base + this.#entriesPerFile > cut) {
        fs.ftruncateSync(this.#fds.get(file), Math.max(0, cut - base) * CQ_ENTRY_SIZE);
      }
    }
    this.maxOffset = cut;
    this.#writtenOffset = cut;
  }

  #requireWritten(): void {
    if (this.#tailCount > 0) throw new StoreStateError(`consume queue ${this.topic}/${this.queueId}: write the tail first`);
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
