// Recycled CommitLog segments (retention renames a freed segment into the
// spare pool; the next roll reuses it with its old bytes in place): after a
// crash inside a recycled segment, recovery ends the log at its real end.
// The stale bytes past that end are whole, CRC-valid records of the old life,
// lined up exactly on the new record boundaries (every record is the same
// size); only the offset each record carries tells them apart. And spare
// segments are zero-filled only while the store is quiet: not beside a load.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAllZero } from '../../src/common/index.js';
import { checkRecord, RecordCheck } from '../../src/message/index.js';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched, waitUntil } from '../helpers/wait.js';

const SEGMENT = 256 * 1024;
const BODY = 200;
const SEED = 13;
const TOPIC = 'recycle';
const QUEUES = 2;
const HOUR = 3_600_000;
const MAX_RECORD = 64 * 1024;

/** Every body the same size, so that every record is: the new life's boundaries fall on the old one's. */
function body(q: number, offset: number): Buffer {
  const b = Buffer.alloc(BODY, SEED);
  b.writeUInt32BE(q, 0);
  b.writeUInt32BE(offset, 4);
  return b;
}

function config(dir: string): MessageStoreConfig {
  return {
    dir,
    flushMode: 'sync',
    segmentSize: SEGMENT,
    maxMessageSize: 4096,
    preallocateSegments: true,
    spareSegments: 4,
    retentionMs: HOUR,
    retentionCheckIntervalMs: 0,
    // The last checkpoint stays far behind: recovery re-verifies from it, through the recycled segment.
    checkpointIntervalMs: HOUR,
  };
}

const segmentFiles = (dir: string): string[] =>
  fs
    .readdirSync(path.join(dir, 'commitlog'))
    .filter((n) => /^\d{20}$/.test(n))
    .sort();

describe('segment recycling', () => {
  const tempDir = useTempDirs('recycle');

  it('a crash inside a recycled segment: recovery cuts at the real end, never at a stale record of the old life', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir));
    const next = [0, 0];
    const put = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const q = i % QUEUES;
        const batch = Array.from({ length: 8 }, (_, k) => ({ body: body(q, next[q]! + k) }));
        const r = await store.put(TOPIC, q, batch);
        expect(r.queueOffset).toBe(next[q]);
        next[q]! += batch.length;
      }
    };
    let crashCopy: string;
    let realEnd: number;
    let recycledFile: string;
    try {
      store.createTopic(TOPIC, QUEUES);
      while (store.stats().segments < 4) await put(8);
      await waitDispatched(store);
      await waitUntil(() => store.stats().flushedOffset >= store.stats().writtenOffset, 'log flushed');
      // Retention frees the two oldest segments: kept as spares, not deleted.
      expect(store.deleteExpiredSegments(Date.now() + 2 * HOUR)).toBe(3);
      expect(fs.readdirSync(path.join(dir, 'commitlog')).filter((n) => n.endsWith('.recycled')).length).toBeGreaterThan(0);
      // Roll into a recycled segment and write a little of it.
      const rolledAt = store.stats().writtenOffset;
      const nextBase = Math.ceil(rolledAt / SEGMENT) * SEGMENT;
      while (store.stats().writtenOffset < nextBase + SEGMENT / 4) await put(2);
      await waitUntil(() => store.stats().flushedOffset >= store.stats().writtenOffset, 'log flushed');
      realEnd = store.stats().writtenOffset;
      const current = segmentFiles(dir).at(-1)!;
      expect(Number(current)).toBe(nextBase);
      recycledFile = path.join(dir, 'commitlog', current);
      // The segment really is recycled: past the end lie the old life's records, on the new boundaries,
      // CRC-valid, and valid as records at the offset they were written at; only the offset check refuses them here.
      const stale = Buffer.alloc(MAX_RECORD);
      const fd = fs.openSync(recycledFile, 'r');
      fs.readSync(fd, stale, 0, stale.length, realEnd - nextBase);
      fs.closeSync(fd);
      const carried = Number(stale.readBigUInt64BE(28));
      expect(carried).toBeLessThan(nextBase);
      expect((realEnd - carried) % SEGMENT).toBe(0);
      expect(checkRecord(stale, 0, stale.length, MAX_RECORD, carried, true)).toBe(RecordCheck.Ok);
      expect(checkRecord(stale, 0, stale.length, MAX_RECORD, realEnd, true)).toBe(RecordCheck.Invalid);
      // The crash: the directory as it is now, every acknowledged write on disk, no clean close.
      crashCopy = `${dir}-crash`;
      fs.cpSync(dir, crashCopy, { recursive: true });
    } finally {
      await store.close();
    }

    const reopened = await MessageStore.open(config(crashCopy));
    try {
      expect(reopened.stats().recovered).toBe(true);
      expect(reopened.stats().writtenOffset).toBe(realEnd);
      await waitDispatched(reopened);
      for (let q = 0; q < QUEUES; q++) {
        expect(reopened.maxOffset(TOPIC, q)).toBe(next[q]);
        const got = readQueue(reopened, TOPIC, q, reopened.minOffset(TOPIC, q));
        for (const m of got) expect(m.body.equals(body(q, m.queueOffset))).toBe(true);
      }
      // The stale tail was wiped: a later shorter write can never be followed by an old record.
      const rest = fs.readFileSync(path.join(crashCopy, 'commitlog', path.basename(recycledFile)));
      expect(isAllZero(rest, realEnd % SEGMENT, SEGMENT)).toBe(true);
      // And the log goes on from there.
      const r = await reopened.put(TOPIC, 0, [{ body: body(0, next[0]!) }]);
      expect(r.queueOffset).toBe(next[0]);
    } finally {
      await reopened.close();
      fs.rmSync(crashCopy, { recursive: true, force: true });
    }
  });
});

describe('spare segments', () => {
  const tempDir = useTempDirs('spares');
  const SPARE_SEGMENT = 16 << 20;
  const STEP = 4 << 20;

  const preallocBytes = (dir: string): number =>
    fs
      .readdirSync(path.join(dir, 'commitlog'))
      .filter((n) => n.endsWith('.prealloc'))
      .reduce((sum, n) => sum + fs.statSync(path.join(dir, 'commitlog', n)).size, 0);

  it('are zero-filled before the load, used by the rolls, and not refilled while sync puts go on; refilled once quiet', async () => {
    const dir = tempDir();
    const store = await MessageStore.open({ ...config(dir), segmentSize: SPARE_SEGMENT, spareSegments: 2, checkpointIntervalMs: 1000 });
    try {
      store.createTopic(TOPIC, QUEUES);
      await waitUntil(() => store.stats().spareSegments === 2, 'two spares ready before the load', 60_000);
      const batch = Array.from({ length: 16 }, (_, k) => ({ body: Buffer.alloc(4000, k) }));
      let exhaustedAt: number | undefined;
      let grewBy = 0;
      let lastPrealloc = 0;
      let sparesAfterExhausted = 0;
      // An open-loop load (a put every 2 ms, ~32 MB/s), with gaps between the flush cycles as a real
      // one has, until the two spares are used and a segment and a half more is written.
      let failed: unknown;
      const deadline = Date.now() + 30_000;
      while (exhaustedAt === undefined || store.stats().writtenOffset - exhaustedAt < 1.5 * SPARE_SEGMENT) {
        if (failed !== undefined) throw failed;
        if (Date.now() > deadline) throw new Error('the pool never ran out under load: spares were refilled beside it');
        store.put(TOPIC, 0, batch).catch((err: unknown) => (failed = err));
        await new Promise((r) => setTimeout(r, 2));
        const st = store.stats();
        if (exhaustedAt === undefined && st.spareSegments === 0) {
          exhaustedAt = st.writtenOffset;
          lastPrealloc = preallocBytes(dir);
        } else if (exhaustedAt !== undefined) {
          const now = preallocBytes(dir);
          grewBy += Math.max(0, now - lastPrealloc);
          lastPrealloc = now;
          sparesAfterExhausted = Math.max(sparesAfterExhausted, st.spareSegments);
        }
      }
      expect(exhaustedAt).toBeDefined();
      // A whole segment was written after the pool ran out: a fill running beside it would have
      // completed spares or written many steps. At most one step may slip in (a pause in the load).
      expect(store.stats().writtenOffset - exhaustedAt!).toBeGreaterThan(SPARE_SEGMENT);
      expect(sparesAfterExhausted).toBe(0);
      expect(grewBy).toBeLessThanOrEqual(STEP);
      await waitUntil(() => store.stats().spareSegments === 2, 'spares refilled once quiet', 60_000);
    } finally {
      await store.close();
    }
  });
});
