import { describe, expect, it } from 'vitest';
import { buildRunResult } from './fixtures.test-helper.js';
import { formatCount } from './format.js';
import { chartsIn, expectSelfContained } from './html-checks.test-helper.js';
import { phaseMarkers, renderRunHtml, RUN_CHARTS } from './report-html.js';

describe('renderRunHtml', () => {
  it('is one self-contained page with the verdict, the tables and the three charts', () => {
    const result = buildRunResult();
    const html = renderRunHtml(result);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expectSelfContained(html);
    expect(html).toContain('<style>');
    expect(html).toContain('<div class="banner passed">Run PASSED</div>');
    expect(html).toContain(`<td class="num">${formatCount(result.summary.throughput.produceMean)} msg/s</td>`);
    for (const p of result.summary.phases) expect(html).toContain(`<td>${p.name}</td>`);

    const charts = chartsIn(html);
    // Throughput: offered, produced, consumed, backlog. p99: send, e2e, generator lag. Curves: the same three.
    expect(charts).toEqual(
      new Map([
        [RUN_CHARTS.throughput, 4],
        [RUN_CHARTS.p99OverTime, 3],
        [RUN_CHARTS.percentiles, 3],
      ]),
    );
  });

  it('draws a phase boundary with its name on both time charts', () => {
    const html = renderRunHtml(buildRunResult());
    for (const name of [RUN_CHARTS.throughput, RUN_CHARTS.p99OverTime]) {
      const svg = new RegExp(`<svg data-chart="${name}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
      for (const phase of ['ramp', 'peak', 'cool-down', 'drain']) expect(svg).toContain(`>${phase}</text>`);
      expect(svg.match(/stroke-dasharray="4 3"/g)).toHaveLength(4);
    }
  });

  it('shows a failed run in red with its reasons, escaped', () => {
    const result = buildRunResult({ lost: 5 });
    result.summary.failures.push('broker <master> stalled & recovered');
    const html = renderRunHtml(result);
    expect(html).toContain('<div class="banner failed">Run FAILED<ul><li>5 messages acknowledged and never consumed (lost)</li>');
    expect(html).toContain('<li>broker &lt;master&gt; stalled &amp; recovered</li>');
  });

  it('takes phase markers from the summary and adds phases only the timeline names', () => {
    const result = buildRunResult();
    const withoutDrain = { ...result.summary, phases: result.summary.phases.filter((p) => p.name !== 'drain') };
    const markers = phaseMarkers(withoutDrain, result.timeline);
    expect(markers.map((m) => m.label)).toEqual(['ramp', 'peak', 'cool-down', 'drain']);
    expect(markers[3]?.x).toBe(40);
  });

  it('names the histogram that cannot be decoded', () => {
    const result = buildRunResult();
    result.summary.histograms.e2e = 'garbage';
    expect(() => renderRunHtml(result)).toThrow(/^e2e histogram: not an HdrHistogram/);
  });
});
