// cutToDurableImage on a hand-made store directory: CommitLog segments keep
// their size with every byte past the durable offset zeroed (counted), index
// files are cut to their durable length (to nothing when absent from the
// image), the lock goes, everything else stays.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cutToDurableImage } from './power-cut.js';

const SEGMENT = 4096;
let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

function put(rel: string, data: Buffer): void {
  const file = path.join(dir!, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

describe('cutToDurableImage', () => {
  it('zeroes the log past the durable offset and cuts index files to their durable length', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-cut-'));
    const full = Buffer.alloc(SEGMENT, 0xab);
    const half = Buffer.concat([Buffer.alloc(SEGMENT / 2, 0xcd), Buffer.alloc(SEGMENT / 2)]);
    put('commitlog/00000000000000000000', full);
    put('commitlog/00000000000000004096', half);
    put('commitlog/00000000000000008192', Buffer.alloc(SEGMENT)); // preallocated ahead
    const queueFile = path.join('consumequeue', 'orders', '0', '00000000000000000000');
    put(queueFile, Buffer.alloc(200, 1));
    put(path.join('consumequeue', 'orders', '1', '00000000000000000000'), Buffer.alloc(60, 1));
    put(path.join('index', '00000000000000000000'), Buffer.alloc(500, 2));
    put('checkpoint', Buffer.from('cp'));
    put('lock', Buffer.from('123'));

    const durable = SEGMENT + 1000;
    const stats = cutToDurableImage(dir, { logOffset: durable, files: new Map([[queueFile, 120], [path.join('index', '00000000000000000000'), 900]]) });

    expect(fs.readFileSync(path.join(dir, 'commitlog/00000000000000000000')).equals(full)).toBe(true);
    const second = fs.readFileSync(path.join(dir, 'commitlog/00000000000000004096'));
    expect(second.length).toBe(SEGMENT);
    expect(second.subarray(0, 1000).equals(half.subarray(0, 1000))).toBe(true);
    expect(second.subarray(1000).every((b) => b === 0)).toBe(true);
    expect(fs.statSync(path.join(dir, 'commitlog/00000000000000008192')).size).toBe(SEGMENT);
    expect(stats.zeroedLogBytes).toBe(SEGMENT / 2 - 1000);

    expect(fs.statSync(path.join(dir, queueFile)).size).toBe(120);
    expect(fs.statSync(path.join(dir, 'consumequeue', 'orders', '1', '00000000000000000000')).size).toBe(0);
    expect(fs.statSync(path.join(dir, 'index', '00000000000000000000')).size).toBe(500); // never grown past its size
    expect(stats.cutIndexBytes).toBe(80 + 60);
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'checkpoint'), 'utf8')).toBe('cp');
  });
});
