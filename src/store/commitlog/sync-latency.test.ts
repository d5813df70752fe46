import { describe, expect, it } from 'vitest';
import { SYNC_LATENCY_BOUNDS_US, SyncLatency, syncLatencyQuantileUs } from './sync-latency.js';

describe('SyncLatency', () => {
  it('counts each cycle in the bucket under its upper bound, and adds up time and bytes', () => {
    const l = new SyncLatency();
    l.record(10, 100); // < 50 µs: bucket 0
    l.record(50, 200); // exactly a bound: the next bucket
    l.record(1499.9, 300); // < 1,500 µs
    l.record(60_000_000, 400); // slower than the last bound: the overflow bucket
    const s = l.stats();
    expect(s).toMatchObject({ cycles: 4, totalUs: Math.round(10 + 50 + 1499.9 + 60_000_000), bytes: 1000 });
    expect(s.buckets).toHaveLength(SYNC_LATENCY_BOUNDS_US.length + 1);
    expect(s.buckets[0]).toBe(1);
    expect(s.buckets[1]).toBe(1);
    expect(s.buckets[SYNC_LATENCY_BOUNDS_US.indexOf(1500)]).toBe(1);
    expect(s.buckets.at(-1)).toBe(1);
    // A reading is a copy: later cycles do not change it.
    l.record(10, 1);
    expect(s.buckets[0]).toBe(1);
  });
});

describe('syncLatencyQuantileUs', () => {
  const at = (bound: number, count: number): number[] => {
    const b = new Array<number>(SYNC_LATENCY_BOUNDS_US.length + 1).fill(0);
    b[SYNC_LATENCY_BOUNDS_US.indexOf(bound)] = count;
    return b;
  };

  it('gives the upper bound of the bucket holding the rank', () => {
    // 98 fast cycles (< 1 ms) and 2 slow ones (< 20 ms): the p99 is a slow one, the p50 a fast one.
    const b = at(1000, 98).map((c, i) => c + at(20_000, 2)[i]!);
    expect(syncLatencyQuantileUs(b, 0.99)).toBe(20_000);
    expect(syncLatencyQuantileUs(b, 0.98)).toBe(1000);
    expect(syncLatencyQuantileUs(b, 0.5)).toBe(1000);
  });

  it('gives the last bound for the overflow bucket, and nothing without cycles', () => {
    const overflow = new Array<number>(SYNC_LATENCY_BOUNDS_US.length + 1).fill(0);
    overflow[overflow.length - 1] = 1;
    expect(syncLatencyQuantileUs(overflow, 0.99)).toBe(SYNC_LATENCY_BOUNDS_US.at(-1));
    expect(syncLatencyQuantileUs(new Array<number>(5).fill(0), 0.99)).toBeUndefined();
  });
});
