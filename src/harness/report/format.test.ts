import { describe, expect, it } from 'vitest';
import { formatBytes, formatCompact, formatCount, formatMs, formatMsTick, formatPercent, formatSeconds } from './format.js';

describe('report number formats', () => {
  it('counts and rates get thousands separators', () => {
    expect(formatCount(240_000)).toBe('240,000');
    expect(formatCount(1_234_567.6)).toBe('1,234,568');
    expect(formatCount(-0.2)).toBe('0');
  });

  it('milliseconds keep 2-3 significant decimals', () => {
    expect(formatMs(0)).toBe('0');
    expect(formatMs(0.1234)).toBe('0.123');
    expect(formatMs(1.234)).toBe('1.23');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(123.4)).toBe('123');
    expect(formatMs(12_345.6)).toBe('12,346');
  });

  it('ticks, percentages, seconds and sizes', () => {
    expect(formatMsTick(0.01)).toBe('0.01');
    expect(formatMsTick(10_000)).toBe('10,000');
    expect(formatCompact(240_000)).toBe('240k');
    expect(formatCompact(1_500_000)).toBe('1.5M');
    expect(formatPercent(0.9674)).toBe('96.7%');
    expect(formatSeconds(60)).toBe('60 s');
    expect(formatSeconds(75.34)).toBe('75.3 s');
    expect(formatBytes(1 << 30)).toBe('1 GiB');
    expect(formatBytes(256)).toBe('256 B');
  });
});
