// Recycled CommitLog segments (retention renames a freed segment into the
// spare pool; the next roll reuses it with its old bytes in place): after a
// crash inside a recycled segment, recovery ends the log at its real end.
// The stale bytes past that end are whole, CRC-valid records of the old life,
// lined up exactly on the new record boundaries (every record is the same
// size); only the offset each record carries tells them apart.
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
