// The sync record, for fault-injection harnesses: a small file in which a
// store keeps what its completed fdatasyncs covered, so that after the
// process is killed from outside (SIGKILL) its directory can be cut to what a
// power cut at that instant would have left (power-cut.ts). Written only after
// an fdatasync completed (it never claims more than was synced) and before
// anything that relied on it was released: the CommitLog's durable offset
// before a sync flush's acknowledgements, the index files' durable lengths
// before the checkpoint that vouches for them. Plain writes, no fsync: the
// page cache survives a SIGKILL, and that is the only death it is for.
//
// Layout (big-endian):
//   0   u32 magic "MQSR", u32 version
//   8   u64 reserved (0)
//   16  the log slot: u64 CommitLog durable offset, u32 crc32 of those 8
//       bytes, u32 0 -- rewritten in place, one 12-byte pwrite per flush cycle
//       (within one page: a SIGKILL cannot tear it; the CRC would tell)
//   32  u32 file count; per file: u16 path length, the path (UTF-8, relative
//       to the store directory), u64 durable length
//   end u32 crc32 of bytes [32, end - 4)
// The file part changes only at checkpoints: the whole record is written to a
// temporary file on the thread pool, then the latest log slot is put into it
// and it is renamed over the record in one synchronous step, so that no flush
// cycle's slot write can land in the replaced file and be lost.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { readU64, StoreStateError, SyncRecordError, writeU64 } from '../common/index.js';
import { writeFully } from './file-io.js';

const MAGIC = 0x4d515352; // "MQSR"
const VERSION = 1;
const LOG_SLOT_AT = 16;
/** Offset and its CRC: what one flush cycle rewrites. */
const LOG_SLOT_WRITTEN = 12;
const FILES_AT = 32;
const FILE_ENTRY_FIXED = 2 + 8;
const CRC_SIZE = 4;
const MAX_PATH_BYTES = 0xffff;

/**
 * What a power cut would leave of a store: what the last completed fdatasync
 * of each file covered. Paths are relative to the store directory.
 */
export interface DurableImage {
  /** CommitLog bytes below this offset are durable; past it every segment reads as zeros. */
  logOffset: number;
  /** ConsumeQueue and key-index file (path relative to the store dir) -> durable length; absent: nothing durable. */
  files: Map<string, number>;
}

function logSlotCrc(buf: Buffer, at: number): number {
  return crc32(buf.subarray(at, at + 8));
}

function encode(image: DurableImage): Buffer {
  const names = [...image.files.keys()].map((n) => Buffer.from(n, 'utf8'));
  let size = FILES_AT + 4 + CRC_SIZE;
  for (const n of names) {
    if (n.length > MAX_PATH_BYTES) throw new SyncRecordError(`sync record: path too long (${n.length} bytes)`);
    size += FILE_ENTRY_FIXED + n.length;
  }
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(VERSION, 4);
  writeU64(buf, image.logOffset, LOG_SLOT_AT);
  buf.writeUInt32BE(logSlotCrc(buf, LOG_SLOT_AT), LOG_SLOT_AT + 8);
  buf.writeUInt32BE(names.length, FILES_AT);
  let at = FILES_AT + 4;
  let i = 0;
  for (const length of image.files.values()) {
    const n = names[i++]!;
    buf.writeUInt16BE(n.length, at);
    n.copy(buf, at + 2);
    writeU64(buf, length, at + 2 + n.length);
    at += FILE_ENTRY_FIXED + n.length;
  }
  buf.writeUInt32BE(crc32(buf.subarray(FILES_AT, size - CRC_SIZE)), size - CRC_SIZE);
  return buf;
}

function decode(buf: Buffer, file: string): DurableImage {
  const bad = (what: string): SyncRecordError => new SyncRecordError(`sync record ${file} is not valid: ${what}`);
  if (buf.length < FILES_AT + 4 + CRC_SIZE) throw bad(`${buf.length} bytes, too short (torn, or never written)`);
  if (buf.readUInt32BE(0) !== MAGIC) throw bad('not a sync record (bad magic)');
  if (buf.readUInt32BE(4) !== VERSION) throw bad(`unknown version ${buf.readUInt32BE(4)}`);
  if (logSlotCrc(buf, LOG_SLOT_AT) !== buf.readUInt32BE(LOG_SLOT_AT + 8)) throw bad('the CommitLog offset fails its CRC (torn write)');
  if (crc32(buf.subarray(FILES_AT, buf.length - CRC_SIZE)) !== buf.readUInt32BE(buf.length - CRC_SIZE)) throw bad('the file lengths fail their CRC (torn write)');
  const end = buf.length - CRC_SIZE;
  const files = new Map<string, number>();
  const count = buf.readUInt32BE(FILES_AT);
  let at = FILES_AT + 4;
  for (let i = 0; i < count; i++) {
    if (at + 2 > end) throw bad('file list cut short');
    const n = buf.readUInt16BE(at);
    if (at + FILE_ENTRY_FIXED + n > end) throw bad('file list cut short');
    const name = buf.toString('utf8', at + 2, at + 2 + n);
    if (path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) throw bad(`path ${JSON.stringify(name)} leaves the store directory`);
    files.set(name, readU64(buf, at + 2 + n));
    at += FILE_ENTRY_FIXED + n;
  }
  if (at !== end) throw bad(`${end - at} unexpected trailing bytes`);
  return { logOffset: readU64(buf, LOG_SLOT_AT), files };
}

/**
 * Reads a sync record: what the store's completed fdatasyncs covered when it
 * last wrote it. File paths in the result are relative to the store directory
 * (pass it to cutToDurableImage). A missing, torn or foreign file is a
 * SyncRecordError; there is no fallback (guessing could overstate durability).
 */
export function readSyncRecord(file: string): DurableImage {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new SyncRecordError(`sync record ${file} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return decode(buf, file);
}

/** The writing side, owned by one open store. */
export class SyncRecord {
  readonly #file: string;
  readonly #storeDir: string;
  readonly #slot = Buffer.alloc(LOG_SLOT_WRITTEN);
  #fd: number;
  #image: DurableImage;
  #replacing = false;

  private constructor(file: string, storeDir: string, fd: number, image: DurableImage) {
    this.#file = file;
    this.#storeDir = storeDir;
    this.#fd = fd;
    this.#image = image;
  }

  /**
   * Opens the record for the store in `storeDir`. A valid record left by an
   * earlier run of the store stays as it is (still true: its syncs happened)
   * until this run's recovery has synced and replaces it; anything else is
   * replaced by an empty one (nothing durable: never more than the truth).
   */
  static open(file: string, storeDir: string): SyncRecord {
    let image: DurableImage;
    try {
      image = readSyncRecord(file);
    } catch {
      image = { logOffset: 0, files: new Map() };
      fs.mkdirSync(path.dirname(file), { recursive: true });
      replace(file, image);
    }
    return new SyncRecord(file, storeDir, fs.openSync(file, 'r+'), image);
  }

  /** An fdatasync completed: CommitLog bytes below `offset` are durable. One small pwrite. */
  logDurable(offset: number): void {
    if (offset === this.#image.logOffset) return;
    this.#writeSlot(this.#fd, offset);
    this.#image.logOffset = offset;
  }

  /**
   * The durable lengths of the index files (absolute paths), as the checkpoint
   * about to be written relies on. The new record is written to a temporary
   * file on the thread pool; only the switch (the latest log slot into it,
   * rename) runs on the event loop, in one step, so that no flush cycle's slot
   * write can land in the replaced file.
   */
  async filesDurable(lengths: Iterable<readonly [string, number]>): Promise<void> {
    const files = this.#relative(lengths);
    if (sameFiles(files, this.#image.files)) return;
    // Checkpoints run one at a time; two writers would share the temporary file.
    if (this.#replacing) throw new StoreStateError('sync record: a second file-lengths update while one is being written');
    this.#replacing = true;
    try {
      await this.#replace(files);
    } finally {
      this.#replacing = false;
    }
  }

  async #replace(files: Map<string, number>): Promise<void> {
    const buf = encode({ logOffset: this.#image.logOffset, files });
    const tmp = `${this.#file}.tmp`;
    const fd = await new Promise<number>((resolve, reject) => fs.open(tmp, 'w', (err, f) => (err ? reject(err) : resolve(f))));
    try {
      for (let done = 0; done < buf.length; ) {
        done += await new Promise<number>((resolve, reject) => fs.write(fd, buf, done, buf.length - done, done, (err, n) => (err ? reject(err) : resolve(n))));
      }
      this.#writeSlot(fd, this.#image.logOffset);
      fs.renameSync(tmp, this.#file);
    } catch (err) {
      fs.close(fd, () => undefined);
      throw err;
    }
    this.#switchTo(fd, files);
  }

  /** filesDurable, synchronously (at open, where the event loop has nothing else to do). */
  filesDurableSync(lengths: Iterable<readonly [string, number]>): void {
    const files = this.#relative(lengths);
    if (sameFiles(files, this.#image.files)) return;
    replace(this.#file, { logOffset: this.#image.logOffset, files });
    this.#switchTo(fs.openSync(this.#file, 'r+'), files);
  }

  close(): void {
    fs.closeSync(this.#fd);
  }

  #relative(lengths: Iterable<readonly [string, number]>): Map<string, number> {
    const files = new Map<string, number>();
    for (const [file, length] of lengths) files.set(path.relative(this.#storeDir, file), length);
    return files;
  }

  #writeSlot(fd: number, offset: number): void {
    const slot = this.#slot;
    writeU64(slot, offset, 0);
    slot.writeUInt32BE(logSlotCrc(slot, 0), 8);
    writeFully(fd, slot, 0, LOG_SLOT_WRITTEN, LOG_SLOT_AT);
  }

  /** `fd` is the record's file from now on; the replaced one is closed off the event loop (freeing its blocks takes a while). */
  #switchTo(fd: number, files: Map<string, number>): void {
    const old = this.#fd;
    this.#fd = fd;
    this.#image = { logOffset: this.#image.logOffset, files };
    fs.close(old, () => undefined);
  }
}

function replace(file: string, image: DurableImage): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, encode(image));
  fs.renameSync(tmp, file);
}

function sameFiles(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
