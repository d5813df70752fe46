// Group lag from a real store: messages past the committed offset, and the
// age of the message at it (its store timestamp); a committed offset below
// minOffset dates from the oldest message left. The answer is bounded: past
// MAX_GROUP_LAG_ENTRIES queue entries only the largest lags are listed (the
// totals still count all), and at most MAX_LAG_AGE_READS records are read.
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeDir } from '../../../test/helpers/temp-dir.js';
import { waitDispatched } from '../../../test/helpers/wait.js';
import { MessageStore } from '../../store/index.js';
import { computeGroupLags, MAX_GROUP_LAG_ENTRIES, MAX_LAG_AGE_READS, worstClientGroup } from './group-lag.js';

const dirs: string[] = [];
const stores: MessageStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('computeGroupLags', () => {
  it('counts messages past the committed offset and dates the first of them', async () => {
    const dir = makeTempDir('lag');
    dirs.push(dir);
    const store = await MessageStore.open({ dir, segmentSize: 16 * 1024 * 1024 });
    stores.push(store);
    store.createTopic('orders', 2);
    const r = await store.put('orders', 0, [{ body: Buffer.from('a') }, { body: Buffer.from('b') }, { body: Buffer.from('c') }]);
    await store.put('orders', 1, [{ body: Buffer.from('d') }]);
    await waitDispatched(store);
    const now = r.storeTimestamp + 5000;
    const lags = computeGroupLags(store, { billing: { 'orders:0': 1, 'orders:1': 1, 'gone:0': 4, 'orders:9': 0 }, audit: { 'orders:0': 0 } }, now);
    expect(lags.lags).toEqual([
      { group: 'audit', topic: 'orders', queueId: 0, committedOffset: 0, maxOffset: 3, lagMessages: 3, lagMs: 5000 },
      { group: 'billing', topic: 'orders', queueId: 0, committedOffset: 1, maxOffset: 3, lagMessages: 2, lagMs: 5000 },
      { group: 'billing', topic: 'orders', queueId: 1, committedOffset: 1, maxOffset: 1, lagMessages: 0, lagMs: 0 },
    ]);
    expect(lags.totals).toEqual([{ group: 'audit', lagMessages: 3, lagMs: 5000 }, { group: 'billing', lagMessages: 2, lagMs: 5000 }]);
    expect(lags.omitted).toBe(0);
  });

  it('bounds the list to the largest lags and the records it reads', () => {
    let reads = 0;
    const queues = 3 * MAX_LAG_AGE_READS;
    const store = {
      queueCount: () => queues,
      maxOffset: () => 100,
      minOffset: () => 0,
      getMessages: () => {
        reads++;
        return { status: 'NO_MATCHED_MESSAGE', count: 0, records: Buffer.alloc(0), nextOffset: 0, minOffset: 0, maxOffset: 100 } as const;
      },
    };
    // Queue i has lag i % 100 (0 for one in a hundred).
    const entries = Object.fromEntries(Array.from({ length: queues }, (_, i) => [`t:${i}`, 100 - (i % 100)]));
    const lags = computeGroupLags(store as never, { g: entries }, Date.now());
    expect(lags.lags).toHaveLength(MAX_GROUP_LAG_ENTRIES);
    expect(lags.omitted).toBe(queues - MAX_GROUP_LAG_ENTRIES);
    expect(Math.min(...lags.lags.map((l) => l.lagMessages))).toBeGreaterThanOrEqual(80);
    const expected = Array.from({ length: queues }, (_, i) => i % 100).reduce((a, b) => a + b, 0);
    expect(lags.totals).toEqual([{ group: 'g', lagMessages: expected, lagMs: 0 }]);
    expect(reads).toBe(MAX_LAG_AGE_READS);
  });

  it("leaves the broker's own % groups out of a rule's worst group", () => {
    const totals = [{ group: '%RETRY', lagMessages: 900, lagMs: 9000 }, { group: 'a', lagMessages: 3, lagMs: 10 }];
    expect(worstClientGroup(totals, (t) => t.lagMessages)).toBe(3);
    expect(worstClientGroup([], (t) => t.lagMs)).toBe(0);
  });
});
