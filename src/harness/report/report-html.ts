// report.html: one run on one self-contained page (opens offline, no script):
// the verdict, the headline and phase tables, throughput and backlog over
// time, p99 latencies over time, the latency-by-percentile curves, and the
// system's seconds (CPU per role, the brokers' fdatasyncs, GC, memory and
// slave lag) with the CPU per message of each role.
import type { RunResult, RunSummary, TimelineRow } from '../run-result.js';
import { formatMs, formatMsTick, formatSeconds, modeLabel } from './format.js';
import { percentileCurve } from './hgrm.js';
import { figure, htmlPage, htmlTable, verdictBanner, warningsBanner } from './html-page.js';
import { escapeXml, renderLineChart, type ChartMarker, type ChartSeries } from './svg-chart.js';
import { systemCharts } from './system-charts.js';
import {
  cpuLine,
  cpuPerMessageLine,
  cpuTable,
  hasCpuPerMessage,
  faultNotes,
  faultsOf,
  faultTable,
  headlineTable,
  httpLatencyTable,
  httpTable,
  latencyTable,
  lossLimitLine,
  machineLine,
  phaseTable,
  runLine,
  runTitle,
} from './tables.js';

/** Names on the charts' <svg data-chart="...">, for the render check and tests. */
export const RUN_CHARTS = {
  throughput: 'throughput',
  p99OverTime: 'p99-over-time',
  percentiles: 'latency-percentiles',
  http: 'http-over-time',
  httpPercentiles: 'http-percentiles',
} as const;

/** Latencies below 10 µs sit on the p99-over-time chart's floor: finer is below what the generator can time. */
const P99_LOG_FLOOR_MS = 0.01;
/** The percentile curves start lower: a fast send's p0 can be a few µs. */
const CURVE_LOG_FLOOR_MS = 0.001;
/** A per-second rate describes the middle of its second; the backlog is taken at its end. */
const RATE_X_OFFSET_SEC = 0.5;
const BACKLOG_X_OFFSET_SEC = 1;

/** Phase boundaries: the summary's phases, plus any phase only the timeline names (the drain, if the summary leaves it out). */
export function phaseMarkers(summary: RunSummary, timeline: readonly TimelineRow[]): ChartMarker[] {
  const markers: ChartMarker[] = summary.phases.map((p) => ({ x: p.startSec, label: p.name }));
  const known = new Set(summary.phases.map((p) => p.name));
  let previous: string | undefined;
  for (const row of timeline) {
    if (row.phase !== previous && !known.has(row.phase)) {
      markers.push({ x: row.second, label: row.phase });
      known.add(row.phase);
    }
    previous = row.phase;
  }
  return markers;
}

/** One marker per fault the harness carried out, at the second it was done, named by its spec. */
export function faultMarkers(summary: RunSummary): ChartMarker[] {
  return faultsOf(summary).flatMap((f) =>
    f.doneAtSec === null
      ? []
      : [{ x: f.doneAtSec, label: f.spec, kind: 'fault' as const, detail: `${f.spec}: ${f.target}, done at ${formatSeconds(f.doneAtSec)}` }],
  );
}

/** Whether the throughput chart shows failed attempts and re-sends: a run with a fault, or with any failure, not a clean one. */
function showsFailures(result: RunResult): boolean {
  return faultsOf(result.summary).length > 0 || result.timeline.some((r) => r.failed > 0 || r.retried > 0);
}

/** The time axis runs from 0 to the end of the run (the last timeline second or the elapsed time, whichever is later). */
function timeDomainEnd(summary: RunSummary, timeline: readonly TimelineRow[]): number {
  const last = timeline.length > 0 ? (timeline[timeline.length - 1]?.second ?? 0) + 1 : 0;
  return Math.max(last, summary.elapsedSec, 1);
}

function throughputChart(result: RunResult, markers: readonly ChartMarker[]): string {
  const { summary, timeline } = result;
  const at = (pick: (r: TimelineRow) => number, offset = RATE_X_OFFSET_SEC) =>
    timeline.map((r) => ({ x: r.second + offset, y: pick(r) }));
  const series: ChartSeries[] = [
    { name: 'offered msg/s', points: at((r) => r.offered) },
    { name: 'produced (acked) msg/s', points: at((r) => r.produced) },
    { name: 'consumed msg/s', points: at((r) => r.consumed) },
    { name: 'backlog (messages)', points: at((r) => r.backlog, BACKLOG_X_OFFSET_SEC), axis: 'right', dashed: true },
  ];
  if (showsFailures(result)) {
    series.push(
      { name: 'failed attempts msg/s', points: at((r) => r.failed) },
      { name: 're-sent msg/s', points: at((r) => r.retried) },
    );
  }
  return renderLineChart({
    name: RUN_CHARTS.throughput,
    title: 'Throughput per second and backlog',
    x: { label: 'time since start (s)', min: 0, max: timeDomainEnd(summary, timeline) },
    y: { label: 'messages per second', integer: true },
    y2: { label: 'backlog (acked − consumed)', integer: true },
    series,
    markers,
  });
}

function p99Chart(result: RunResult, markers: readonly ChartMarker[]): string {
  const { summary, timeline } = result;
  // A p99 of 0 means no sample in that second (nothing sent during the drain): a gap, not a point on the floor.
  const at = (pick: (r: TimelineRow) => number) =>
    timeline.map((r) => ({ x: r.second + RATE_X_OFFSET_SEC, y: pick(r) > 0 ? pick(r) : Number.NaN }));
  return renderLineChart({
    name: RUN_CHARTS.p99OverTime,
    title: 'p99 latency per second',
    x: { label: 'time since start (s)', min: 0, max: timeDomainEnd(summary, timeline) },
    y: { label: 'milliseconds (log scale)', scale: 'log', logFloor: P99_LOG_FLOOR_MS, format: formatMsTick },
    series: [
      { name: 'send p99', points: at((r) => r.sendP99Ms) },
      { name: 'end-to-end p99', points: at((r) => r.e2eP99Ms) },
      { name: 'generator lag p99', points: at((r) => r.generatorLagP99Ms) },
    ],
    markers,
  });
}

/** The percentile curve of one of the run's histograms, with the histogram's name on a decoding error. */
function curve(name: string, histogramBase64: string): { x: number; y: number }[] {
  try {
    return percentileCurve(histogramBase64).map((p) => ({ x: p.percentile, y: p.valueMs }));
  } catch (err) {
    throw new Error(`${name} histogram: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function percentileChart(summary: RunSummary): string {
  const h = summary.histograms;
  return renderLineChart({
    name: RUN_CHARTS.percentiles,
    title: 'Latency by percentile (whole run)',
    x: { label: 'percentile', mode: 'percentile' },
    y: { label: 'milliseconds (log scale)', scale: 'log', logFloor: CURVE_LOG_FLOOR_MS, format: formatMsTick },
    series: [
      { name: 'send', points: curve('send', h.send) },
      { name: 'end to end', points: curve('e2e', h.e2e) },
      { name: 'generator lag', points: curve('generatorLag', h.generatorLag) },
    ],
  });
}

/** HTTP runs: claims answered per second by status against the offered rate, and each second's response p99 (right axis). */
function httpChart(result: RunResult, markers: readonly ChartMarker[]): string {
  const { summary, timeline } = result;
  const at = (pick: (r: TimelineRow) => number) => timeline.map((r) => ({ x: r.second + RATE_X_OFFSET_SEC, y: pick(r) }));
  const p99 = timeline.map((r) => ({ x: r.second + RATE_X_OFFSET_SEC, y: (r.http?.responseP99Ms ?? 0) > 0 ? r.http!.responseP99Ms : Number.NaN }));
  return renderLineChart({
    name: RUN_CHARTS.http,
    title: 'HTTP: claims per second by status, and response p99',
    x: { label: 'time since start (s)', min: 0, max: timeDomainEnd(summary, timeline) },
    y: { label: 'claims per second', integer: true },
    y2: { label: 'response p99 (ms)', format: formatMsTick },
    series: [
      { name: 'offered claims/s', points: at((r) => r.offered) },
      { name: '200/s', points: at((r) => r.http?.ok ?? 0) },
      { name: '503/s', points: at((r) => r.http?.unavailable ?? 0) },
      { name: 'other status/s', points: at((r) => r.http?.other ?? 0) },
      { name: 'timeouts/s', points: at((r) => r.http?.timeouts ?? 0) },
      { name: 'response p99 (ms)', points: p99, axis: 'right', dashed: true },
    ],
    markers,
  });
}

function httpSection(result: RunResult, markers: readonly ChartMarker[]): string {
  const s = result.summary;
  const table = httpTable(s);
  const latency = httpLatencyTable(s);
  if (s.http === undefined || table === undefined || latency === undefined) return '';
  const percentiles = renderLineChart({
    name: RUN_CHARTS.httpPercentiles,
    title: 'HTTP response time by percentile (whole run)',
    x: { label: 'percentile', mode: 'percentile' },
    y: { label: 'milliseconds (log scale)', scale: 'log', logFloor: CURVE_LOG_FLOOR_MS, format: formatMsTick },
    series: [{ name: 'response', points: curve('http', s.http.histogram) }],
  });
  return [
    '<h2>HTTP front</h2>',
    htmlTable(table),
    htmlTable(latency),
    '<p class="meta">autocannon is closed loop: each of the ' +
      `${s.http.connections} connections (users) sends its next claim only after the answer to the one before, so its response times are what those users waited, ` +
      'not what users arriving on the curve would have; its per-second quotas send in bursts; coordinated-omission correction is off. ' +
      'The claim-level latencies above (intended time to 200, to consumption) keep the open-loop view. Full table: http.hgrm.</p>',
    figure(httpChart(result, markers), 'Offered is the curve; 200, 503 and other count the claims answered in each second; the dashed line is each second’s response p99 (right axis).'),
    figure(percentiles, 'HdrHistogram percentile distribution of autocannon’s response times, merged from its threads.'),
  ].join('\n');
}

/** The faults table with its notes, or nothing for a run without faults (the meta line says "no fault injected"). */
function faultSection(summary: RunSummary): string {
  if (faultsOf(summary).length === 0) return '';
  const notes = faultNotes(summary);
  return [
    '<h2>Faults</h2>',
    htmlTable(faultTable(summary)),
    notes.length > 0 ? `<ul>${notes.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>` : '',
    '<p class="meta">Each fault’s figures cover its window: from when it was done to the next fault (or the end of the drain). ' +
      'Recovery: from the fault to the first SEND_OK of a send attempted after it. ' +
      'Unavailable: seconds in which less than half the offered rate was acknowledged.</p>',
  ].join('\n');
}

/** The system's charts with their captions ('' when the run has no per-second system figures). */
function systemSection(result: RunResult, markers: readonly ChartMarker[]): string {
  // Faults as plain (grey, dashed) named lines here: a killed broker's own lines drop right across its fault's line,
  // which would hide most of a crimson one; the crimson lines are on the charts above, on the same time axis.
  const plain = markers.map((m) => ({ x: m.x, label: m.label, ...(m.detail !== undefined ? { detail: m.detail } : {}) }));
  const charts = systemCharts(result.timeline, { xMax: timeDomainEnd(result.summary, result.timeline), markers: plain });
  const parts: string[] = [];
  if (charts.cpu !== undefined) {
    parts.push(
      figure(
        charts.cpu,
        'Each role’s CPU time in each second (utime + stime from /proc): a broker process’s whole process; a role in a thread, its own thread ' +
          `(not the libuv pool where fdatasync runs, nor V8’s helper threads). 100% is one core. Dashed verticals: phases and faults.`,
      ),
    );
  }
  if (charts.fsync !== undefined) {
    parts.push(
      figure(
        charts.fsync,
        'Each broker’s CommitLog fdatasync cycles in each second: the p99 of their duration (the upper bound of its latency bucket) and, dashed on the right axis, ' +
          'the mean bytes each made durable (the group commit’s size). A gap: the broker did not answer that second, or ran no cycle.',
      ),
    );
  }
  if (charts.memory !== undefined) {
    parts.push(
      figure(
        charts.memory,
        'GC pause in each broker’s isolate (ms within each second); dashed on the right axis, a master’s slave lag (bytes behind) and each broker’s RSS ' +
          '(a broker in a thread shares the harness’s process and its RSS).',
      ),
    );
  }
  if (charts.lag !== undefined) {
    parts.push(
      figure(
        charts.lag,
        'Consumer lag as each broker reports it (BROKER_STATS, the figures of `metaq stats` and /metrics): the age of its worst consumer group’s oldest ' +
          'unconsumed message, and dashed on the right axis the messages past the groups’ committed offsets (committed, so it runs ahead of the backlog above by what is in flight).',
      ),
    );
  }
  return parts.length === 0 ? '' : ['<h2>Inside the system, second by second</h2>', ...parts].join('\n');
}

export function renderRunHtml(result: RunResult): string {
  const { summary, timeline } = result;
  const markers = [...phaseMarkers(summary, timeline), ...faultMarkers(summary)];
  const faultNote = faultsOf(summary).length > 0 ? ' Solid crimson verticals: faults, named as given to --fault.' : '';
  const body = [
    `<h1>metaq ${escapeXml(summary.scenario)}: ${escapeXml(modeLabel(summary))}</h1>`,
    `<p class="meta">${escapeXml(runLine(summary))}</p>`,
    verdictBanner(summary.passed, summary.failures),
    warningsBanner(summary.warnings),
    '<h2>Headline</h2>',
    htmlTable(headlineTable(summary)),
    faultsOf(summary).length > 0 || (summary.lossLimit ?? 0) !== 0 ? `<p>${escapeXml(lossLimitLine(summary))}</p>` : '',
    htmlTable(latencyTable(summary)),
    faultSection(summary),
    '<h2>Phases</h2>',
    summary.phases.length > 0 ? htmlTable(phaseTable(summary)) : '<p>No phases recorded.</p>',
    '<h2>Throughput</h2>',
    figure(
      throughputChart(result, markers),
      'Offered is the schedule (open loop); produced counts SEND_OK acknowledgements received in each second; ' +
        'backlog (dashed, right axis) is acknowledged minus consumed at the end of each second' +
        (showsFailures(result) ? '; failed attempts and re-sent count messages (a message re-sent twice counts twice)' : '') +
        `. Dashed verticals: phase starts.${faultNote}`,
    ),
    '<h2>Latency over time</h2>',
    figure(
      p99Chart(result, markers),
      'Each second’s p99, measured from the intended send time (a stalled broker shows as latency, not as a lower offered rate). ' +
        `Values under ${formatMs(P99_LOG_FLOOR_MS)} ms are drawn on the floor; seconds without a sample are left blank.${faultNote}`,
    ),
    '<h2>Latency percentiles</h2>',
    figure(
      percentileChart(summary),
      'HdrHistogram percentile distribution of the whole run (x: log of 1/(1−percentile)); the last point of each curve is its maximum. ' +
        'Full tables: send.hgrm and e2e.hgrm.',
    ),
    httpSection(result, markers),
    systemSection(result, markers),
    hasCpuPerMessage(summary) ? `<h2>CPU per role</h2>\n${htmlTable(cpuTable(summary))}\n<p>${escapeXml(cpuPerMessageLine(summary))}</p>` : '',
    summary.cpu.length > 0 ? `<p class="meta">${escapeXml(cpuLine(summary))}</p>` : '',
    `<footer>${escapeXml(machineLine(summary))}</footer>`,
  ].join('\n');
  return htmlPage(runTitle(summary), body);
}
