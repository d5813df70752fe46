// The checkpoint: the CommitLog offset below which everything (log records,
// ConsumeQueue entries, key index entries) is known to be on disk, and the
// earlier point from which recovery re-verifies the log and rebuilds indexes.
// A small binary file, replaced atomically (write, fdatasync, rename).
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { readU64, writeU64 } from '../common/index.js';
import { writeFileAtomic, writeFileAtomicAsync } from './file-io.js';

const CHECKPOINT_MAGIC = 0x4d51434b; // "MQCK"
const CHECKPOINT_VERSION = 1;
const SIZE = 36;

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
  if (buf.length !== SIZE || buf.readUInt32BE(0) !== CHECKPOINT_MAGIC || buf.readUInt32BE(4) !== CHECKPOINT_VERSION) return undefined;
  if (crc32(buf.subarray(0, SIZE - 4)) !== buf.readUInt32BE(SIZE - 4)) return undefined;
  return { safeOffset: readU64(buf, 8), verifyFrom: Math.min(readU64(buf, 16), readU64(buf, 8)), timestamp: readU64(buf, 24) };
}

function encode(cp: Checkpoint): Buffer {
  const buf = Buffer.alloc(SIZE);
  buf.writeUInt32BE(CHECKPOINT_MAGIC, 0);
  buf.writeUInt32BE(CHECKPOINT_VERSION, 4);
  writeU64(buf, cp.safeOffset, 8);
  writeU64(buf, cp.verifyFrom, 16);
  writeU64(buf, cp.timestamp, 24);
  buf.writeUInt32BE(crc32(buf.subarray(0, SIZE - 4)), SIZE - 4);
  return buf;
}

export function writeCheckpoint(dir: string, cp: Checkpoint): void {
  writeFileAtomic(checkpointPath(dir), encode(cp), dir);
}

export function writeCheckpointAsync(dir: string, cp: Checkpoint): Promise<void> {
  return writeFileAtomicAsync(checkpointPath(dir), encode(cp), dir);
}
