// Number and text formatting shared by the report writers (Markdown, HTML,
// SVG). One place decides how a count, a rate or a latency reads, so the
// job summary, the HTML page and the compare report always agree.
import type { RunSummary } from '../run-result.js';

/** en-US: comma thousands separators whatever the machine's locale, so CI output is stable. */
const LOCALE = 'en-US';

const countFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

/** A count or a rate: integer with thousands separators ("240,000"). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  // -0 would print as "-0".
  return countFormat.format(Math.round(n) || 0);
}

/** Latency thresholds (ms) below which a figure keeps 3, 2 or 1 decimals. */
const MS_THREE_DECIMALS_BELOW = 1;
const MS_TWO_DECIMALS_BELOW = 10;
const MS_ONE_DECIMAL_BELOW = 100;

/**
 * A latency in milliseconds with 2-3 significant digits after the leading
 * ones: 0.123, 1.23, 12.3, 123, 12,345. Sub-millisecond figures keep their
 * microseconds because that is where a healthy async broker lives.
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0';
  const abs = Math.abs(ms);
  if (abs < MS_THREE_DECIMALS_BELOW) return ms.toFixed(3);
  if (abs < MS_TWO_DECIMALS_BELOW) return ms.toFixed(2);
  if (abs < MS_ONE_DECIMAL_BELOW) return ms.toFixed(1);
  return formatCount(ms);
}

const BYTE_UNITS: readonly { size: number; suffix: string }[] = [
  { size: 1024 ** 3, suffix: 'GiB' },
  { size: 1024 ** 2, suffix: 'MiB' },
  { size: 1024, suffix: 'KiB' },
];

/** A size in bytes, in the largest binary unit that divides it evenly ("1 GiB", "256 B", "1,536 KiB"). */
export function formatBytes(bytes: number): string {
  for (const { size, suffix } of BYTE_UNITS) {
    if (bytes >= size && bytes % size === 0) return `${formatCount(bytes / size)} ${suffix}`;
  }
  return `${formatCount(bytes)} B`;
}

/** A ratio as a percentage with one decimal ("96.7%"). */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(1)}%`;
}

/** Seconds, one decimal when not whole ("60 s", "75.3 s"). */
export function formatSeconds(sec: number): string {
  const rounded = Math.round(sec * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} s`;
}

/** Below this many seconds a duration keeps two decimals: a recovery of 0.05 s and one of 0.4 s differ. */
const SECONDS_TWO_DECIMALS_BELOW = 10;

/** A short duration such as a recovery time: "0.05 s", "1.25 s", "12.3 s", "1,234 s". */
export function formatDurationSec(sec: number): string {
  if (!Number.isFinite(sec)) return String(sec);
  if (sec === 0) return '0 s';
  if (Math.abs(sec) < SECONDS_TWO_DECIMALS_BELOW) return `${sec.toFixed(2)} s`;
  if (Math.abs(sec) < MS_ONE_DECIMAL_BELOW) return `${sec.toFixed(1)} s`;
  return `${formatCount(sec)} s`;
}

const COMPACT_UNITS: readonly { limit: number; suffix: string }[] = [
  { limit: 1e9, suffix: 'G' },
  { limit: 1e6, suffix: 'M' },
  { limit: 1e3, suffix: 'k' },
];

/** Short axis-tick form: 240000 -> "240k", 1500000 -> "1.5M", 0.25 -> "0.25". */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  for (const { limit, suffix } of COMPACT_UNITS) {
    if (abs >= limit) return `${trimNumber(n / limit)}${suffix}`;
  }
  return trimNumber(n);
}

/** An axis tick in ms: "0.01", "0.5", "1", "250", "10,000" (a tick is a round number: no padding decimals). */
export function formatMsTick(ms: number): string {
  if (Math.abs(ms) >= 1000) return formatCount(ms);
  return trimNumber(ms);
}

/** At most 3 significant digits, no trailing zeros (a tick label, not a measurement). */
function trimNumber(n: number): string {
  return String(Number(n.toPrecision(3)));
}

/** How a run's mode (the compare report's row key) reads: "flush sync / replication async". */
export function modeLabel(s: Pick<RunSummary, 'flush' | 'replication'>): string {
  return `flush ${s.flush} / replication ${s.replication}`;
}

/** PASSED or FAILED, as CI and people grep for it. */
export function verdict(passed: boolean): 'PASSED' | 'FAILED' {
  return passed ? 'PASSED' : 'FAILED';
}
