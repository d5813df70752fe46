import { describe, expect, it } from 'vitest';
import type { RunResult } from '../run-result.js';
import { buildRunResult, KILL_AND_RESTART } from './fixtures.test-helper.js';
import { formatCount } from './format.js';
import { chartsIn, expectSelfContained } from './html-checks.test-helper.js';
import { faultMarkers, phaseMarkers, renderRunHtml, RUN_CHARTS } from './report-html.js';
import { FAULT_MARKER_COLOUR } from './svg-chart.js';
import { SYSTEM_CHARTS } from './system-charts.js';

/** A run in which every send was acknowledged at its first attempt. */
function cleanRun(): RunResult {
  const result = buildRunResult();
  for (const r of result.timeline) r.failed = 0;
  return result;
}

function chartSvg(html: string, name: string): string {
  return new RegExp(`<svg data-chart="${name}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
}

describe('renderRunHtml', () => {
  it('is one self-contained page with the verdict, the tables and the seven charts', () => {
    const result = cleanRun();
    const html = renderRunHtml(result);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expectSelfContained(html);
    expect(html).toContain('<style>');
    expect(html).toContain('<div class="banner passed">Run PASSED</div>');
    expect(html).toContain(`<td class="num">${formatCount(result.summary.throughput.produceMean)} msg/s</td>`);
    for (const p of result.summary.phases) expect(html).toContain(`<td>${p.name}</td>`);

    const charts = chartsIn(html);
    // Throughput: offered, produced, consumed, backlog. p99: send, e2e, generator lag. Curves: the same three.
    // System: CPU of 2 brokers and 3 workers; fdatasync p99 and KiB per fdatasync of each broker; GC and RSS of each, and the master's slave lag; each broker's consumer lag in seconds and messages.
    expect(charts).toEqual(
      new Map([
        [RUN_CHARTS.throughput, 4],
        [RUN_CHARTS.p99OverTime, 3],
        [RUN_CHARTS.percentiles, 3],
        [SYSTEM_CHARTS.cpu, 5],
        [SYSTEM_CHARTS.fsync, 4],
        [SYSTEM_CHARTS.memory, 5],
        // The brokers' own consumer lag: seconds and messages of each broker.
        [SYSTEM_CHARTS.lag, 4],
      ]),
    );
    // The CPU per role table: one row per role, the µs per message of each.
    expect(html).toContain('<h2>CPU per role</h2>');
    expect(html).toMatch(/<td>master<\/td><td class="num">87\.0%<\/td><td class="num">[\d.]+<\/td><td class="num">[\d,]+<\/td><td class="num">9\.50<\/td>/);
  });

  it('draws no system chart for a run without per-second system figures (an older run, a remote one)', () => {
    const result = cleanRun();
    for (const r of result.timeline) {
      delete r.cpu;
      delete r.brokers;
    }
    const charts = chartsIn(renderRunHtml(result));
    expect([...charts.keys()]).toEqual([RUN_CHARTS.throughput, RUN_CHARTS.p99OverTime, RUN_CHARTS.percentiles]);
  });

  it("leaves a gap in a broker's lines for the seconds it was down, and draws the workers summed when there are more roles than colours", () => {
    const result = buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2 });
    const html = renderRunHtml(result);
    // broker-a's master answered nothing from second 50 to 64: its fdatasync line breaks there (two runs of points).
    const fsync = chartSvg(html, SYSTEM_CHARTS.fsync);
    const line = /<path data-series="master broker-a fdatasync p99"[^>]* d="([^"]*)"/.exec(fsync)?.[1] ?? '';
    expect(line.match(/M/g)).toHaveLength(2);
    const more = buildRunResult({ brokerGroups: 4 });
    const cpu = chartSvg(renderRunHtml(more), SYSTEM_CHARTS.cpu);
    expect(cpu).toContain('data-series="producers (sum)"');
    expect(cpu).toContain('data-series="consumers (sum)"');
    expect(cpu).not.toContain('data-series="producer 0"');
  });

  it('draws a phase boundary with its name on both time charts', () => {
    const html = renderRunHtml(buildRunResult());
    for (const name of [RUN_CHARTS.throughput, RUN_CHARTS.p99OverTime]) {
      const svg = new RegExp(`<svg data-chart="${name}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
      for (const phase of ['ramp', 'peak', 'cool-down', 'drain']) expect(svg).toContain(`>${phase}</text>`);
      expect(svg.match(/stroke-dasharray="4 3"/g)).toHaveLength(4);
    }
  });

  it('says "no fault injected" and adds no Faults section or failure series to a clean run', () => {
    const html = renderRunHtml(cleanRun());
    expect(html).toContain('no fault injected');
    expect(html).not.toContain('<h2>Faults</h2>');
    expect(html).not.toContain('data-marker="fault"');
    expect(html).not.toContain('failed attempts msg/s');
    expect(html).toContain('1 broker group (master and slave)');
  });

  it('gives a run under faults its Faults table, the loss line, and marks each fault on both time charts', () => {
    const result = buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2 });
    const html = renderRunHtml(result);
    expect(html).toContain('faults: kill-master@50, restart-master@65');
    expect(html).toContain('<h2>Faults</h2>');
    const kill = result.summary.faults[0]!;
    expect(html).toContain(
      `<tr><td>kill-master@50</td><td>master broker-a (pid 41234)</td><td class="num">50.1 s</td><td class="num">65 s</td>` +
        `<td class="num">${formatCount(kill.failedAttempts)}</td><td class="num">${formatCount(kill.retried)}</td>` +
        `<td class="num">1.35 s</td><td class="num">1 s</td><td class="num">${formatCount(kill.fromSlave)}</td><td class="num">0</td><td class="num">0</td></tr>`,
    );
    expect(kill.fromSlave).toBeGreaterThan(0);
    expect(html).toContain('<p>Loss: lost 0 of a limit of 0 (sync/sync may lose nothing in this scenario).</p>');
    expect(html).toContain('2 broker groups (master and slave)');
    for (const name of [RUN_CHARTS.throughput, RUN_CHARTS.p99OverTime]) {
      const svg = chartSvg(html, name);
      const lines = [...svg.matchAll(/<line data-marker="fault" x1="([\d.]+)"[^>]*stroke="([^"]+)"[^>]*><title>([^<]*)<\/title><\/line>/g)];
      expect(lines.map((m) => m[2])).toEqual([FAULT_MARKER_COLOUR, FAULT_MARKER_COLOUR]);
      expect(lines[0]![3]).toBe('kill-master@50: master broker-a (pid 41234), done at 50.1 s');
      expect(Number(lines[1]![1])).toBeGreaterThan(Number(lines[0]![1]));
      expect(svg).toContain('>kill-master@50</text>');
      expect(svg).toContain('>restart-master@65</text>');
    }
    // The throughput chart adds failed attempts and re-sends: 6 series.
    expect(chartsIn(html).get(RUN_CHARTS.throughput)).toBe(6);
  });

  it('puts a fault marker at the second it was done, and none for a fault the run ended before', () => {
    const { summary } = buildRunResult({ faults: KILL_AND_RESTART });
    summary.faults[1]!.doneAtSec = null;
    expect(faultMarkers(summary)).toEqual([
      { x: 50.1, label: 'kill-master@50', kind: 'fault', detail: 'kill-master@50: master broker-a (pid 41234), done at 50.1 s' },
    ]);
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
