import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { histogramOfMs, newHistogram } from './fixtures.test-helper.js';
import { latencySummaryMs, percentileCurve, renderHgrm } from './hgrm.js';

/** 1..10,000 µs, each once: percentiles are known in advance (p50 = 5 ms, max = 10 ms). */
function uniformUs(): string {
  const h = newHistogram();
  for (let us = 1; us <= 10_000; us++) h.recordValue(us);
  return hdr.encodeIntoCompressedBase64(h);
}

describe('renderHgrm', () => {
  it('writes the standard HdrHistogram percentile table in milliseconds', () => {
    const text = renderHgrm(uniformUs());
    const lines = text.split('\n');
    expect(lines[0]).toBe('       Value     Percentile TotalCount 1/(1-Percentile)');
    expect(lines[1]).toBe('');
    // First row: the smallest value (1 µs = 0.001 ms) at percentile 0.
    expect(lines[2]).toMatch(/^\s+0\.001 0\.000000000000\s+1\s+1\.00$/);
    // The 50% row holds 5 ms (within the histogram's 3 significant digits).
    const median = lines.find((l) => /\s0\.500000000000\s/.test(l));
    expect(Number(median?.trim().split(/\s+/)[0])).toBeCloseTo(5, 2);
    expect(text).toMatch(/#\[Mean {4}=\s+5\.00\d, StdDeviation {3}=/);
    expect(text).toMatch(/#\[Max {5}=\s+10\.00\d, Total count {4}=\s+10000\]/);
    expect(text).toMatch(/#\[Buckets =\s+\d+, SubBuckets {5}=\s+\d+\]\n$/);
  });

  it('treats the empty string as an empty histogram and refuses garbage with a clear error', () => {
    expect(renderHgrm('')).toContain('Total count    =            0');
    expect(() => renderHgrm('not base64!')).toThrow(/not an HdrHistogram compressed base64 string/);
  });
});

describe('latencySummaryMs', () => {
  it('gives p50..max and the mean in ms with 3 decimals, and the count', () => {
    const s = latencySummaryMs(uniformUs());
    expect(s.count).toBe(10_000);
    // HdrHistogram keeps 3 significant digits: each figure is within 0.1% of the exact one.
    const near = (v: number, exact: number) => expect(Math.abs(v - exact) / exact).toBeLessThanOrEqual(1e-3);
    near(s.p50, 5);
    near(s.p90, 9);
    near(s.p99, 9.9);
    near(s.p999, 9.99);
    near(s.max, 10);
    near(s.mean, 5);
    for (const v of [s.p50, s.p90, s.p99, s.p999, s.max, s.mean]) expect(Math.round(v * 1000) / 1000).toBe(v);
  });

  it('accepts a decoded histogram as well (the coordinator merges before summarising)', () => {
    const h = newHistogram();
    // Below 2,048 µs the histogram resolves single microseconds (3 significant digits): 1.5 ms stays 1.5 ms.
    h.recordValue(1_500);
    expect(latencySummaryMs(h)).toEqual({ p50: 1.5, p90: 1.5, p99: 1.5, p999: 1.5, max: 1.5, mean: 1.5, count: 1 });
  });

  it('is all zeros for no values', () => {
    expect(latencySummaryMs('')).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 });
  });
});

describe('percentileCurve', () => {
  it('runs from 0% to log10(count) decades with non-decreasing values, ending at the maximum', () => {
    const points = percentileCurve(histogramOfMs([...Array.from({ length: 9_999 }, (_, i) => 1 + (i % 100) / 100), 250]));
    expect(points[0]?.percentile).toBe(0);
    const last = points[points.length - 1];
    // 10,000 values: 4 decades, 99.99%.
    expect(last?.percentile).toBeCloseTo(99.99, 6);
    expect(last?.valueMs).toBeCloseTo(250, 0);
    for (let i = 1; i < points.length; i++) {
      expect(points[i]!.percentile).toBeGreaterThan(points[i - 1]!.percentile);
      expect(points[i]!.valueMs).toBeGreaterThanOrEqual(points[i - 1]!.valueMs);
    }
    // 20 points per decade.
    expect(points.length).toBe(4 * 20 + 1);
  });

  it('is empty for an empty histogram', () => {
    expect(percentileCurve('')).toEqual([]);
  });
});
