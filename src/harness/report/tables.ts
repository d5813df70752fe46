// The content of the report tables (headline figures, latencies, phases, the
// compare rows), as rows of already formatted text. Markdown and HTML render
// the same rows, so summary.md, report.html and compare.* cannot disagree on
// a figure or on how it is rounded.
import type { LatencySummaryMs, PhaseSummary, RunSummary } from '../run-result.js';
import { formatBytes, formatCount, formatMs, formatPercent, formatSeconds, modeLabel, verdict } from './format.js';

export interface Table {
  headers: readonly string[];
  rows: readonly (readonly string[])[];
  /** Columns from this index on hold numbers (right-aligned). */
  numericFrom: number;
}

const RATE_UNIT = 'msg/s';

function rate(n: number): string {
  return `${formatCount(n)} ${RATE_UNIT}`;
}

/** Throughput, backlog, message accounting and tickets: one figure per row. */
export function headlineTable(s: RunSummary): Table {
  const m = s.messages;
  const t = s.tickets;
  return {
    headers: ['Figure', 'Value'],
    numericFrom: 1,
    rows: [
      ['Produce mean (acked, producing phases)', rate(s.throughput.produceMean)],
      ['Produce peak (best 1 s window)', rate(s.throughput.producePeak)],
      ['Consume mean (first to last reception)', rate(s.throughput.consumeMean)],
      ['Backlog peak', `${formatCount(s.backlog.peak)} at ${formatSeconds(s.backlog.peakAtSec)}`],
      ['Attempted', formatCount(m.attempted)],
      ['Acked (SEND_OK)', formatCount(m.acked)],
      ['Consumed (distinct)', formatCount(m.consumed)],
      ['Lost (acked, never consumed)', formatCount(m.lost)],
      ['Duplicates', formatCount(m.duplicates)],
      ['Received but not acked', formatCount(m.unackedReceived)],
      ['Failed sends', formatCount(m.failed)],
      ['Tickets allocated / issued', `${formatCount(t.allocated)} / ${formatCount(t.issued)}`],
      ['Tickets issued twice / never issued', `${formatCount(t.issuedTwice)} / ${formatCount(t.neverIssued)}`],
    ],
  };
}

function latencyRow(label: string, l: LatencySummaryMs): string[] {
  return [label, ...[l.p50, l.p90, l.p99, l.p999, l.max, l.mean].map(formatMs), formatCount(l.count)];
}

/** Send, end-to-end and generator-lag distributions over the whole run. */
export function latencyTable(s: RunSummary): Table {
  return {
    headers: ['Latency (ms)', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'count'],
    numericFrom: 1,
    rows: [
      latencyRow('Send (intended send to SEND_OK)', s.latencyMs.send),
      latencyRow('End to end (intended send to reception)', s.latencyMs.e2e),
      latencyRow('Generator lag (tick behind schedule)', s.latencyMs.generatorLag),
    ],
  };
}

/** Acked rate against offered, or a dash for the drain (nothing offered). */
function ackedRatio(p: PhaseSummary): string {
  return p.offeredRate > 0 ? formatPercent(p.ackedRate / p.offeredRate) : '—';
}

export function phaseTable(s: RunSummary): Table {
  return {
    headers: [
      'Phase',
      'Start',
      'Duration',
      'Offered msg/s',
      'Acked msg/s',
      'Acked / offered',
      'Consumed msg/s',
      'Send p99 ms',
      'E2E p99 ms',
      'Backlog at end',
    ],
    numericFrom: 1,
    rows: s.phases.map((p) => [
      p.name,
      formatSeconds(p.startSec),
      formatSeconds(p.durationSec),
      formatCount(p.offeredRate),
      formatCount(p.ackedRate),
      ackedRatio(p),
      formatCount(p.consumedRate),
      formatMs(p.sendP99Ms),
      formatMs(p.e2eP99Ms),
      formatCount(p.backlogAtEnd),
    ]),
  };
}

/** The phase with the highest offered rate: where a mode shows whether it keeps up. */
export function peakPhase(s: RunSummary): PhaseSummary | undefined {
  let best: PhaseSummary | undefined;
  for (const p of s.phases) if (p.offeredRate > 0 && (!best || p.offeredRate > best.offeredRate)) best = p;
  return best;
}

function latencyCell(l: LatencySummaryMs): string {
  return [l.p50, l.p99, l.p999, l.max].map(formatMs).join(' / ');
}

/** One row per run (mode) for the compare report. */
export function compareTable(summaries: readonly RunSummary[]): Table {
  // The scenario is in the title; repeat it per row only when the runs mix scenarios.
  const mixed = new Set(summaries.map((s) => s.scenario)).size > 1;
  return {
    headers: [
      mixed ? 'Scenario: flush / replication' : 'Flush / replication',
      'Result',
      'Produce mean msg/s',
      'Produce peak msg/s',
      'Peak phase acked / offered msg/s',
      'Send ms p50 / p99 / p99.9 / max',
      'E2E ms p50 / p99 / p99.9 / max',
      'Backlog peak',
      'Lost',
    ],
    numericFrom: 2,
    rows: summaries.map((s) => {
      const peak = peakPhase(s);
      const mode = `${s.flush} / ${s.replication}`;
      return [
        mixed ? `${s.scenario}: ${mode}` : mode,
        verdict(s.passed),
        formatCount(s.throughput.produceMean),
        formatCount(s.throughput.producePeak),
        peak ? `${formatCount(peak.ackedRate)} / ${formatCount(peak.offeredRate)} (${ackedRatio(peak)})` : '—',
        latencyCell(s.latencyMs.send),
        latencyCell(s.latencyMs.e2e),
        formatCount(s.backlog.peak),
        formatCount(s.messages.lost),
      ];
    }),
  };
}

/** Where the run ran and with what: the line under every report. */
export function machineLine(s: RunSummary): string {
  const m = s.machine;
  const c = s.config;
  const parts = [
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`,
    `${c.queues} queues, ${formatBytes(c.bodySize)} bodies, ${c.producers} producer and ${c.consumers} consumer workers ` +
      `(consumer capacity ${rate(c.consumerCapacityPerSec)}), segment ${formatBytes(c.segmentSize)}, isolation ${s.isolation}`,
  ];
  // Printed as configured: a fault-injection run must not pass for a clean one.
  if (c.injectDrop > 0) parts.push(`inject drop ${c.injectDrop}`);
  if (s.brokers.length > 0) {
    parts.push(
      `brokers: ${s.brokers
        .map((b) => {
          // A broker run as a child process reports no store figures (null).
          const flushes = b.flushCycles === null ? '' : `, ${formatCount(b.flushCycles)} flush cycles`;
          return `${b.role} ${b.addr} (CPU ${formatPercent(b.cpuShare)} of a core${flushes})`;
        })
        .join(', ')}`,
    );
  } else if (c.brokerAddrs.length > 0) {
    parts.push(`brokers: ${c.brokerAddrs.join(', ')}`);
  }
  return parts.join(' · ');
}

/** How busy each thread or process of the run was ("" when the harness recorded none): a saturated role shows here. */
export function cpuLine(s: RunSummary): string {
  if (s.cpu.length === 0) return '';
  return `Busy during the sale (run start to the last answer), as a share of one core: ${s.cpu.map((c) => `${c.role} ${formatPercent(c.busyShare)}`).join(', ')}`;
}

/** "Started ... · producing 60 s, elapsed 75.3 s ..." under the title. */
export function runLine(s: RunSummary): string {
  return (
    `Started ${s.startedAt} · producing ${formatSeconds(s.durationSec)}, elapsed ${formatSeconds(s.elapsedSec)} ` +
    `(drain included) · target ${rate(s.targetRate)}`
  );
}

/** The report's title: scenario, mode and verdict. */
export function runTitle(s: RunSummary): string {
  return `metaq ${s.scenario}: ${modeLabel(s)}: ${verdict(s.passed)}`;
}
