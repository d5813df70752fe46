// The fd cache never holds more than its bound, keeps pinned fds open, and
// reopens evicted files transparently.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FdCache } from './fd-cache.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('FdCache', () => {
  it('bounds open files, LRU first, sparing pinned ones', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-fd-'));
    const cache = new FdCache(3);
    const p = (i: number): string => path.join(dir!, String(i));
    const pinned = cache.pin(p(0));
    for (let i = 1; i < 10; i++) {
      const fd = cache.get(p(i));
      fs.writeSync(fd, `file ${i}`, 0);
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    // The pinned fd survived every eviction and still works.
    expect(fs.fstatSync(pinned).isFile()).toBe(true);
    cache.unpin(p(0));
    // An evicted file is reopened on use, contents intact.
    const buf = Buffer.alloc(6);
    fs.readSync(cache.get(p(1)), buf, 0, 6, 0);
    expect(buf.toString()).toBe('file 1');
    cache.closeAll();
    expect(cache.size).toBe(0);
  });
});
