// The background zero-fill of the next CommitLog segment, on real files: it
// completes under its final name, and a paced fill stands aside while sync
// flushes are waiting (the yield), then finishes once they are not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { offsetFileName } from '../../common/index.js';
import { PREALLOC_SUFFIX, SegmentPreallocator } from './segment-preallocator.js';

const SEGMENT = 8 << 20;
let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function setup(): { p: SegmentPreallocator; final: string } {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-prealloc-'));
  return { p: new SegmentPreallocator(dir, SEGMENT), final: path.join(dir, offsetFileName(SEGMENT)) };
}

describe('SegmentPreallocator', () => {
  it('zero-fills the segment and gives it its final name when complete', async () => {
    const { p, final } = setup();
    await p.prepare(SEGMENT);
    expect(fs.statSync(final).size).toBe(SEGMENT);
    expect(fs.existsSync(final + PREALLOC_SUFFIX)).toBe(false);
    expect(p.completed).toBe(1);
  });

  it('a paced fill waits while sync flushes are busy, and completes once they are not', async () => {
    const { p, final } = setup();
    let busy = true;
    let asked = 0;
    p.yieldTo(() => {
      asked++;
      return busy;
    });
    const done = p.prepare(SEGMENT);
    await new Promise((r) => setTimeout(r, 100));
    expect(asked).toBeGreaterThan(1);
    expect(fs.existsSync(final)).toBe(false);
    expect(fs.statSync(final + PREALLOC_SUFFIX).size).toBe(0); // not a byte written while busy
    busy = false;
    await done;
    expect(fs.statSync(final).size).toBe(SEGMENT);
  });

  it('an unpaced fill (at open, nobody waits yet) does not yield', async () => {
    const { p, final } = setup();
    p.yieldTo(() => true);
    await p.prepare(SEGMENT, false);
    expect(fs.statSync(final).size).toBe(SEGMENT);
  });

  it('stop() while yielding cancels the fill and leaves no file behind', async () => {
    const { p, final } = setup();
    p.yieldTo(() => true);
    void p.prepare(SEGMENT);
    await new Promise((r) => setTimeout(r, 30));
    await p.stop();
    expect(fs.existsSync(final)).toBe(false);
    expect(fs.existsSync(final + PREALLOC_SUFFIX)).toBe(false);
  });
});
