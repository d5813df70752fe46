// Retention and disk high-water mark: expired segments are deleted (never the active one),
// queues' minOffset moves up with OFFSET_MOVED below it; a store above the mark refuses puts, still serves reads.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskFullError } from '../../src/common/index.js';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { positionalBody, readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched, waitUntil } from '../helpers/wait.js';

const SEGMENT = 128 * 1024;
const MAX_BODY = 2048;
const SEED = 6;
const TOPICS = ['ret_a', 'ret_b'];
const QUEUES = 3;
const HOUR = 3_600_000;

function config(dir: string, extra: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return {
    dir,
    flushMode: 'async',
    flushIntervalMs: 10,
    segmentSize: SEGMENT,
    maxMessageSize: MAX_BODY,
    consumeQueueEntriesPerFile: 32,
    indexSlotCount: 256,
    indexMaxEntries: 200,
    retentionMs: HOUR,
    retentionCheckIntervalMs: 0, // retention runs only when the test calls it
    ...extra,
  };
}

const segmentFiles = (dir: string): string[] =>
  fs
    .readdirSync(path.join(dir, 'commitlog'))
    .filter((n) => /^\d{20}$/.test(n))
    .sort();

/** Writes batches round-robin over every queue until the log spans `segments` segments. */
async function fill(store: MessageStore, segments: number): Promise<Map<string, number>> {
  const next = new Map<string, number>();
  for (let i = 0; store.stats().segments < segments || i % (TOPICS.length * QUEUES) !== 0; i++) {
    const t = TOPICS[i % TOPICS.length]!;
    const q = Math.floor(i / TOPICS.length) % QUEUES;
    const first = next.get(`${t}/${q}`) ?? 0;
    const batch = Array.from({ length: 4 }, (_, k) => ({ body: positionalBody(SEED, t, q, first + k, MAX_BODY), keys: `${t}/${q}/${first + k}` }));
    const r = await store.put(t, q, batch);
    expect(r.queueOffset).toBe(first);
    next.set(`${t}/${q}`, first + batch.length);
  }
  await store.checkpoint();
  await waitDispatched(store);
  return next;
}

function expectIntactFrom(store: MessageStore, t: string, q: number, from: number, to: number): void {
  const got = readQueue(store, t, q, from);
  expect(got.length).toBe(to - from);
  for (const m of got) if (!m.body.equals(positionalBody(SEED, t, q, m.queueOffset, MAX_BODY))) throw new Error(`${t}/${q}@${m.queueOffset}: body differs`);
}

describe('retention', () => {
  const tempDir = useTempDirs('retention');

  it('deletes expired segments oldest first, moves queue minOffsets up, never deletes the active segment', async () => {
    const dir = tempDir();
    let store = await MessageStore.open(config(dir));
    try {
      for (const t of TOPICS) store.createTopic(t, QUEUES);
      const written = await fill(store, 8);
      // Only segments the async flusher has synced may go: on a busy machine it can lag a flush interval.
      await waitUntil(() => store.stats().flushedOffset >= store.stats().writtenOffset, 'log flushed');
      const before = segmentFiles(dir);
      const segmentsBefore = store.stats().segments;
      expect(segmentsBefore).toBeGreaterThanOrEqual(8);

      // Nothing is older than the retention time yet.
      expect(store.deleteExpiredSegments()).toBe(0);
      expect(segmentFiles(dir)).toEqual(before);

      // Backdate the three oldest segment files by two hours: exactly those go.
      const old = new Date(Date.now() - 2 * HOUR);
      for (const name of before.slice(0, 3)) fs.utimesSync(path.join(dir, 'commitlog', name), old, old);
      expect(store.deleteExpiredSegments()).toBe(3);
      expect(segmentFiles(dir)).toEqual(before.slice(3));
      const logMin = Number(before[3]);
      expect(store.stats().minOffset).toBe(logMin);
      expect(store.stats().segments).toBe(segmentsBefore - 3);

      const checkQueues = (s: MessageStore, label: string): void => {
        for (const t of TOPICS) {
          for (let q = 0; q < QUEUES; q++) {
            const min = s.minOffset(t, q);
            const max = written.get(`${t}/${q}`)!;
            expect(min, `${label} ${t}/${q}: minOffset moved up`).toBeGreaterThan(0);
            expect(s.maxOffset(t, q)).toBe(max);
            // Below minOffset: OFFSET_MOVED, pointing at minOffset.
            for (const off of [0, min - 1]) {
              const r = s.getMessages(t, q, off, 10, 1 << 20);
              expect(r.status, `${label} ${t}/${q}@${off}`).toBe('OFFSET_MOVED');
              expect(r.nextOffset).toBe(min);
              expect(r.count).toBe(0);
              expect(r.minOffset).toBe(min);
            }
            // minOffset is the first message still in the log; the one before it is not.
            const first = s.getMessages(t, q, min, 1, 1 << 20);
            expect(first.status).toBe('FOUND');
            expectIntactFrom(s, t, q, min, max);
            const firstPhysical = s.queryByKey(t, `${t}/${q}/${min}`)[0]?.physicalOffset;
            expect(firstPhysical).toBeGreaterThanOrEqual(logMin);
            expect(s.queryByKey(t, `${t}/${q}/${min - 1}`)).toEqual([]);
          }
        }
      };
      checkQueues(store, 'after retention');

      // Everything expired: all segments but the active one go, and writes go on.
      const activeBefore = segmentFiles(dir).at(-1)!;
      await waitUntil(() => store.stats().flushedOffset >= store.stats().writtenOffset, 'log flushed');
      expect(store.deleteExpiredSegments(Date.now() + 10 * HOUR)).toBeGreaterThan(0);
      expect(store.stats().segments).toBe(1);
      expect(segmentFiles(dir)).toEqual([activeBefore]);
      expect(store.deleteExpiredSegments(Date.now() + 10 * HOUR)).toBe(0);
      expect(segmentFiles(dir)).toEqual([activeBefore]);
      for (const t of TOPICS) {
        for (let q = 0; q < QUEUES; q++) {
          const min = store.minOffset(t, q);
          const max = written.get(`${t}/${q}`)!;
          expect(min).toBeLessThanOrEqual(max);
          if (min < max) expectIntactFrom(store, t, q, min, max);
          expect(store.getMessages(t, q, 0, 1, 1 << 20).status).toBe(min === 0 ? 'FOUND' : 'OFFSET_MOVED');
        }
      }
      const r = await store.put('ret_a', 0, [{ body: positionalBody(SEED, 'ret_a', 0, written.get('ret_a/0')!, MAX_BODY) }]);
      expect(r.queueOffset).toBe(written.get('ret_a/0'));
      written.set('ret_a/0', r.queueOffset + 1);
      await waitDispatched(store);
      const mins = TOPICS.flatMap((t) => Array.from({ length: QUEUES }, (_, q) => store.minOffset(t, q)));
      await store.close();

      // The new minOffsets hold after a reopen.
      store = await MessageStore.open(config(dir));
      expect(TOPICS.flatMap((t) => Array.from({ length: QUEUES }, (_, q) => store.minOffset(t, q)))).toEqual(mins);
      for (const t of TOPICS) {
        for (let q = 0; q < QUEUES; q++) {
          const min = store.minOffset(t, q);
          const max = written.get(`${t}/${q}`)!;
          expect(store.maxOffset(t, q)).toBe(max);
          if (min > 0) expect(store.getMessages(t, q, min - 1, 1, 1 << 20).status).toBe('OFFSET_MOVED');
          if (min < max) expectIntactFrom(store, t, q, min, max);
        }
      }
    } finally {
      await store.close();
    }
  });

  it('with retentionMs 0, every segment but the active one is deleted', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir, { retentionMs: 0 }));
    try {
      for (const t of TOPICS) store.createTopic(t, QUEUES);
      const written = await fill(store, 5);
      const active = segmentFiles(dir).at(-1)!;
      // Only segments the async flusher has synced may go: on a busy machine that can take a flush interval.
      let deleted = 0;
      await waitUntil(() => (deleted += store.deleteExpiredSegments()) >= 4, 'old segments deleted');
      expect(segmentFiles(dir)).toEqual([active]);
      expect(store.stats().minOffset).toBe(Number(active));
      for (const t of TOPICS) {
        for (let q = 0; q < QUEUES; q++) {
          const min = store.minOffset(t, q);
          const max = written.get(`${t}/${q}`)!;
          if (min < max) expectIntactFrom(store, t, q, min, max);
          if (min > 0) {
            const r = store.getMessages(t, q, 0, 1, 1 << 20);
            expect(r.status).toBe('OFFSET_MOVED');
            expect(r.nextOffset).toBe(min);
          }
        }
      }
    } finally {
      await store.close();
    }
  });
});

describe('disk high-water mark', () => {
  const tempDir = useTempDirs('diskfull');

  it('refuses puts with METAQ_DISK_FULL above the mark; reads still work', async () => {
    const dir = tempDir();
    let store = await MessageStore.open(config(dir));
    for (const t of TOPICS) store.createTopic(t, QUEUES);
    const written = await fill(store, 2);
    await store.close();

    const s = fs.statfsSync(dir);
    const used = 1 - s.bavail / s.blocks;
    expect(used, 'the test needs a disk that is at least 2% used').toBeGreaterThan(0.02);
    store = await MessageStore.open(config(dir, { diskHighWaterRatio: used - 0.01 }));
    try {
      expect(store.stats().diskFull).toBe(true);
      const err = await store.put('ret_a', 0, [{ body: Buffer.from('refused') }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DiskFullError);
      expect((err as DiskFullError).code).toBe('METAQ_DISK_FULL');
      expect(await store.checkDiskSpace()).toBe(true);
      // Reads are unaffected, and nothing of the refused put shows up.
      expect(store.maxOffset('ret_a', 0)).toBe(written.get('ret_a/0'));
      expectIntactFrom(store, 'ret_a', 0, 0, written.get('ret_a/0')!);
    } finally {
      await store.close();
    }

    // Below the mark the same store takes writes again, at the next offset.
    store = await MessageStore.open(config(dir, { diskHighWaterRatio: Math.min(1, used + 0.05) }));
    try {
      expect(store.stats().diskFull).toBe(false);
      const r = await store.put('ret_a', 0, [{ body: positionalBody(SEED, 'ret_a', 0, written.get('ret_a/0')!, MAX_BODY) }]);
      expect(r.queueOffset).toBe(written.get('ret_a/0'));
    } finally {
      await store.close();
    }
  });
});
