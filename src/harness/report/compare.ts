// `npm run compare`: the flush x replication modes side by side (compare.md
// for CI, compare.html with the modes' latency percentile curves on one
// chart), and the check of a set of runs against a stored baseline.
import type { RunSummary } from '../run-result.js';
import { formatCount, formatMs, formatMsTick, formatPercent, modeLabel } from './format.js';
import { percentileCurve } from './hgrm.js';
import { figure, htmlPage, htmlTable, verdictBanner, warningsBanner } from './html-page.js';
import { markdownListItem, markdownTable } from './markdown.js';
import { escapeXml, renderLineChart, type ChartSeries } from './svg-chart.js';
import { compareCpuTable, compareFaultTable, compareHttpTable, compareLatencyTable, compareTable, faultsOf, hasCpuPerMessage, machineLine, type Table } from './tables.js';

/** How far a run may fall behind its baseline before it counts as a regression. */
export interface BaselineTolerance {
  /** Relative drop of a throughput figure (0.1 = 10% lower). */
  throughputDrop: number;
  /** Relative rise of a p99 (0.25 = 25% higher). */
  latencyRise: number;
  /** ...and the p99 must also have risen by at least this many ms, so that sub-millisecond figures do not flap. */
  latencyRiseMinMs: number;
}

export const DEFAULT_BASELINE_TOLERANCE: Readonly<BaselineTolerance> = {
  throughputDrop: 0.1,
  latencyRise: 0.25,
  latencyRiseMinMs: 1,
};

export interface Regression {
  /** Which run: scenario and mode. */
  mode: string;
  metric: string;
  baseline: number;
  current: number;
  /** Human form of the change: "-14.2%", "+31.0%", "+12" (lost), "passed → failed". */
  change: string;
}

/** Names on the compare page's <svg data-chart="...">. */
export const COMPARE_CHARTS = { send: 'send-percentiles', e2e: 'e2e-percentiles' } as const;

const CURVE_LOG_FLOOR_MS = 0.001;

/** Runs are matched on scenario and mode; the rate or duration may differ (a baseline from a smaller machine is still a baseline). */
function runKey(s: RunSummary): string {
  return `${s.scenario}\u0000${s.flush}\u0000${s.replication}`;
}

function runName(s: RunSummary): string {
  return `${s.scenario} ${modeLabel(s)}`;
}

/** The faults a run went through, as given on the command line, in time order ("" for none). */
function faultSpecs(s: RunSummary): string {
  return faultsOf(s)
    .map((f) => f.spec)
    .join(', ');
}

function relativeChange(baseline: number, current: number): string {
  const pct = ((current - baseline) / baseline) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/**
 * The regressions of `current` against `baseline` (runs matched by scenario,
 * flush and replication; a run without a baseline is not checked):
 * - produce mean, or the acked rate of a checked phase, lower by more than
 *   `throughputDrop`;
 * - send or e2e p99 higher by more than `latencyRise` and by at least
 *   `latencyRiseMinMs`;
 * - messages lost where the baseline lost none;
 * - faults other than the baseline's (its figures say nothing about these);
 * - a run that passed in the baseline and fails now.
 * `ackedRatePhases` are the phases whose acked rate is checked (the
 * scenario's thresholds.ackedRatePhases: the summary does not record them);
 * by default every phase of the baseline that offered load.
 */
export function compareToBaseline(
  current: readonly RunSummary[],
  baseline: readonly RunSummary[],
  tolerance: Partial<BaselineTolerance> = DEFAULT_BASELINE_TOLERANCE,
  ackedRatePhases?: readonly string[],
): Regression[] {
  const tol: BaselineTolerance = { ...DEFAULT_BASELINE_TOLERANCE, ...tolerance };
  const byKey = new Map<string, RunSummary>();
  // The first baseline run of a mode wins: a baseline file should hold one per mode anyway.
  for (const b of baseline) if (!byKey.has(runKey(b))) byKey.set(runKey(b), b);

  const regressions: Regression[] = [];
  for (const cur of current) {
    const base = byKey.get(runKey(cur));
    if (!base) continue;
    const mode = runName(cur);
    const throughput = (metric: string, b: number, c: number) => {
      // A baseline of 0 has nothing to fall from.
      if (b > 0 && c < b * (1 - tol.throughputDrop)) {
        regressions.push({ mode, metric, baseline: b, current: c, change: relativeChange(b, c) });
      }
    };
    const latency = (metric: string, b: number, c: number) => {
      if (c > b * (1 + tol.latencyRise) && c - b >= tol.latencyRiseMinMs) {
        const change = b > 0 ? relativeChange(b, c) : `+${formatMs(c - b)} ms`;
        regressions.push({ mode, metric, baseline: b, current: c, change });
      }
    };

    throughput('produce mean msg/s', base.throughput.produceMean, cur.throughput.produceMean);
    const checked = ackedRatePhases ?? base.phases.filter((p) => p.offeredRate > 0).map((p) => p.name);
    for (const name of checked) {
      const b = base.phases.find((p) => p.name === name);
      const c = cur.phases.find((p) => p.name === name);
      if (b && c) throughput(`phase ${name} acked msg/s`, b.ackedRate, c.ackedRate);
    }
    latency('send p99 ms', base.latencyMs.send.p99, cur.latencyMs.send.p99);
    latency('e2e p99 ms', base.latencyMs.e2e.p99, cur.latencyMs.e2e.p99);
    if (base.messages.lost === 0 && cur.messages.lost > 0) {
      regressions.push({ mode, metric: 'lost', baseline: 0, current: cur.messages.lost, change: `+${formatCount(cur.messages.lost)}` });
    }
    const baseFaults = faultSpecs(base);
    const curFaults = faultSpecs(cur);
    if (baseFaults !== curFaults) {
      regressions.push({
        mode,
        metric: 'faults',
        baseline: faultsOf(base).length,
        current: faultsOf(cur).length,
        change: `other faults than the baseline's: ${baseFaults || 'none'} → ${curFaults || 'none'}`,
      });
    }
    if (base.passed && !cur.passed) {
      regressions.push({ mode, metric: 'passed', baseline: 1, current: 0, change: 'passed → failed' });
    }
  }
  return regressions;
}

/** The tolerance in words, so that a reader of compare.md knows what "regression" meant. */
export function describeTolerance(t: BaselineTolerance): string {
  return (
    `A regression is: produce mean or a checked phase's acked rate more than ${formatPercent(t.throughputDrop)} below the baseline; ` +
    `send or e2e p99 more than ${formatPercent(t.latencyRise)} above it and by at least ${formatMs(t.latencyRiseMinMs)} ms; ` +
    'messages lost where the baseline lost none; a run that passed in the baseline and fails now; ' +
    'a run under other faults than its baseline (it cannot be compared).'
  );
}

function regressionTable(regressions: readonly Regression[]): Table {
  const value = (metric: string, n: number) => (metric.endsWith(' ms') ? formatMs(n) : formatCount(n));
  return {
    headers: ['Run', 'Metric', 'Baseline', 'Current', 'Change'],
    numericFrom: 2,
    rows: regressions.map((r) => [r.mode, r.metric, value(r.metric, r.baseline), value(r.metric, r.current), r.change]),
  };
}

function scenarioNames(summaries: readonly RunSummary[]): string {
  return [...new Set(summaries.map((s) => s.scenario))].join(', ') || '(no runs)';
}

function compareTitle(summaries: readonly RunSummary[]): string {
  const passed = summaries.filter((s) => s.passed).length;
  return `metaq compare: ${scenarioNames(summaries)}: ${passed} of ${summaries.length} modes passed`;
}

/** What the runs went through: "no fault injected", or the faults (the same in every mode, as compare runs them). */
function faultsLine(summaries: readonly RunSummary[]): string {
  const lists = [...new Set(summaries.map((s) => faultsOf(s).map((f) => f.spec).join(', ')))];
  if (lists.every((l) => l === '')) return 'No fault injected.';
  if (lists.length === 1) {
    return (
      `Faults in every mode: ${lists[0]}. Longest recovery: the longest time from one of them to the first SEND_OK after it; ` +
      'unavailable: seconds with less than half the offered rate acknowledged; lost / allowed: what the scenario allows in that mode.'
    );
  }
  return `Faults differ between runs: ${summaries.map((s) => `${modeLabel(s)}: ${faultsOf(s).map((f) => f.spec).join(', ') || 'none'}`).join('; ')}.`;
}

function anyFault(summaries: readonly RunSummary[]): boolean {
  return summaries.some((s) => faultsOf(s).length > 0);
}

/** "mode: reason" for every failure of every run. */
function failureLines(summaries: readonly RunSummary[]): string[] {
  return summaries.flatMap((s) => s.failures.map((f) => `${modeLabel(s)}: ${f}`));
}

/** "mode: warning" for every warning of every run. */
function warningLines(summaries: readonly RunSummary[]): string[] {
  return summaries.flatMap((s) => s.warnings.map((w) => `${modeLabel(s)}: ${w}`));
}

export function renderCompareMarkdown(
  summaries: readonly RunSummary[],
  regressions?: readonly Regression[],
  tolerance: BaselineTolerance = DEFAULT_BASELINE_TOLERANCE,
): string {
  const sections = [`## ${compareTitle(summaries)}`, faultsLine(summaries), markdownTable(compareTable(summaries))];
  sections.push('### Latency by mode', markdownTable(compareLatencyTable(summaries)));
  const http = compareHttpTable(summaries);
  if (http !== undefined) sections.push('### HTTP front by mode', markdownTable(http));
  if (summaries.some(hasCpuPerMessage)) sections.push('### CPU per acknowledged message by mode', markdownTable(compareCpuTable(summaries)));
  if (anyFault(summaries)) sections.push('### Faults by mode', markdownTable(compareFaultTable(summaries)));
  const failures = failureLines(summaries);
  if (failures.length > 0) sections.push(['### Failures', '', ...failures.map(markdownListItem)].join('\n'));
  const warnings = warningLines(summaries);
  if (warnings.length > 0) sections.push(['### Warnings', '', ...warnings.map(markdownListItem)].join('\n'));
  if (regressions !== undefined) {
    sections.push('### Against the baseline', describeTolerance(tolerance));
    sections.push(
      regressions.length === 0
        ? 'No regressions.'
        : `**${regressions.length} regression${regressions.length === 1 ? '' : 's'}:**\n\n${markdownTable(regressionTable(regressions))}`,
    );
  }
  const first = summaries[0];
  if (first) sections.push(machineLine(first));
  return `${sections.join('\n\n')}\n`;
}

/** One curve per run of one of the summaries' histograms. */
function modesChart(summaries: readonly RunSummary[], which: 'send' | 'e2e', name: string, title: string): string {
  // With several scenarios in one compare the mode alone would be ambiguous.
  const label = scenarioNames(summaries).includes(',') ? runName : modeLabel;
  const series: ChartSeries[] = summaries.map((s) => {
    let points: { x: number; y: number }[];
    try {
      points = percentileCurve(s.histograms[which]).map((p) => ({ x: p.percentile, y: p.valueMs }));
    } catch (err) {
      throw new Error(`${runName(s)} ${which} histogram: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { name: label(s), points };
  });
  return renderLineChart({
    name,
    title,
    x: { label: 'percentile', mode: 'percentile' },
    y: { label: 'milliseconds (log scale)', scale: 'log', logFloor: CURVE_LOG_FLOOR_MS, format: formatMsTick },
    series,
  });
}

export function renderCompareHtml(
  summaries: readonly RunSummary[],
  regressions?: readonly Regression[],
  tolerance: BaselineTolerance = DEFAULT_BASELINE_TOLERANCE,
): string {
  const allPassed = summaries.length > 0 && summaries.every((s) => s.passed);
  const parts = [
    `<h1>${escapeXml(`metaq compare: ${scenarioNames(summaries)}`)}</h1>`,
    `<p class="meta">${summaries.length} runs, one per flush × replication mode, each on fresh stores.</p>`,
    verdictBanner(allPassed, failureLines(summaries), 'Compare'),
    warningsBanner(warningLines(summaries)),
    '<h2>Modes</h2>',
    `<p>${escapeXml(faultsLine(summaries))}</p>`,
    htmlTable(compareTable(summaries)),
    '<h2>Latency by mode</h2>',
    htmlTable(compareLatencyTable(summaries)),
  ];
  const http = compareHttpTable(summaries);
  if (http !== undefined) parts.push('<h2>HTTP front by mode</h2>', htmlTable(http));
  if (summaries.some(hasCpuPerMessage)) parts.push('<h2>CPU per acknowledged message by mode</h2>', htmlTable(compareCpuTable(summaries)));
  if (anyFault(summaries)) parts.push('<h2>Faults by mode</h2>', htmlTable(compareFaultTable(summaries)));
  if (regressions !== undefined) {
    parts.push('<h2>Against the baseline</h2>', `<p>${escapeXml(describeTolerance(tolerance))}</p>`);
    parts.push(
      regressions.length === 0
        ? verdictBanner(true, [], 'Baseline check')
        : `<div class="banner failed">Baseline check FAILED: ${regressions.length} regression${regressions.length === 1 ? '' : 's'}</div>\n${htmlTable(regressionTable(regressions))}`,
    );
  }
  parts.push(
    '<h2>Send latency by percentile</h2>',
    figure(
      modesChart(summaries, 'send', COMPARE_CHARTS.send, 'Send latency (intended send to SEND_OK), one curve per mode'),
      'x: log of 1/(1−percentile), as HdrHistogram plots; the last point of each curve is its maximum.',
    ),
    '<h2>End-to-end latency by percentile</h2>',
    figure(
      modesChart(summaries, 'e2e', COMPARE_CHARTS.e2e, 'End-to-end latency (intended send to reception), one curve per mode'),
      'A run that builds a backlog has end-to-end latencies of the order of the backlog’s drain time.',
    ),
  );
  const first = summaries[0];
  if (first) parts.push(`<footer>${escapeXml(machineLine(first))}</footer>`);
  return htmlPage(compareTitle(summaries), parts.join('\n'));
}
