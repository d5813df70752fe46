// Lookups: queryByKey returns exactly the messages of a topic carrying a key (across index
// files and hash collisions), getMessageById/ByOffset find the right record, offsetForTimestamp the first at/after a time.
import { describe, expect, it } from 'vitest';
import { InvalidMessageIdError, encodeMessageId } from '../../src/common/index.js';
import { MessageStore, type MessageStoreConfig, type PutResult, type StoreMessage } from '../../src/store/index.js';
import { thrownBy } from '../helpers/errors.js';
import { bytesFor, prng, randomInt } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitDispatched } from '../helpers/wait.js';

function config(dir: string): MessageStoreConfig {
  return {
    dir,
    flushMode: 'sync',
    segmentSize: 128 * 1024,
    maxMessageSize: 2048,
    // Few slots: many keys share a slot's chain. Few entries per file: lookups span files.
    indexSlotCount: 16,
    indexMaxEntries: 150,
    storeHost: '10.1.2.3',
    storePort: 10911,
  };
}

interface Sent {
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  storeTimestamp: number;
  message: StoreMessage;
  keys: string[];
}

describe('key index, message ids and timestamps', () => {
  const tempDir = useTempDirs('keyindex');

  it('queryByKey returns exactly the messages carrying the key, in its topic only; ids and offsets resolve', async () => {
    const dir = tempDir();
    const rng = prng(7);
    let store = await MessageStore.open(config(dir));
    try {
      store.createTopic('orders', 4);
      store.createTopic('refunds', 2);
      const sent: Sent[] = [];
      const keyPool = Array.from({ length: 40 }, (_, i) => `order-${i}`);
      for (let b = 0; b < 120; b++) {
        const topic = b % 5 === 4 ? 'refunds' : 'orders';
        const queueId = randomInt(rng, 0, (store.queueCount(topic) ?? 1) - 1);
        const batch: StoreMessage[] = [];
        const batchKeys: string[][] = [];
        for (let i = 0, n = randomInt(rng, 1, 6); i < n; i++) {
          // 0, 1 or 2 keys from a small pool: keys repeat across messages, queues and topics.
          const keys = [...new Set(Array.from({ length: randomInt(rng, 0, 2) }, () => keyPool[randomInt(rng, 0, keyPool.length - 1)]!))];
          batch.push({ body: bytesFor(sent.length * 1000 + i, randomInt(rng, 1, 400)), ...(keys.length > 0 ? { keys } : {}) });
          batchKeys.push(keys);
        }
        const r: PutResult = await store.put(topic, queueId, batch);
        batch.forEach((m, i) =>
          sent.push({ topic, queueId, queueOffset: r.queueOffset + i, physicalOffset: r.physicalOffsets[i]!, storeTimestamp: r.storeTimestamp, message: m, keys: batchKeys[i]! }),
        );
      }
      await waitDispatched(store);

      const check = (s: MessageStore, label: string): void => {
        let multi = 0;
        for (const topic of ['orders', 'refunds']) {
          for (const key of [...keyPool, 'never-used']) {
            const want = sent.filter((m) => m.topic === topic && m.keys.includes(key)).reverse(); // newest first
            const got = s.queryByKey(topic, key, 1000);
            expect(
              got.map((m) => [m.queueId, m.queueOffset]),
              `${label}: ${topic} key ${key}`,
            ).toEqual(want.map((m) => [m.queueId, m.queueOffset]));
            got.forEach((m, i) => {
              expect(m.topic).toBe(topic);
              expect(m.keys).toContain(key);
              expect(m.body.equals(Buffer.from(want[i]!.message.body))).toBe(true);
            });
            if (want.length > 1) multi++;
            // maxCount caps the answer, keeping the newest.
            if (want.length > 2) expect(s.queryByKey(topic, key, 2).map((m) => m.physicalOffset)).toEqual(want.slice(0, 2).map((m) => m.physicalOffset));
          }
        }
        expect(multi, 'some keys are shared by several messages').toBeGreaterThan(10);

        for (const m of sent) {
          const id = encodeMessageId('10.1.2.3', 10911, m.physicalOffset);
          const byId = s.getMessageById(id);
          expect(byId?.topic).toBe(m.topic);
          expect(byId?.queueId).toBe(m.queueId);
          expect(byId?.queueOffset).toBe(m.queueOffset);
          expect(byId?.body.equals(Buffer.from(m.message.body))).toBe(true);
          expect(s.getMessageByOffset(m.physicalOffset)?.physicalOffset).toBe(m.physicalOffset);
          // Not a record start, or past the end: nothing.
          expect(s.getMessageByOffset(m.physicalOffset + 1)).toBeUndefined();
        }
        expect(s.getMessageByOffset(s.stats().appendOffset)).toBeUndefined();
        expect(s.getMessageByOffset(-1)).toBeUndefined();
        for (const bad of ['not-an-id', '0A01020300002A8F000000000000000G', '']) {
          const err = thrownBy(() => s.getMessageById(bad));
          expect(err).toBeInstanceOf(InvalidMessageIdError);
          expect((err as InvalidMessageIdError).code).toBe('METAQ_INVALID_MESSAGE_ID');
        }
      };

      check(store, 'live');
      await store.close();
      store = await MessageStore.open(config(dir));
      check(store, 'after reopen');
    } finally {
      await store.close();
    }
  });

  it('offsetForTimestamp returns the first offset stored at or after a time', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir));
    try {
      store.createTopic('ticks', 2);
      const bursts: { at: number; firstOffset: number[] }[] = [];
      const stamps: number[][] = [[], []]; // storeTimestamp of each message, per queue
      for (let b = 0; b < 5; b++) {
        await sleep(20);
        const at = Date.now();
        const firstOffset = [stamps[0]!.length, stamps[1]!.length];
        for (let i = 0; i < 4; i++) {
          for (const q of [0, 1]) {
            const r = await store.put('ticks', q, Array.from({ length: 3 }, (_, k) => ({ body: Buffer.from(`b${b} i${i} k${k}`) })));
            expect(r.queueOffset).toBe(stamps[q]!.length);
            stamps[q]!.push(r.storeTimestamp, r.storeTimestamp, r.storeTimestamp);
          }
        }
        bursts.push({ at, firstOffset });
      }
      await waitDispatched(store);

      const expected = (q: number, ts: number): number => {
        const i = stamps[q]!.findIndex((s) => s >= ts);
        return i < 0 ? stamps[q]!.length : i;
      };
      for (const q of [0, 1]) {
        // A burst's start time maps to the burst's first message.
        for (const b of bursts) {
          expect(store.offsetForTimestamp('ticks', q, b.at), `queue ${q} burst at ${b.at}`).toBe(b.firstOffset[q]);
        }
        // Before everything: the first message; after everything: maxOffset.
        expect(store.offsetForTimestamp('ticks', q, 0)).toBe(0);
        expect(store.offsetForTimestamp('ticks', q, Date.now() + 60_000)).toBe(store.maxOffset('ticks', q));
        // Every distinct stored time, and the millisecond after it.
        for (const ts of new Set(stamps[q])) {
          expect(store.offsetForTimestamp('ticks', q, ts)).toBe(expected(q, ts));
          expect(store.offsetForTimestamp('ticks', q, ts + 1)).toBe(expected(q, ts + 1));
        }
      }
      expect(store.offsetForTimestamp('nope', 0, 0)).toBe(0);
    } finally {
      await store.close();
    }
  });
});
