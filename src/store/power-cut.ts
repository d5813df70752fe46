// A simulated power cut, for fault injection: cuts a store directory (of a
// store that is not open: its process was killed) in place to what a power
// failure would have left, given what each file's last completed fdatasync
// covered (a DurableImage: from the sync record the killed process kept, or
// from a live store's durableImage() applied to a copy). CommitLog segments
// keep their (preallocated) size but read as zeros past the durable offset;
// ConsumeQueue and key-index files are cut to their durable length, to
// nothing when never synced; the lock file goes. Checkpoint, topic table and
// everything else written atomically (fsync and rename) stay as they are.
import fs from 'node:fs';
import path from 'node:path';
import { isAllZero } from '../common/index.js';
import type { DurableImage } from './sync-record.js';

const SEGMENT_NAME = /^\d{20}$/;
const WIPE_CHUNK = 1 << 20;
/** Directories whose files a power cut shortens to their durable length. */
const INDEX_DIRS = ['consumequeue', 'index'];

export interface PowerCutStats {
  /** CommitLog bytes that were written but not durable (non-zero bytes zeroed). */
  zeroedLogBytes: number;
  /** ConsumeQueue / key-index bytes cut off. */
  cutIndexBytes: number;
}

export function cutToDurableImage(storeDir: string, image: DurableImage): PowerCutStats {
  const stats: PowerCutStats = { zeroedLogBytes: 0, cutIndexBytes: 0 };
  fs.rmSync(path.join(storeDir, 'lock'), { force: true });
  const logDir = path.join(storeDir, 'commitlog');
  const names = fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((n) => SEGMENT_NAME.test(n)) : [];
  for (const name of names) stats.zeroedLogBytes += zeroPast(path.join(logDir, name), Math.max(0, image.logOffset - Number(name)));
  for (const top of INDEX_DIRS) {
    for (const rel of filesBelow(storeDir, top)) {
      const file = path.join(storeDir, rel);
      const size = fs.statSync(file).size;
      const durable = Math.min(size, image.files.get(rel) ?? 0);
      if (durable < size) {
        fs.truncateSync(file, durable);
        stats.cutIndexBytes += size - durable;
      }
    }
  }
  return stats;
}

/** Zeroes a segment from `durable` on, keeping its size; returns how many non-zero bytes went. */
function zeroPast(file: string, durable: number): number {
  const fd = fs.openSync(file, 'r+');
  let zeroed = 0;
  try {
    const size = fs.fstatSync(fd).size;
    const probe = Buffer.alloc(WIPE_CHUNK);
    const zeros = Buffer.alloc(WIPE_CHUNK);
    for (let pos = durable; pos < size; pos += WIPE_CHUNK) {
      const len = Math.min(WIPE_CHUNK, size - pos);
      const n = fs.readSync(fd, probe, 0, len, pos);
      // Preallocated zeros need no rewrite (a 1 GiB segment is mostly them).
      if (isAllZero(probe, 0, n)) continue;
      for (let i = 0; i < n; i++) if (probe[i] !== 0) zeroed++;
      fs.writeSync(fd, zeros, 0, len, pos);
    }
  } finally {
    fs.closeSync(fd);
  }
  return zeroed;
}

/** Files below `storeDir/top`, as paths relative to storeDir. */
function filesBelow(storeDir: string, top: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(storeDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk(top);
  return out;
}
