// RunMetrics, fed with interval reports carrying real compressed HDR
// histograms (µs): when a second is settled (every expected reporter, or the
// grace), rows for seconds nobody reported, the backlog (cumulative acked minus
// consumed, never negative), per-second p99s in ms, the whole-run histograms,
// and the timeline() field mapping.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { RunMetrics, type SecondFigures } from './run-metrics.js';
import type { Phase } from '../scenario/index.js';
import type { ConsumerInterval, ProducerInterval } from '../workers/index.js';

const phases: Phase[] = [
  { name: 'warmup', durationSec: 2, startRate: 100, endRate: 100 },
  { name: 'peak', durationSec: 2, startRate: 100, endRate: 100 },
];

/** A compressed plain-JS histogram of `values` (µs), as a worker ships it. */
function hist(values: number[]): string {
  const h = hdr.build();
  for (const v of values) h.recordValue(v);
  return hdr.encodeIntoCompressedBase64(h);
}

function times(n: number, v: number): number[] {
  return new Array<number>(n).fill(v);
}

function producer(
  second: number,
  f: { offered?: number; acked?: number; failed?: number; send?: number[]; lag?: number[]; worker?: number } = {},
): ProducerInterval {
  return {
    kind: 'producer-interval',
    worker: f.worker ?? 0,
    second,
    offered: f.offered ?? 0,
    acked: f.acked ?? 0,
    failed: f.failed ?? 0,
    retried: 0,
    send: hist(f.send ?? []),
    lag: hist(f.lag ?? []),
  };
}

function consumer(second: number, f: { consumed?: number; duplicates?: number; e2e?: number[]; worker?: number } = {}): ConsumerInterval {
  return { kind: 'consumer-interval', worker: f.worker ?? 0, second, consumed: f.consumed ?? 0, duplicates: f.duplicates ?? 0, fromSlave: 0, e2e: hist(f.e2e ?? []) };
}

function secondsOf(rows: readonly SecondFigures[]): number[] {
  return rows.map((r) => r.second);
}

describe('RunMetrics.settle', () => {
  it('returns a second only once every expected reporter reported it, and only after it is over', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 2;
    m.add(producer(0, { offered: 10, acked: 10 }));
    expect(m.settle(1)).toEqual([]); // one of two reports
    m.add(consumer(0, { consumed: 4 }));
    expect(m.settle(0)).toEqual([]); // second 0 is still running
    const rows = m.settle(1);
    expect(secondsOf(rows)).toEqual([0]);
    expect(rows[0]).toMatchObject({ second: 0, phase: 'warmup', offered: 10, acked: 10, consumed: 4, backlog: 6 });
    expect(m.settle(1)).toEqual([]); // not twice
    expect(secondsOf(m.seconds)).toEqual([0]);
  });

  it('reduces an incomplete second once it is older than the grace (3 s), in order', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 2;
    m.add(producer(0));
    m.add(consumer(0));
    expect(secondsOf(m.settle(1))).toEqual([0]);
    m.add(producer(1, { acked: 5 })); // the consumer never reports second 1
    expect(m.settle(2)).toEqual([]);
    expect(m.settle(3)).toEqual([]);
    const rows = m.settle(4);
    expect(secondsOf(rows)).toEqual([1]);
    expect(rows[0]).toMatchObject({ acked: 5, consumed: 0, backlog: 5 });
  });

  it('does not let a complete second overtake an incomplete earlier one', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 2;
    m.add(producer(0)); // incomplete
    m.add(producer(1));
    m.add(consumer(1)); // complete
    expect(m.settle(2)).toEqual([]); // second 1 is complete but waits for second 0
    expect(secondsOf(m.settle(3))).toEqual([0, 1]); // second 0 reaches the grace
    expect(secondsOf(m.seconds)).toEqual([0, 1]);
  });

  it('gives seconds nobody reported a row of zeros with their phase', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 1;
    m.add(producer(0, { acked: 7 }));
    expect(secondsOf(m.settle(1))).toEqual([0]);
    m.add(producer(3, { acked: 1, send: [1_000] }));
    const rows = m.settle(4);
    expect(secondsOf(rows)).toEqual([1, 2, 3]);
    expect(rows[0]).toEqual({ second: 1, phase: 'warmup', offered: 0, acked: 0, failed: 0, retried: 0, consumed: 0, duplicates: 0, fromSlave: 0, backlog: 7, sendP99Ms: 0, e2eP99Ms: 0, lagP99Ms: 0 });
    expect(rows[1]).toMatchObject({ second: 2, phase: 'peak', acked: 0, backlog: 7 });
    expect(rows[2]).toMatchObject({ second: 3, phase: 'peak', acked: 1, backlog: 8, sendP99Ms: 1 });
  });

  // BUG (run-metrics.ts, settle): the gap start is read from #done, which is only
  // extended after the loop, so a gap between two seconds settled in the same call
  // gets no rows, and a second settled earlier in the same call is emitted again as
  it('fills gaps also when the seconds around a gap settle in the same call', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 1;
    m.add(producer(0));
    m.add(producer(3));
    expect(secondsOf(m.settle(10))).toEqual([0, 1, 2, 3]);
  });

  it('emits each second once when several seconds settle in one call after earlier ones', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 1;
    m.add(producer(0));
    expect(secondsOf(m.settle(1))).toEqual([0]);
    m.add(producer(1));
    m.add(producer(2));
    expect(secondsOf(m.settle(3))).toEqual([1, 2]);
    expect(secondsOf(m.seconds)).toEqual([0, 1, 2]);
  });

  it('reduces everything with all = true, including the running second', () => {
    const m = new RunMetrics(phases);
    m.expectedReporters = 5;
    m.add(producer(4, { acked: 2 }));
    const rows = m.settle(4, true);
    expect(secondsOf(rows)).toEqual([4]);
    expect(rows[0]!.phase).toBe('drain');
  });
});

describe('RunMetrics figures', () => {
  /** Seconds 0..3 from two producers and one consumer. */
  function fourSeconds(): RunMetrics {
    const m = new RunMetrics(phases);
    m.expectedReporters = 3;
    // second 0: acked 100, consumed 30 -> backlog 70
    m.add(producer(0, { worker: 0, offered: 60, acked: 50, send: [...times(198, 1_500), 90_000, 90_000], lag: times(10, 200) }));
    m.add(producer(0, { worker: 1, offered: 60, acked: 50, failed: 3, send: [], lag: times(10, 300) }));
    m.add(consumer(0, { consumed: 30, duplicates: 1, e2e: times(30, 1_800) }));
    // second 1: acked 50, consumed 100 -> 150 - 130 = 20
    m.add(producer(1, { worker: 0, offered: 25, acked: 25, send: times(100, 1_000) }));
    m.add(producer(1, { worker: 1, offered: 25, acked: 25, send: times(100, 2_000) }));
    m.add(consumer(1, { consumed: 100, e2e: times(100, 1_200) }));
    // second 2: acked 0, consumed 40 -> 150 - 170 < 0: shown as 0
    m.add(producer(2, { worker: 0 }));
    m.add(producer(2, { worker: 1 }));
    m.add(consumer(2, { consumed: 40, e2e: times(40, 500) }));
    // second 3: acked 100, consumed 0 -> 250 - 170 = 80
    m.add(producer(3, { worker: 0, acked: 60, send: [1_024] }));
    m.add(producer(3, { worker: 1, acked: 40, send: [2_047] }));
    m.add(consumer(3, {}));
    return m;
  }

  it('computes the backlog as cumulative acked minus consumed, never negative', () => {
    const m = fourSeconds();
    const rows = m.settle(4);
    expect(secondsOf(rows)).toEqual([0, 1, 2, 3]);
    expect(rows.map((r) => r.acked)).toEqual([100, 50, 0, 100]);
    expect(rows.map((r) => r.consumed)).toEqual([30, 100, 40, 0]);
    expect(rows.map((r) => r.backlog)).toEqual([70, 20, 0, 80]);
    expect(rows.map((r) => r.offered)).toEqual([120, 50, 0, 0]);
    expect(rows.map((r) => r.failed)).toEqual([3, 0, 0, 0]);
    expect(rows.map((r) => r.phase)).toEqual(['warmup', 'warmup', 'peak', 'peak']);
  });

  it('gives each second its p99s in milliseconds over all its reports', () => {
    const rows = fourSeconds().settle(4);
    // 200 values, 198 at 1.5 ms: the 99th percentile is 1.5 ms (the two 90 ms outliers are above it).
    expect(rows[0]!.sendP99Ms).toBe(1.5);
    expect(rows[0]!.lagP99Ms).toBe(0.3);
    expect(rows[0]!.e2eP99Ms).toBe(1.8);
    // Two producers' histograms merged: half at 1 ms, half at 2 ms.
    expect(rows[1]!.sendP99Ms).toBe(2);
    expect(rows[1]!.e2eP99Ms).toBe(1.2);
    // Nothing recorded: 0, not NaN.
    expect(rows[1]!.lagP99Ms).toBe(0);
    expect(rows[2]!.sendP99Ms).toBe(0);
    expect(rows[2]!.e2eP99Ms).toBe(0.5);
    expect(rows[3]!.sendP99Ms).toBe(2.047);
    expect(rows[3]!.e2eP99Ms).toBe(0);
  });

  it('keeps every recorded value in the whole-run histograms', () => {
    const m = fourSeconds();
    expect(m.send.totalCount).toBe(200 + 200 + 2);
    expect(m.e2e.totalCount).toBe(30 + 100 + 40);
    expect(m.lag.totalCount).toBe(20);
    expect(m.send.minNonZeroValue).toBe(1_000);
    // 3 significant digits: the maximum is 90 ms within 0.1 %.
    expect(Math.abs(m.send.maxValue - 90_000)).toBeLessThanOrEqual(90);
    expect(m.e2e.minNonZeroValue).toBe(500);
    expect(m.e2e.maxValue).toBe(1_800);
    expect(m.lag.maxValue).toBe(300);
    expect(m.e2e.mean).toBeCloseTo((30 * 1_800 + 100 * 1_200 + 40 * 500) / 170, 6);
    // Settling the seconds does not take anything out of them.
    m.settle(10, true);
    expect(m.send.totalCount).toBe(402);
    expect(m.e2e.totalCount).toBe(170);
  });

  it('maps the seconds to timeline rows', () => {
    const m = fourSeconds();
    m.settle(4);
    const t = m.timeline();
    expect(t).toHaveLength(4);
    expect(t[0]).toEqual({
      second: 0,
      phase: 'warmup',
      offered: 120,
      produced: 100,
      failed: 3,
      retried: 0,
      consumed: 30,
      duplicates: 1,
      fromSlave: 0,
      backlog: 70,
      sendP99Ms: 1.5,
      e2eP99Ms: 1.8,
      generatorLagP99Ms: 0.3,
    });
    expect(t.map((r) => r.produced)).toEqual(m.seconds.map((s) => s.acked));
    expect(t.map((r) => r.generatorLagP99Ms)).toEqual(m.seconds.map((s) => s.lagP99Ms));
  });
});
