// The checkpoint file: version 2 (with index tails) round-trips, version 1
// (the header alone) is still read, and a damaged file reads as none.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { writeU64 } from '../common/index.js';
import { checkpointPath, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('checkpoint file', () => {
  it('round-trips the offsets and every index tail', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-cp-'));
    const cp: Checkpoint = {
      safeOffset: 2 ** 40 + 7,
      verifyFrom: 2 ** 40,
      timestamp: 1_700_000_000_000,
      tails: {
        logMinOffset: 2 ** 34,
        queues: new Map([
          [
            'orders',
            [
              { min: 0, count: 0 },
              { min: 3, count: 5 },
              { min: 2 ** 32, count: 2 ** 33 },
            ],
          ],
          ['%RETRY%g', [{ min: 0, count: 1 }]],
        ]),
        keyFiles: [
          { base: 0, entries: 4_000_000, end: 2 ** 35 },
          { base: 2 ** 35 + 10, entries: 3, end: 2 ** 35 + 500 },
        ],
      },
    };
    writeCheckpoint(dir, cp);
    expect(readCheckpoint(dir)).toEqual(cp);
    // Any flipped byte is caught by the CRC.
    const bytes = fs.readFileSync(checkpointPath(dir));
    for (const at of [9, 40, bytes.length - 5]) {
      const bad = Buffer.from(bytes);
      bad[at] = bad[at]! ^ 1;
      fs.writeFileSync(checkpointPath(dir), bad);
      expect(readCheckpoint(dir)).toBeUndefined();
    }
  });

  it('reads a version-1 checkpoint (no tails)', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-cp-'));
    const buf = Buffer.alloc(36);
    buf.writeUInt32BE(0x4d51434b, 0);
    buf.writeUInt32BE(1, 4);
    writeU64(buf, 900, 8);
    writeU64(buf, 800, 16);
    writeU64(buf, 123, 24);
    buf.writeUInt32BE(crc32(buf.subarray(0, 32)), 32);
    fs.writeFileSync(checkpointPath(dir), buf);
    expect(readCheckpoint(dir)).toEqual({ safeOffset: 900, verifyFrom: 800, timestamp: 123 });
  });
});
