// Latency histograms of the harness and the benchmarks: HdrHistogram (WebAssembly build,
// ~20 ns per record) in microseconds, reported in milliseconds.
import * as hdr from 'hdr-histogram-js';

const MAX_TRACKABLE_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;
const US_PER_MS = 1000;

let ready: Promise<void> | undefined;

export async function createLatencyHistogram(): Promise<hdr.Histogram> {
  ready ??= hdr.initWebAssembly();
  await ready;
  return hdr.build({
    useWebAssembly: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
  });
}

/** Percentile of a microsecond histogram, in milliseconds (3 decimals). */
export function percentileMs(h: hdr.Histogram, percentile: number): number {
  return Math.round(h.getValueAtPercentile(percentile)) / US_PER_MS;
}

/**
 * A plain-JS histogram (no WebAssembly: for merging on the coordinator, where
 * speed does not matter). `packed` trades speed for memory, for histograms
 * that are many and short-lived (one per second of a run).
 */
export function createMergeHistogram(packed = false): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    ...(packed ? { bitBucketSize: 'packed' as const } : {}),
  });
}

/** A histogram shipped with encodeHistogram, as a plain-JS histogram. */
export function decodeHistogram(s: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}
