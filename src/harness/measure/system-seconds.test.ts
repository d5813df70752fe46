import { describe, expect, it } from 'vitest';
import { SYNC_LATENCY_BOUNDS_US } from '../../store/index.js';
import type { TimelineRow } from '../run-result.js';
import { addSystemSeconds, brokerSecond, type BrokerReading, type SystemSample } from './system-seconds.js';

const BUCKETS = SYNC_LATENCY_BOUNDS_US.length + 1;

/** Bucket counts with `n` cycles under `boundUs`. */
function buckets(entries: [boundUs: number, n: number][]): number[] {
  const b = new Array<number>(BUCKETS).fill(0);
  for (const [bound, n] of entries) b[SYNC_LATENCY_BOUNDS_US.indexOf(bound)]! += n;
  return b;
}

function broker(o: Partial<BrokerReading> = {}): BrokerReading {
  return { atSec: 0, rssBytes: 100 * 2 ** 20, gcPauseUs: 0, syncCycles: 0, syncBytes: 0, syncLatencyBuckets: buckets([]), slaveLagBytes: 0, ...o };
}

function row(second: number): TimelineRow {
  return { second, phase: 'peak', offered: 0, produced: 0, failed: 0, retried: 0, consumed: 0, duplicates: 0, fromSlave: 0, backlog: 0, sendP99Ms: 0, e2eP99Ms: 0, generatorLagP99Ms: 0 };
}

describe('brokerSecond', () => {
  it('gives the cycles, their p99 (bucket bound), bytes per cycle, GC ms, slave lag and RSS of one second', () => {
    const a = broker({ atSec: 3, syncCycles: 1000, syncBytes: 1_000_000, gcPauseUs: 5000, syncLatencyBuckets: buckets([[1000, 1000]]) });
    // 200 more cycles in the second: 197 under 1 ms, 3 under 20 ms; 2 MB made durable; 12 ms of GC.
    const b = broker({ atSec: 4, syncCycles: 1200, syncBytes: 3_000_000, gcPauseUs: 17_000, syncLatencyBuckets: buckets([[1000, 1197], [20_000, 3]]), slaveLagBytes: 4096, rssBytes: 150 * 2 ** 20 });
    expect(brokerSecond(a, b)).toEqual({ fsyncs: 200, fsyncP99Ms: 20, commitGroupBytes: 10_000, slaveLagBytes: 4096, gcMs: 12, rssMb: 150, lagSec: null, lagMessages: null, inPerSec: null, outPerSec: null });
    // The broker's own consumer lag (monitor block), as of the second's end.
    expect(brokerSecond(a, { ...b, lagMs: 12_345, lagMessages: 40 })).toMatchObject({ lagSec: 12.345, lagMessages: 40 });
    expect(brokerSecond(a, { ...b, msgsInPerSec: 5000, msgsOutPerSec: 1200 })).toMatchObject({ inPerSec: 5000, outPerSec: 1200 });
    // Answers 2 s apart (the rates are per second between the answers): they halve; the p99 and the group size do not.
    expect(brokerSecond(a, { ...b, atSec: 5 })).toMatchObject({ fsyncs: 100, fsyncP99Ms: 20, commitGroupBytes: 10_000, gcMs: 6 });
    // Answers too close together: no rates, only what the last one says.
    expect(brokerSecond(a, { ...b, atSec: 3.1 })).toMatchObject({ fsyncs: null, gcMs: null, slaveLagBytes: 4096, rssMb: 150 });
  });

  it('gives nothing for a broker that did not answer at the end, and no differences without a reading at the start or after a restart', () => {
    expect(brokerSecond(broker(), undefined)).toBeNull();
    const b = broker({ atSec: 1, syncCycles: 10, syncBytes: 100, gcPauseUs: 10, syncLatencyBuckets: buckets([[50, 10]]) });
    expect(brokerSecond(undefined, b)).toEqual({ fsyncs: null, fsyncP99Ms: null, commitGroupBytes: null, slaveLagBytes: 0, gcMs: null, rssMb: 100, lagSec: null, lagMessages: null, inPerSec: null, outPerSec: null });
    // Counters went back: a restarted broker.
    const before = broker({ syncCycles: 500, syncBytes: 5000, gcPauseUs: 1000, syncLatencyBuckets: buckets([[50, 500]]) });
    expect(brokerSecond(before, b)).toMatchObject({ fsyncs: null, fsyncP99Ms: null, commitGroupBytes: null, gcMs: null });
    // An older broker without the runtime block: only the slave lag.
    const old = { atSec: 0, rssBytes: undefined, gcPauseUs: undefined, syncCycles: undefined, syncBytes: undefined, syncLatencyBuckets: undefined, slaveLagBytes: 7 };
    expect(brokerSecond(old, { ...old, atSec: 1 })).toEqual({ fsyncs: null, fsyncP99Ms: null, commitGroupBytes: null, slaveLagBytes: 7, gcMs: null, rssMb: null, lagSec: null, lagMessages: null, inPerSec: null, outPerSec: null });
  });

  it('gives no p99 nor group size for a second without cycles', () => {
    const a = broker({ syncCycles: 5, syncBytes: 50 });
    expect(brokerSecond(a, { ...a, atSec: 1 })).toMatchObject({ fsyncs: 0, fsyncP99Ms: null, commitGroupBytes: null });
  });
});

describe('addSystemSeconds', () => {
  const sample = (atSec: number, cpu: Record<string, number | undefined>, brokers: SystemSample['brokers']): SystemSample => ({ atSec, cpuUs: cpu, brokers });

  it('puts the readings at about a second and the next into that second, as shares of a core', () => {
    const samples = [
      sample(0.003, { master: 0, 'producer 0': 0 }, { master: broker({ atSec: 0.005 }) }),
      sample(1.004, { master: 900_000, 'producer 0': 500_000 }, { master: broker({ atSec: 1.005, gcPauseUs: 2000 }) }),
      // A late poll (1.5 s after the last): the rates are per second of the real interval.
      sample(2.504, { master: 2_400_000, 'producer 0': undefined }, { master: undefined }),
    ];
    const rows = addSystemSeconds([row(0), row(1), row(2)], samples);
    expect(rows[0]!.cpu).toEqual({ master: 0.899, 'producer 0': 0.5 });
    expect(rows[0]!.brokers?.['master']?.gcMs).toBe(2);
    expect(rows[1]!.cpu).toEqual({ master: 1, 'producer 0': null });
    expect(rows[1]!.brokers).toEqual({ master: null });
    // No pair of readings for the last second: the row as it was.
    expect(rows[2]).toEqual(row(2));
  });

  it('gives no rates from two readings too close together', () => {
    const rows = addSystemSeconds([row(0)], [sample(0, { master: 0 }, {}), sample(0.1, { master: 100_000 }, {})]);
    expect(rows[0]!.cpu).toBeUndefined();
  });
});
