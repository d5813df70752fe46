// ConsumeQueue entries are readable the moment they are published, whether
// they sit in the file, in the in-memory tail, or across both and across
// file boundaries; and they survive a write-out and a reload byte for byte.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readU64 } from '../common/index.js';
import { CQ_ENTRY_SIZE, CQ_OFF_PHYSICAL, CQ_OFF_SIZE, CQ_OFF_TAGS_CODE, ConsumeQueue } from './consume-queue.js';
import { DirectorySyncs } from './directory-syncs.js';
import { FdCache } from './fd-cache.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

const PER_FILE = 100;
const entry = (n: number): [number, number, number] => [2 ** 40 + n * 300, 200 + (n % 50), (n * 7919) % 2 ** 32];

function readAll(cq: ConsumeQueue, from: number, chunk: number): number[] {
  const buf = Buffer.alloc(chunk * CQ_ENTRY_SIZE);
  const seen: number[] = [];
  for (let o = from; o < cq.maxOffset; ) {
    const n = cq.readEntries(o, chunk, buf);
    expect(n).toBeGreaterThan(0);
    for (let k = 0; k < n; k++) {
      const [p, s, t] = entry(o + k);
      expect(readU64(buf, k * CQ_ENTRY_SIZE + CQ_OFF_PHYSICAL)).toBe(p);
      expect(buf.readUInt32BE(k * CQ_ENTRY_SIZE + CQ_OFF_SIZE)).toBe(s);
      expect(readU64(buf, k * CQ_ENTRY_SIZE + CQ_OFF_TAGS_CODE)).toBe(t);
      seen.push(o + k);
    }
    o += n;
  }
  return seen;
}

describe('ConsumeQueue', () => {
  it('serves entries from files and the in-memory tail alike, across file boundaries', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-cq-'));
    const fds = new FdCache(16);
    const dirty = new Set<string>();
    const cq = new ConsumeQueue('t', 0, path.join(dir, 't', '0'), PER_FILE, fds, new DirectorySyncs());
    let next = 0;
    const addAndPublish = (count: number): void => {
      for (let i = 0; i < count; i++) cq.add(...entry(next++));
      expect(cq.hasPending).toBe(true);
      cq.publish(dirty);
      expect(cq.hasPending).toBe(false);
    };
    addAndPublish(150); // stays in memory (below the write-out size)
    expect(cq.unwritten).toBe(true);
    expect(readAll(cq, 0, 64)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    addAndPublish(300); // passes the write-out size: files 0..3 are written
    addAndPublish(37); // a new tail on top of the files
    expect(cq.maxOffset).toBe(487);
    for (const chunk of [1, 7, 64, 500]) expect(readAll(cq, 0, chunk)).toHaveLength(487);
    expect(readAll(cq, 449, 64)).toHaveLength(38); // starts in a file, ends in the tail

    // Added but unpublished entries are invisible and can be dropped.
    cq.add(...entry(next));
    expect(cq.maxOffset).toBe(487);
    cq.dropPending();
    expect(cq.nextOffset).toBe(487);

    cq.writeTail(dirty);
    expect(cq.unwritten).toBe(false);
    fds.closeAll();
    const reloaded = new ConsumeQueue('t', 0, path.join(dir, 't', '0'), PER_FILE, new FdCache(16), new DirectorySyncs());
    reloaded.load();
    expect(reloaded.maxOffset).toBe(487);
    expect(readAll(reloaded, 0, 33)).toHaveLength(487);
  });
});
