import { describe, expect, it } from 'vitest';
import { escapeXml, FAULT_MARKER_COLOUR, niceStep, percentileToX, PLOT_BACKGROUND, renderLineChart, SERIES_PALETTE } from './svg-chart.js';

const line = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ x: i, y: f(i) }));

describe('renderLineChart', () => {
  it('draws one path per series in palette colours, with the legend, the plot area and data-chart', () => {
    const svg = renderLineChart({
      name: 'demo',
      title: 'A & B <chart>',
      x: { label: 'time (s)' },
      y: { label: 'msg/s' },
      y2: { label: 'backlog' },
      series: [
        { name: 'a', points: line(10, (i) => i * 100) },
        { name: 'b', points: line(10, (i) => 1000 - i * 100) },
        { name: 'c "quoted"', points: line(10, (i) => i * i), axis: 'right', dashed: true },
      ],
      markers: [{ x: 5, label: 'peak' }],
    });
    expect(svg).toMatch(/^<svg data-chart="demo" /);
    expect(svg).toContain('A &amp; B &lt;chart&gt;');
    expect(svg).toContain(`fill="${PLOT_BACKGROUND}"`);
    const paths = [...svg.matchAll(/<path data-series="([^"]*)" stroke="([^"]*)" stroke-width="([\d.]+)"[^>]* d="([^"]+)"/g)];
    expect(paths.map((m) => m[1])).toEqual(['a', 'b', 'c &quot;quoted&quot;']);
    expect(paths.map((m) => m[2])).toEqual(SERIES_PALETTE.slice(0, 3));
    // Earlier series are wider, so that a later one on top of it leaves its colour visible.
    const widths = paths.map((m) => Number(m[3]));
    expect(widths[0]).toBeGreaterThan(widths[1]!);
    expect(widths[1]).toBeGreaterThan(widths[2]!);
    for (const m of paths) expect(m[4]).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){9}$/);
    expect(svg).toContain('stroke-dasharray="7 4"');
    expect(svg).toContain('c &quot;quoted&quot; (right axis)');
    expect(svg).toContain('>peak</text>');
    expect(svg).not.toContain('http');
  });

  it('leaves a gap where a value is missing and a dot for a single point', () => {
    const svg = renderLineChart({
      name: 'gaps',
      title: 't',
      x: { label: 'x' },
      y: { label: 'y' },
      series: [
        { name: 'gappy', points: [{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: Number.NaN }, { x: 3, y: 2 }, { x: 4, y: 1 }] },
        { name: 'single', points: [{ x: 2, y: 1 }] },
        { name: 'empty', points: [] },
      ],
    });
    const d = /data-series="gappy"[^>]* d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(d.match(/M/g)).toHaveLength(2);
    expect(svg).toMatch(/<circle data-series="single" stroke="[^"]+" cx="[\d.]+" cy="[\d.]+" r="[\d.]+"/);
    expect(svg).not.toContain('data-series="empty"');
  });

  it('puts decades on a log axis and draws values at or below the floor on it', () => {
    const svg = renderLineChart({
      name: 'log',
      title: 't',
      x: { label: 'x' },
      y: { label: 'ms', scale: 'log', logFloor: 0.01 },
      series: [{ name: 's', points: [{ x: 0, y: 0 }, { x: 1, y: 0.5 }, { x: 2, y: 3000 }] }],
    });
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0.1', '1', '10', '100', '1k', '10k']);
    // The 0 sits on the floor (the bottom of the plot), not below it.
    const ys = [...(/data-series="s"[^>]* d="([^"]+)"/.exec(svg)?.[1] ?? '').matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    const plot = /data-plot-area="" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/.exec(svg);
    expect(plot).not.toBeNull();
    expect(ys[0]).toBeCloseTo(Number(plot?.[1]) + Number(plot?.[2]), 0);
  });

  it('lays a percentile x axis out as log(1/(1-p)) with 0%, 90%, 99%, 99.9% ticks', () => {
    expect(percentileToX(90)).toBeCloseTo(1, 9);
    expect(percentileToX(99.9)).toBeCloseTo(3, 9);
    const svg = renderLineChart({
      name: 'pct',
      title: 't',
      x: { label: 'percentile', mode: 'percentile' },
      y: { label: 'ms' },
      series: [{ name: 's', points: [0, 50, 90, 99, 99.9, 99.95].map((p, i) => ({ x: p, y: i + 1 })) }],
    });
    const ticks = [...svg.matchAll(/text-anchor="middle">([\d.]+%)</g)].map((m) => m[1]);
    expect(ticks).toEqual(['0%', '90%', '99%', '99.9%']);
  });

  it('draws a fault as a solid line in its own colour, its name in a row above the phases, clear of the legend', () => {
    const svg = renderLineChart({
      name: 'faults',
      title: 't',
      width: 1000,
      x: { label: 's', min: 0, max: 120 },
      y: { label: 'msg/s' },
      series: [{ name: 'a', points: line(120, () => 1) }],
      markers: [
        { x: 0, label: 'ramp' },
        { x: 10, label: 'peak' },
        { x: 50, label: 'kill-master@50', kind: 'fault', detail: 'master broker-a' },
        // 3 s later: the name would print over the first one's in the same row.
        { x: 53, label: 'restart-master@53', kind: 'fault' },
        // Near the right edge: the name runs leftwards, inside the chart.
        { x: 119, label: 'kill-consumer@119', kind: 'fault' },
      ],
    });
    const faults = [...svg.matchAll(/<line data-marker="fault" x1="([\d.]+)" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)" stroke="([^"]+)" stroke-width="2">/g)];
    expect(faults).toHaveLength(3);
    for (const f of faults) expect(f[4]).toBe(FAULT_MARKER_COLOUR);
    expect(svg).toContain('<title>master broker-a</title></line>');
    expect(svg.match(/data-marker="phase"[^>]*stroke-dasharray="4 3"/g)).toHaveLength(2);
    const label = (name: string) => {
      const m = new RegExp(`<text x="([\\d.]+)" y="([\\d.]+)"( text-anchor="end")?[^>]*>${name}</text>`).exec(svg);
      expect(m, name).not.toBeNull();
      return { x: Number(m![1]), y: Number(m![2]), end: m![3] !== undefined };
    };
    const plotTop = Number(/data-plot-area="" x="[\d.]+" y="([\d.]+)"/.exec(svg)![1]);
    const [ramp, peak, kill, restart, consumer] = ['ramp', 'peak', 'kill-master@50', 'restart-master@53', 'kill-consumer@119'].map(label);
    // Phases share the row nearest the plot (their names do not meet); faults sit above them.
    expect(ramp!.y).toBe(peak!.y);
    expect(kill!.y).toBeLessThan(ramp!.y);
    // Two fault names 3 s apart take two rows.
    expect(restart!.y).not.toBe(kill!.y);
    // The highest name (its baseline less its 11 px height) stays below the legend's one row (title 26 + row 20).
    expect(Math.min(kill!.y, restart!.y, consumer!.y) - 11).toBeGreaterThanOrEqual(26 + 20);
    for (const l of [ramp, peak, kill, restart, consumer]) expect(l!.y).toBeLessThan(plotTop);
    expect(consumer!.end).toBe(true);
    expect(consumer!.x).toBeLessThan(1000);
  });

  it('says "no data" when there is nothing to draw', () => {
    const svg = renderLineChart({ name: 'none', title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [] });
    expect(svg).toContain('>no data</text>');
  });
});

describe('chart helpers', () => {
  it('escapes XML text and attributes', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('picks 1, 2, 2.5 and 5 steps', () => {
    expect(niceStep(240_000, 6)).toBe(50_000);
    expect(niceStep(10, 6)).toBe(2);
    expect(niceStep(13, 6)).toBe(2.5);
    expect(niceStep(0, 6)).toBe(1);
  });
});
