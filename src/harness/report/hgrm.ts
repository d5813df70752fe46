// Reading the run's latency histograms: HdrHistogram compressed base64 in
// microseconds (as workers ship them) turned into the standard .hgrm text,
// the points of a latency-by-percentile curve, and the p50..max summary in
// milliseconds that summary.json carries. Plain JS decoding: no WebAssembly
// to initialise, so the report writers work in any thread.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummaryMs } from '../run-result.js';

const US_PER_MS = 1000;
/** Same shape as the bench/harness recorders (src/load/latency-histogram.ts): 1 µs .. 1 h, 3 significant digits. */
const LOWEST_DISCERNIBLE_US = 1;
const HIGHEST_TRACKABLE_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;
/** The counts array width the encoder used (hdr.build's default). */
const BIT_BUCKET_SIZE = 32;
/** HdrHistogram's usual .hgrm resolution: 5 reporting points per halving of the remaining distance to 100%. */
const HGRM_TICKS_PER_HALF_DISTANCE = 5;

/** Curve resolution along the log(1/(1-p)) axis. */
const CURVE_STEPS_PER_DECADE = 20;
/** The curve stops at 99.9999%: past that even a 10^7-message run has only a handful of samples. */
const CURVE_MAX_DECADES = 6;

/**
 * Decode a histogram as the workers ship it. The empty string stands for "no
 * values recorded" (a role that never ran), so a report can still be written.
 */
export function decodeLatencyHistogram(histogramBase64: string): hdr.Histogram {
  if (histogramBase64 === '') {
    return hdr.build({
      lowestDiscernibleValue: LOWEST_DISCERNIBLE_US,
      highestTrackableValue: HIGHEST_TRACKABLE_US,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    });
  }
  try {
    return hdr.decodeFromCompressedBase64(histogramBase64, BIT_BUCKET_SIZE, false);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`not an HdrHistogram compressed base64 string (${reason})`);
  }
}

function toHistogram(h: hdr.Histogram | string): hdr.Histogram {
  return typeof h === 'string' ? decodeLatencyHistogram(h) : h;
}

/** Microseconds to milliseconds, 3 decimals (the histogram's own resolution is 1 µs). */
function usToMs(us: number): number {
  return Math.round(us) / US_PER_MS;
}

/**
 * The standard HdrHistogram percentile distribution (.hgrm) of a microsecond
 * histogram, values printed in milliseconds: the table begins with
 * `       Value     Percentile TotalCount 1/(1-Percentile)` and ends with
 * the `#[Mean ...` footer, which HdrHistogram's plotter reads as is.
 */
export function renderHgrm(histogramBase64: string): string {
  return decodeLatencyHistogram(histogramBase64).outputPercentileDistribution(
    HGRM_TICKS_PER_HALF_DISTANCE,
    US_PER_MS,
  );
}

/** p50, p90, p99, p99.9, max and mean in ms (3 decimals) and the count, of a microsecond histogram. */
export function latencySummaryMs(h: hdr.Histogram | string): LatencySummaryMs {
  const hist = toHistogram(h);
  if (hist.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
  return {
    p50: usToMs(hist.getValueAtPercentile(50)),
    p90: usToMs(hist.getValueAtPercentile(90)),
    p99: usToMs(hist.getValueAtPercentile(99)),
    p999: usToMs(hist.getValueAtPercentile(99.9)),
    max: usToMs(hist.maxValue),
    mean: usToMs(hist.mean),
    count: hist.totalCount,
  };
}

export interface PercentilePoint {
  /** 0 <= percentile < 100. */
  percentile: number;
  valueMs: number;
}

/**
 * Points of the latency-by-percentile curve, evenly spaced along
 * x = log10(1 / (1 - percentile/100)) as HdrHistogram's plotter draws it
 * (0% at x=0, 90% at 1, 99% at 2, ...). The curve goes as far as the data
 * supports, log10(count) (the last sample), capped at 99.9999%, and its last
 * point is the maximum, since 100% has no place on a log axis. Empty for an
 * empty histogram.
 */
export function percentileCurve(h: hdr.Histogram | string): PercentilePoint[] {
  const hist = toHistogram(h);
  if (hist.totalCount === 0) return [];
  const xMax = Math.min(Math.log10(hist.totalCount), CURVE_MAX_DECADES);
  const steps = Math.ceil(xMax * CURVE_STEPS_PER_DECADE);
  const points: PercentilePoint[] = [];
  for (let k = 0; k < steps; k++) {
    const percentile = xToPercentile(k / CURVE_STEPS_PER_DECADE);
    points.push({ percentile, valueMs: usToMs(hist.getValueAtPercentile(percentile)) });
  }
  points.push({ percentile: xToPercentile(xMax), valueMs: usToMs(hist.maxValue) });
  return points;
}

function xToPercentile(x: number): number {
  return 100 * (1 - 10 ** -x);
}
