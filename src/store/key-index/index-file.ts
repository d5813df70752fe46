// One file of the key index: a hash table on disk from `topic#key` to
// CommitLog offsets, with chained entries (RocketMQ's IndexFile idea).
//
// Layout: header (40 bytes) | slots (slotCount x u32: newest entry number, 0 =
// empty) | entries (20 bytes each: keyHash u32, physicalOffset u64,
// timeDiffSec u32, prevEntry u32). Entry numbers start at 1.
//
// Entries are appended in CommitLog order, in batches. The slot table of the
// file being filled lives in memory and is written when the file is sealed;
// on open, the last file's slots are rebuilt from its entries, so a crash
// never leaves a slot pointing at a missing entry.
import fs from 'node:fs';
import { readU64, setU64, writeU64 } from '../../common/index.js';
import { fdatasync, readFully, writeFully } from '../file-io.js';

export const INDEX_HEADER_SIZE = 40;
export const INDEX_ENTRY_SIZE = 20;
const H_BEGIN_TIMESTAMP = 0;
const H_END_TIMESTAMP = 8;
const H_BEGIN_PHYSICAL = 16;
const H_END_PHYSICAL = 24;
const H_SLOT_COUNT = 32;
const H_ENTRY_COUNT = 36;
const E_HASH = 0;
const E_PHYSICAL = 4;
const E_TIME_DIFF = 12;
const E_PREV = 16;
const MS_PER_SECOND = 1000;
/** What a key lookup may still read (slots and entries), shared by the files it walks. */
export interface KeyScanBudget {
  left: number;
}

/** done: the chain ended; stopped: the visitor had enough; exhausted: the budget ran out first. */
export type KeyScanEnd = 'done' | 'stopped' | 'exhausted';

/** Entries read at a time when rebuilding slots. */
const REBUILD_CHUNK_ENTRIES = 65536;

export class IndexFile {
  readonly path: string;
  readonly slotCount: number;
  readonly maxEntries: number;
  readonly fd: number;
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhysicalOffset = 0;
  endPhysicalOffset = 0;
  entryCount = 0;
  /** In-memory slots of a file still being filled; undefined once sealed. */
  #slots: Uint32Array | undefined;
  #pending: Buffer;
  /** Over #pending: V8 inlines DataView stores where Buffer.writeUInt32BE calls out (one entry per key on the dispatcher's path). */
  #pendingView: DataView;
  #pendingCount = 0;

  private constructor(filePath: string, slotCount: number, maxEntries: number, fd: number) {
    this.path = filePath;
    this.slotCount = slotCount;
    this.maxEntries = maxEntries;
    this.fd = fd;
    this.#pending = Buffer.alloc(0);
    this.#pendingView = new DataView(this.#pending.buffer, this.#pending.byteOffset, 0);
  }

  get #entriesStart(): number {
    return INDEX_HEADER_SIZE + this.slotCount * 4;
  }

  get sealed(): boolean {
    return this.#slots === undefined;
  }

  get full(): boolean {
    return this.entryCount >= this.maxEntries;
  }

  static create(filePath: string, slotCount: number, maxEntries: number): IndexFile {
    const fd = fs.openSync(filePath, 'w+', 0o644);
    const f = new IndexFile(filePath, slotCount, maxEntries, fd);
    f.#slots = new Uint32Array(slotCount);
    f.#writeHeader();
    return f;
  }

  /** Opens a sealed file (header and slots trusted), or the active one (`active`: slots rebuilt). */
  static open(filePath: string, active: boolean): IndexFile {
    const fd = fs.openSync(filePath, 'r+');
    const header = Buffer.alloc(INDEX_HEADER_SIZE);
    readFully(fd, header, 0, INDEX_HEADER_SIZE, 0);
    const slotCount = header.readUInt32BE(H_SLOT_COUNT);
    const f = new IndexFile(filePath, slotCount, Number.MAX_SAFE_INTEGER, fd);
    f.beginTimestamp = readU64(header, H_BEGIN_TIMESTAMP);
    f.endTimestamp = readU64(header, H_END_TIMESTAMP);
    f.beginPhysicalOffset = readU64(header, H_BEGIN_PHYSICAL);
    f.endPhysicalOffset = readU64(header, H_END_PHYSICAL);
    f.entryCount = header.readUInt32BE(H_ENTRY_COUNT);
    if (active) f.#rebuild();
    return f;
  }

  /** For an active file, set after open: the configured capacity. */
  setCapacity(maxEntries: number): void {
    (this as { maxEntries: number }).maxEntries = maxEntries;
  }

  add(keyHash: number, physicalOffset: number, storeTimestamp: number): void {
    const slots = this.#slots!;
    if (this.entryCount === 0) {
      this.beginTimestamp = storeTimestamp;
      this.beginPhysicalOffset = physicalOffset;
    }
    const slot = keyHash % this.slotCount;
    const number = ++this.entryCount;
    const at = this.#reservePending();
    const v = this.#pendingView;
    v.setUint32(at + E_HASH, keyHash);
    setU64(v, at + E_PHYSICAL, physicalOffset);
    const diff = Math.max(0, Math.floor((storeTimestamp - this.beginTimestamp) / MS_PER_SECOND));
    v.setUint32(at + E_TIME_DIFF, Math.min(diff, 0xffffffff));
    v.setUint32(at + E_PREV, slots[slot]!);
    slots[slot] = number;
    this.endTimestamp = storeTimestamp;
    this.endPhysicalOffset = physicalOffset;
  }

  /** Whole entries the file really holds (a sealed file's header may claim more after damage). */
  entriesOnDisk(): number {
    return Math.max(0, Math.floor((fs.fstatSync(this.fd).size - this.#entriesStart) / INDEX_ENTRY_SIZE));
  }

  /** Writes entries added since the last call, in one positional write. */
  writePending(): void {
    if (this.#pendingCount === 0) return;
    const first = this.entryCount - this.#pendingCount + 1;
    writeFully(this.fd, this.#pending, 0, this.#pendingCount * INDEX_ENTRY_SIZE, this.#entryPosition(first));
    this.#pendingCount = 0;
  }

  /** Writes header and slot table: the file is complete and immutable. */
  seal(): void {
    this.writePending();
    const slots = this.#slots!;
    const buf = Buffer.alloc(slots.length * 4);
    for (let i = 0; i < slots.length; i++) buf.writeUInt32BE(slots[i]!, i * 4);
    writeFully(this.fd, buf, 0, buf.length, INDEX_HEADER_SIZE);
    this.#writeHeader();
    fs.fdatasyncSync(this.fd);
    this.#slots = undefined;
    this.#pending = Buffer.alloc(0);
    this.#pendingView = new DataView(this.#pending.buffer, this.#pending.byteOffset, 0);
  }

  sync(): Promise<void> {
    return fdatasync(this.fd);
  }

  /**
   * Walks the chain of `keyHash`'s slot, newest entry first, handing `visit`
   * the CommitLog offset of each entry whose hash matches (it returns false
   * to stop). Every read (the slot of a sealed file, each entry) costs one
   * unit of `budget`; the walk stops when it is spent. Returns how it ended.
   */
  scan(keyHash: number, budget: KeyScanBudget, visit: (physicalOffset: number) => boolean): KeyScanEnd {
    const slot = keyHash % this.slotCount;
    let number: number;
    if (this.#slots !== undefined) {
      number = this.#slots[slot]!;
    } else {
      if (budget.left <= 0) return 'exhausted';
      budget.left--;
      const b = Buffer.alloc(4);
      readFully(this.fd, b, 0, 4, INDEX_HEADER_SIZE + slot * 4);
      number = b.readUInt32BE(0);
    }
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    while (number > 0 && number <= this.entryCount) {
      if (budget.left <= 0) return 'exhausted';
      budget.left--;
      if (readFully(this.fd, entry, 0, INDEX_ENTRY_SIZE, this.#entryPosition(number)) < INDEX_ENTRY_SIZE) break;
      if (entry.readUInt32BE(E_HASH) === keyHash && !visit(readU64(entry, E_PHYSICAL))) return 'stopped';
      const prev = entry.readUInt32BE(E_PREV);
      if (prev >= number) break; // chains only go backwards; anything else is damage
      number = prev;
    }
    return 'done';
  }

  /** Drops entries pointing at CommitLog offset >= `physicalOffset` (recovery). */
  truncateFromPhysical(physicalOffset: number): void {
    if (this.entryCount === 0 || this.endPhysicalOffset < physicalOffset) return;
    const entry = Buffer.alloc(INDEX_ENTRY_SIZE);
    let lo = 1;
    let hi = this.entryCount + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      readFully(this.fd, entry, 0, INDEX_ENTRY_SIZE, this.#entryPosition(mid));
      if (readU64(entry, E_PHYSICAL) >= physicalOffset) hi = mid;
      else lo = mid + 1;
    }
    fs.ftruncateSync(this.fd, this.#entryPosition(lo));
    this.#rebuild();
  }

  close(): void {
    if (!this.sealed) {
      this.writePending();
      this.#writeHeader();
    }
    fs.closeSync(this.fd);
  }

  destroy(): void {
    fs.closeSync(this.fd);
    fs.rmSync(this.path, { force: true });
  }

  #entryPosition(number: number): number {
    return this.#entriesStart + (number - 1) * INDEX_ENTRY_SIZE;
  }

  #reservePending(): number {
    const need = (this.#pendingCount + 1) * INDEX_ENTRY_SIZE;
    if (need > this.#pending.length) {
      const grown = Buffer.alloc(Math.max(need, this.#pending.length * 2, 64 * INDEX_ENTRY_SIZE));
      this.#pending.copy(grown, 0, 0, this.#pendingCount * INDEX_ENTRY_SIZE);
      this.#pending = grown;
      this.#pendingView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    return this.#pendingCount++ * INDEX_ENTRY_SIZE;
  }

  #writeHeader(): void {
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    writeU64(h, this.beginTimestamp, H_BEGIN_TIMESTAMP);
    writeU64(h, this.endTimestamp, H_END_TIMESTAMP);
    writeU64(h, this.beginPhysicalOffset, H_BEGIN_PHYSICAL);
    writeU64(h, this.endPhysicalOffset, H_END_PHYSICAL);
    h.writeUInt32BE(this.slotCount, H_SLOT_COUNT);
    h.writeUInt32BE(this.entryCount, H_ENTRY_COUNT);
    writeFully(this.fd, h, 0, INDEX_HEADER_SIZE, 0);
  }

  /** Rebuilds the in-memory slots and bounds from the entries actually on disk. */
  #rebuild(): void {
    const size = fs.fstatSync(this.fd).size;
    const count = Math.max(0, Math.floor((size - this.#entriesStart) / INDEX_ENTRY_SIZE));
    if (size > this.#entriesStart + count * INDEX_ENTRY_SIZE) fs.ftruncateSync(this.fd, this.#entriesStart + count * INDEX_ENTRY_SIZE);
    const slots = new Uint32Array(this.slotCount);
    const chunk = Buffer.alloc(REBUILD_CHUNK_ENTRIES * INDEX_ENTRY_SIZE);
    for (let first = 1; first <= count; first += REBUILD_CHUNK_ENTRIES) {
      const n = Math.min(REBUILD_CHUNK_ENTRIES, count - first + 1);
      readFully(this.fd, chunk, 0, n * INDEX_ENTRY_SIZE, this.#entryPosition(first));
      for (let k = 0; k < n; k++) {
        const at = k * INDEX_ENTRY_SIZE;
        const number = first + k;
        slots[chunk.readUInt32BE(at + E_HASH) % this.slotCount] = number;
        if (number === 1) this.beginPhysicalOffset = readU64(chunk, at + E_PHYSICAL);
        if (number === count) {
          this.endPhysicalOffset = readU64(chunk, at + E_PHYSICAL);
          this.endTimestamp = this.beginTimestamp + chunk.readUInt32BE(at + E_TIME_DIFF) * MS_PER_SECOND;
        }
      }
    }
    this.entryCount = count;
    if (count === 0) this.endPhysicalOffset = this.beginPhysicalOffset = 0;
    this.#slots = slots;
  }
}
