// The pool of spare CommitLog segments, on real files: a spare made at open
// is whole and zero; a background fill writes nothing while the store is busy
// and completes once it is quiet; recycled segments are kept while the pool is
// short and are never handed out at or below their old offsets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAllZero } from '../../common/index.js';
import { PREALLOC_SUFFIX, SegmentPreallocator } from './segment-preallocator.js';

const SEGMENT = 8 << 20;
let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tmp(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-prealloc-'));
  return dir;
}

const files = (d: string, suffix: string): string[] => fs.readdirSync(d).filter((n) => n.endsWith(suffix));

/** A closed "segment" file of the segment size full of 0xAB, as retention would free it. */
function oldSegment(d: string, base: number): string {
  const file = path.join(d, String(base).padStart(20, '0'));
  fs.writeFileSync(file, Buffer.alloc(SEGMENT, 0xab));
  return file;
}

describe('SegmentPreallocator', () => {
  it('ensureOne() makes a whole zero-filled spare, flat out, even while the store is busy', async () => {
    const d = tmp();
    const p = new SegmentPreallocator(d, SEGMENT, 2);
    p.yieldTo(() => true);
    await p.ensureOne();
    expect(p.ready).toBe(1);
    const [name] = files(d, '.zeroed');
    const bytes = fs.readFileSync(path.join(d, name!));
    expect(bytes.length).toBe(SEGMENT);
    expect(isAllZero(bytes, 0, bytes.length)).toBe(true);
    expect(files(d, PREALLOC_SUFFIX)).toEqual([]);
    const taken = p.take(0);
    expect(taken).toBe(path.join(d, name!));
    expect(p.ready).toBe(0);
  });

  it('a background fill writes nothing while the store is busy, then fills the pool once it is quiet', async () => {
    const d = tmp();
    const p = new SegmentPreallocator(d, SEGMENT, 2);
    let busy = true;
    let asked = 0;
    p.yieldTo(() => {
      asked++;
      return busy;
    });
    p.start();
    await new Promise((r) => setTimeout(r, 150));
    expect(asked).toBeGreaterThan(2);
    expect(p.ready).toBe(0);
    const partial = files(d, PREALLOC_SUFFIX);
    expect(partial.length).toBe(1);
    expect(fs.statSync(path.join(d, partial[0]!)).size).toBe(0); // not a byte while busy
    busy = false;
    for (let i = 0; i < 200 && p.ready < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(p.ready).toBe(2);
    expect(p.completed).toBe(2);
    await p.stop();
    expect(files(d, PREALLOC_SUFFIX)).toEqual([]);
  });

  it('stop() while waiting for quiet removes the half-made file', async () => {
    const d = tmp();
    const p = new SegmentPreallocator(d, SEGMENT, 1);
    p.yieldTo(() => true);
    p.start();
    await new Promise((r) => setTimeout(r, 30));
    await p.stop();
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('recycles freed segments while the pool is short, deletes them after, and reuses one only above its old offsets', () => {
    const d = tmp();
    const p = new SegmentPreallocator(d, SEGMENT, 2);
    expect(p.recycle(oldSegment(d, 0), 0)).toBe(true);
    expect(p.recycle(oldSegment(d, SEGMENT), SEGMENT)).toBe(true);
    expect(p.recycle(oldSegment(d, 2 * SEGMENT), 2 * SEGMENT)).toBe(false); // pool full: deleted
    expect(fs.readdirSync(d).sort()).toEqual([`${'0'.padStart(20, '0')}.recycled`, `${String(SEGMENT).padStart(20, '0')}.recycled`]);
    // At its own base (or below) a recycled file's stale records would sit at their old offsets.
    expect(p.take(0)).toBeUndefined();
    expect(p.take(SEGMENT)).toBe(path.join(d, `${'0'.padStart(20, '0')}.recycled`));
    expect(p.take(SEGMENT)).toBeUndefined();
    expect(p.take(2 * SEGMENT)).toBe(path.join(d, `${String(SEGMENT).padStart(20, '0')}.recycled`));
    expect(p.recycled).toBe(2);
  });

  it('dropRecycledFrom() deletes recycled spares that held offsets at or above a lower restart point', () => {
    const d = tmp();
    const p = new SegmentPreallocator(d, SEGMENT, 3);
    p.recycle(oldSegment(d, 0), 0);
    p.recycle(oldSegment(d, 4 * SEGMENT), 4 * SEGMENT);
    p.dropRecycledFrom(2 * SEGMENT);
    expect(p.ready).toBe(1);
    expect(fs.readdirSync(d)).toEqual([`${'0'.padStart(20, '0')}.recycled`]);
  });

  it('at open: a crashed fill is removed, whole spares are adopted, spares of another size deleted', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, `${'3'.padStart(20, '0')}${PREALLOC_SUFFIX}`), Buffer.alloc(1024));
    fs.writeFileSync(path.join(d, `${'1'.padStart(20, '0')}.zeroed`), Buffer.alloc(SEGMENT));
    fs.writeFileSync(path.join(d, `${'2'.padStart(20, '0')}.zeroed`), Buffer.alloc(SEGMENT / 2));
    fs.writeFileSync(path.join(d, `${String(5 * SEGMENT).padStart(20, '0')}.recycled`), Buffer.alloc(SEGMENT, 1));
    const p = new SegmentPreallocator(d, SEGMENT, 2);
    expect(p.ready).toBe(2);
    expect(fs.readdirSync(d).sort()).toEqual([`${'1'.padStart(20, '0')}.zeroed`, `${String(5 * SEGMENT).padStart(20, '0')}.recycled`]);
    // The adopted recycled file keeps its old base: not reusable at or below it.
    expect(p.take(5 * SEGMENT)).toBe(path.join(d, `${'1'.padStart(20, '0')}.zeroed`));
    expect(p.take(5 * SEGMENT)).toBeUndefined();
    expect(p.take(6 * SEGMENT)).toBe(path.join(d, `${String(5 * SEGMENT).padStart(20, '0')}.recycled`));
  });
});
