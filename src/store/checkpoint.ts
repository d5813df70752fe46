// The checkpoint: the CommitLog offset below which everything (log records,
// ConsumeQueue entries, key index entries) is known to be on disk, the
// earlier point from which recovery re-verifies the log and rebuilds indexes,
// and how long each index was when it was synced (so that recovery can tell an
// index that lost entries and rebuild it from the log). A small binary file,
// replaced atomically (write, fdatasync, rename, directory fsync).
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { readU64, writeU64 } from '../common/index.js';
import { writeFileAtomic, writeFileAtomicAsync } from './file-io.js';

const CHECKPOINT_MAGIC = 0x4d51434b; // "MQCK"
/** Version 1: the 36-byte header alone. Version 2 adds the index tails. */
const VERSION_HEADER_ONLY = 1;
const VERSION_WITH_TAILS = 2;
const HEADER_SIZE = 32;
const CRC_SIZE = 4;
const V1_SIZE = HEADER_SIZE + CRC_SIZE;
const KEY_FILE_TAIL_SIZE = 20;
const QUEUE_TAIL_SIZE = 16;

/** A key-index file as the checkpoint saw it: its name (offset of its first entry), entries and last entry's offset. */
export interface KeyFileTail {
  base: number;
  entries: number;
  end: number;
}

/** One queue as the checkpoint saw it: its first readable queue offset and the offset of its next entry. */
export interface QueueTail {
  min: number;
  count: number;
}

/** How long every index was when the checkpoint was written (all of it fdatasynced before). */
export interface IndexTails {
  /** The CommitLog's first offset then (retention since moves it, and queues' minimums with it). */
  logMinOffset: number;
  /** topic -> each queue's bounds in its ConsumeQueue files. */
  queues: Map<string, QueueTail[]>;
  keyFiles: KeyFileTail[];
}

export interface Checkpoint {
  /** Everything below this CommitLog offset is durable, indexes included. */
  safeOffset: number;
  /**
   * A record boundary <= safeOffset from which recovery re-verifies the log:
   * the safe offset before the last one that moved. So the last data written
   * is checked (CRC and all) at every open, even after a clean stop.
   */
  verifyFrom: number;
  timestamp: number;
  /** Absent in a version-1 checkpoint. */
  tails?: IndexTails;
}

export function checkpointPath(dir: string): string {
  return path.join(dir, 'checkpoint');
}

export function readCheckpoint(dir: string): Checkpoint | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(checkpointPath(dir));
  } catch {
    return undefined;
  }
  if (buf.length < V1_SIZE || buf.readUInt32BE(0) !== CHECKPOINT_MAGIC) return undefined;
  const version = buf.readUInt32BE(4);
  if (version !== VERSION_HEADER_ONLY && version !== VERSION_WITH_TAILS) return undefined;
  if (version === VERSION_HEADER_ONLY && buf.length !== V1_SIZE) return undefined;
  if (crc32(buf.subarray(0, buf.length - CRC_SIZE)) !== buf.readUInt32BE(buf.length - CRC_SIZE)) return undefined;
  const cp: Checkpoint = { safeOffset: readU64(buf, 8), verifyFrom: Math.min(readU64(buf, 16), readU64(buf, 8)), timestamp: readU64(buf, 24) };
  if (version === VERSION_WITH_TAILS) {
    try {
      cp.tails = decodeTails(buf, HEADER_SIZE, buf.length - CRC_SIZE);
    } catch {
      return undefined;
    }
  }
  return cp;
}

function decodeTails(buf: Buffer, from: number, end: number): IndexTails {
  let at = from;
  const need = (n: number): void => {
    if (at + n > end) throw new RangeError('checkpoint tails cut short');
  };
  need(8);
  const logMinOffset = readU64(buf, at);
  at += 8;
  need(4);
  const keyFiles: KeyFileTail[] = [];
  for (let n = buf.readUInt32BE(at), i = ((at += 4), 0); i < n; i++) {
    need(KEY_FILE_TAIL_SIZE);
    keyFiles.push({ base: readU64(buf, at), entries: buf.readUInt32BE(at + 8), end: readU64(buf, at + 12) });
    at += KEY_FILE_TAIL_SIZE;
  }
  need(4);
  const queues = new Map<string, QueueTail[]>();
  for (let n = buf.readUInt32BE(at), i = ((at += 4), 0); i < n; i++) {
    need(1);
    const nameLength = buf[at]!;
    need(1 + nameLength + 4);
    const name = buf.toString('latin1', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const count = buf.readUInt32BE(at);
    at += 4;
    need(QUEUE_TAIL_SIZE * count);
    const tails: QueueTail[] = [];
    for (let q = 0; q < count; q++, at += QUEUE_TAIL_SIZE) tails.push({ min: readU64(buf, at), count: readU64(buf, at + 8) });
    queues.set(name, tails);
  }
  return { logMinOffset, queues, keyFiles };
}

function encode(cp: Checkpoint): Buffer {
  const tails = cp.tails;
  let size = HEADER_SIZE + CRC_SIZE;
  if (tails !== undefined) {
    size += 8 + 4 + tails.keyFiles.length * KEY_FILE_TAIL_SIZE + 4;
    for (const [name, queues] of tails.queues) size += 1 + name.length + 4 + QUEUE_TAIL_SIZE * queues.length;
  }
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(CHECKPOINT_MAGIC, 0);
  buf.writeUInt32BE(tails === undefined ? VERSION_HEADER_ONLY : VERSION_WITH_TAILS, 4);
  writeU64(buf, cp.safeOffset, 8);
  writeU64(buf, cp.verifyFrom, 16);
  writeU64(buf, cp.timestamp, 24);
  if (tails !== undefined) {
    let at = HEADER_SIZE;
    writeU64(buf, tails.logMinOffset, at);
    at += 8;
    buf.writeUInt32BE(tails.keyFiles.length, at);
    at += 4;
    for (const k of tails.keyFiles) {
      writeU64(buf, k.base, at);
      buf.writeUInt32BE(k.entries, at + 8);
      writeU64(buf, k.end, at + 12);
      at += KEY_FILE_TAIL_SIZE;
    }
    buf.writeUInt32BE(tails.queues.size, at);
    at += 4;
    for (const [name, queues] of tails.queues) {
      buf[at] = name.length;
      buf.write(name, at + 1, 'latin1');
      at += 1 + name.length;
      buf.writeUInt32BE(queues.length, at);
      at += 4;
      for (const q of queues) {
        writeU64(buf, q.min, at);
        writeU64(buf, q.count, at + 8);
        at += QUEUE_TAIL_SIZE;
      }
    }
  }
  buf.writeUInt32BE(crc32(buf.subarray(0, size - CRC_SIZE)), size - CRC_SIZE);
  return buf;
}

export function writeCheckpoint(dir: string, cp: Checkpoint): void {
  writeFileAtomic(checkpointPath(dir), encode(cp), dir);
}

export function writeCheckpointAsync(dir: string, cp: Checkpoint): Promise<void> {
  return writeFileAtomicAsync(checkpointPath(dir), encode(cp), dir);
}
