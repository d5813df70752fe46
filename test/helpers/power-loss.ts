// Simulated power cut: copies a live store directory as a power failure at
// this instant would leave it, using MessageStore.durableImage(): CommitLog
// segments keep their size but bytes past their durable length read as zeros;
// ConsumeQueue and key-index files are cut to their durable length (0 when
// never synced); checkpoint and topic table are copied as they are; the lock
// file is dropped. Must run synchronously (one macrotask) with the image.
import fs from 'node:fs';
import path from 'node:path';
import type { DurableImage } from '../../src/store/index.js';
import { listFiles } from './temp-dir.js';

export interface PowerLossCopyStats {
  /** CommitLog bytes written but not durable, zeroed in the copy. */
  zeroedLogBytes: number;
  /** ConsumeQueue / index bytes cut off in the copy. */
  cutIndexBytes: number;
}

export function copyAsAfterPowerLoss(src: string, dst: string, image: DurableImage): PowerLossCopyStats {
  const durableSegment = new Map([...image.segments].map(([p, n]) => [path.relative(src, p), n]));
  const durableFile = new Map([...image.files].map(([p, n]) => [path.relative(src, p), n]));
  const stats: PowerLossCopyStats = { zeroedLogBytes: 0, cutIndexBytes: 0 };
  for (const rel of listFiles(src)) {
    if (rel === 'lock') continue;
    const from = path.join(src, rel);
    const to = path.join(dst, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    const top = rel.split(path.sep)[0];
    if (top === 'commitlog') {
      const size = fs.statSync(to).size;
      const durable = durableSegment.get(rel) ?? 0;
      if (durable < size) {
        const fd = fs.openSync(to, 'r+');
        try {
          const zeros = Buffer.alloc(1 << 20);
          const probe = Buffer.alloc(1 << 20);
          for (let pos = durable; pos < size; pos += zeros.length) {
            const len = Math.min(zeros.length, size - pos);
            fs.readSync(fd, probe, 0, len, pos);
            for (let i = 0; i < len; i++) if (probe[i] !== 0) stats.zeroedLogBytes++;
            fs.writeSync(fd, zeros, 0, len, pos);
          }
        } finally {
          fs.closeSync(fd);
        }
      }
    } else if (top === 'consumequeue' || top === 'index') {
      const size = fs.statSync(to).size;
      const durable = Math.min(size, durableFile.get(rel) ?? 0);
      if (durable < size) {
        fs.truncateSync(to, durable);
        stats.cutIndexBytes += size - durable;
      }
    }
  }
  return stats;
}
