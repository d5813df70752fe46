// Round trip across segment rolls: many topics and queues, every message read back
// byte-identical and in order per queue, in both flush modes, and again after a reopen.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageStore, RECORD_OVERHEAD, type FlushMode, type MessageStoreConfig, type PutResult, type StoreMessage } from '../../src/store/index.js';
import { expectSameMessage, prng, randomInt, randomMessage, readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const MAX_BODY = 4096;
const TOPICS = ['orders', 'payments', 'audit_log', 'Inventory-EU', 'x%y|z'];
const QUEUES = 6;
const BATCHES = 600;

function config(dir: string, flushMode: FlushMode): MessageStoreConfig {
  return {
    dir,
    flushMode,
    segmentSize: 128 * 1024,
    maxMessageSize: MAX_BODY,
    consumeQueueEntriesPerFile: 100,
    indexSlotCount: 512,
    indexMaxEntries: 2000,
    flushIntervalMs: 20,
    checkpointIntervalMs: 100,
  };
}

describe.each<FlushMode>(['sync', 'async'])('round trip (%s flush)', (flushMode) => {
  const tempDir = useTempDirs('roundtrip');

  it('reads back every message byte-identical, in order, across segment rolls and a reopen', async () => {
    const dir = tempDir();
    const rng = prng(flushMode === 'sync' ? 1 : 2);
    let store = await MessageStore.open(config(dir, flushMode));
    for (const t of TOPICS) store.createTopic(t, QUEUES);

    // What each queue must hold, in order, and where the store put it.
    const sent = new Map<string, StoreMessage[]>();
    const physical = new Map<string, number[]>();
    for (const t of TOPICS) for (let q = 0; q < QUEUES; q++) {
      sent.set(`${t}/${q}`, []);
      physical.set(`${t}/${q}`, []);
    }

    // Batches of 1..40 messages go in with many puts in flight at once, so
    // that several batches share a write and a flush, and batches straddle rolls.
    let seq = 0;
    let inFlight: Promise<void>[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const topic = TOPICS[randomInt(rng, 0, TOPICS.length - 1)]!;
      const queueId = randomInt(rng, 0, QUEUES - 1);
      const batch = Array.from({ length: randomInt(rng, 1, 40) }, () => randomMessage(rng, seq++, { maxBody: MAX_BODY, keyPrefix: 'rt' }));
      const key = `${topic}/${queueId}`;
      const expectedOffset = sent.get(key)!.length;
      sent.get(key)!.push(...batch);
      inFlight.push(
        store.put(topic, queueId, batch).then((r: PutResult) => {
          expect(r.status).toBe('PUT_OK');
          expect(r.queueOffset).toBe(expectedOffset);
          expect(r.count).toBe(batch.length);
          expect(r.physicalOffsets).toHaveLength(batch.length);
          const phys = physical.get(key)!;
          r.physicalOffsets.forEach((p, i) => (phys[expectedOffset + i] = p));
        }),
      );
      if (inFlight.length >= 32) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    await waitDispatched(store);

    const stats = store.stats();
    const totalMessages = seq;
    // Enough data for many segment rolls (and many ConsumeQueue file rolls).
    expect(stats.segments).toBeGreaterThanOrEqual(8);
    expect(fs.readdirSync(path.join(dir, 'commitlog')).filter((n) => /^\d{20}$/.test(n))).toHaveLength(stats.segments);

    const verify = (s: MessageStore, label: string): void => {
      let read = 0;
      for (const t of TOPICS) {
        for (let q = 0; q < QUEUES; q++) {
          const key = `${t}/${q}`;
          const want = sent.get(key)!;
          expect(s.minOffset(t, q), `${label} ${key} minOffset`).toBe(0);
          expect(s.maxOffset(t, q), `${label} ${key} maxOffset`).toBe(want.length);
          // Alternate small and large reads: count limits, byte limits, and
          // reads crossing ConsumeQueue file and CommitLog segment boundaries.
          const got = q % 2 === 0 ? readQueue(s, t, q, 0, 64, 256 * 1024) : readQueue(s, t, q, 0, 7, 3000);
          expect(got.length, `${label} ${key} count`).toBe(want.length);
          got.forEach((m, i) => {
            expect(m.physicalOffset, `${label} ${key}@${i} physical offset`).toBe(physical.get(key)![i]);
            expectSameMessage(m, want[i]!, `${label} ${key}@${i}`);
          });
          read += got.length;
        }
      }
      expect(read).toBe(totalMessages);
    };

    verify(store, 'before reopen');
    await store.close();

    store = await MessageStore.open(config(dir, flushMode));
    try {
      expect(store.stats().recovered).toBe(false);
      expect(store.stats().truncatedTail).toBe(false);
      expect(new Set(store.topicNames())).toEqual(new Set(TOPICS));
      verify(store, 'after reopen');

      // Appends continue where the queues left off, and are readable.
      const t = TOPICS[0]!;
      const before = store.maxOffset(t, 0);
      const extra: StoreMessage[] = [{ body: Buffer.from('after reopen'), tags: 'TagA', keys: 'rt-after' }];
      const r = await store.put(t, 0, extra);
      expect(r.queueOffset).toBe(before);
      await waitDispatched(store);
      const tail = readQueue(store, t, 0, before);
      expect(tail).toHaveLength(1);
      expectSameMessage(tail[0]!, extra[0]!, 'after reopen put');
    } finally {
      await store.close();
    }
  });

  it('a record that ends exactly at a segment end: the next one goes to the next segment file', async () => {
    const dir = tempDir();
    const cfg = config(dir, flushMode);
    let store = await MessageStore.open(cfg);
    store.createTopic('exact', 1);
    // topic 'exact' (5 bytes), no properties: a record is RECORD_OVERHEAD + 5 + body bytes.
    const recordBytes = 4096;
    const body = (i: number): Buffer => Buffer.alloc(recordBytes - RECORD_OVERHEAD - 5, i);
    const perSegment = cfg.segmentSize! / recordBytes;
    expect(Number.isInteger(perSegment)).toBe(true);
    // One batch (one staged write) that fills the first segment to the byte and goes on.
    const batch = Array.from({ length: perSegment + 5 }, (_, i) => ({ body: body(i) }));
    const r = await store.put('exact', 0, batch);
    expect(r.physicalOffsets[perSegment - 1]! + recordBytes).toBe(cfg.segmentSize);
    expect(r.physicalOffsets[perSegment]).toBe(cfg.segmentSize);
    await waitDispatched(store, 3000);
    expect(store.stats().dispatchError).toBeUndefined();
    const check = (s: MessageStore): void => {
      const got = readQueue(s, 'exact', 0, 0);
      expect(got).toHaveLength(batch.length);
      got.forEach((m, i) => expect(m.body.equals(batch[i]!.body), `message ${i}`).toBe(true));
      // Every segment file kept its size: nothing was written past a segment's end.
      for (const name of fs.readdirSync(path.join(dir, 'commitlog')).filter((n) => /^\d{20}$/.test(n))) {
        expect(fs.statSync(path.join(dir, 'commitlog', name)).size, name).toBe(cfg.segmentSize);
      }
    };
    check(store);
    await store.close();
    store = await MessageStore.open(cfg);
    try {
      check(store);
    } finally {
      await store.close();
    }
  });
});
