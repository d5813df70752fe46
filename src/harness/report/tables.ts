// The content of the report tables (headline figures, latencies, phases, the
// compare rows), as rows of already formatted text. Markdown and HTML render
// the same rows, so summary.md, report.html and compare.* cannot disagree on
// a figure or on how it is rounded.
import type { FaultFigures, LatencySummaryMs, PhaseSummary, RunSummary } from '../run-result.js';
import { formatBytes, formatCount, formatDurationSec, formatMs, formatPercent, formatSeconds, modeLabel, verdict } from './format.js';

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
      ['Retried (re-sent after a failed attempt)', formatCount(m.retried)],
      [ATTEMPTS_LABEL, attemptsCell(s)],
      // Only a fault sends a consumer to a slave: a clean run need not print the zero.
      ...(faultsOf(s).length > 0 || m.fromSlave > 0 ? [['Read from a slave', formatCount(m.fromSlave)]] : []),
      ['Tickets allocated / issued', `${formatCount(t.allocated)} / ${formatCount(t.issued)}`],
      ['Tickets issued twice / never issued', `${formatCount(t.issuedTwice)} / ${formatCount(t.neverIssued)}`],
    ],
  };
}

/** The run's faults; a summary.json from before faults existed has none. */
export function faultsOf(s: RunSummary): readonly FaultFigures[] {
  return s.faults ?? [];
}

/** Every attempt's outcome, in the order of ATTEMPTS_LABEL (slashes, not words: the cell stays narrow). */
function attemptsCell(s: RunSummary): string {
  const a = s.messages.attempts;
  if (a === undefined) return '—';
  return [a.ok, a.slaveTimeout, a.slaveNotAvailable, a.otherStatus, a.error].map(formatCount).join(' / ');
}

const ATTEMPTS_LABEL = 'Send attempts: ok / SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE / other status / error or timeout';

/** When the harness carried a fault out, or that it never did (the run ended first). */
function doneAtCell(f: FaultFigures): string {
  return f.doneAtSec === null ? `not done (due ${formatSeconds(f.atSec)})` : formatSeconds(f.doneAtSec);
}

/** The per-fault figures of one run, without the run's name (the faults table of a report). */
function faultCells(f: FaultFigures): string[] {
  return [
    doneAtCell(f),
    formatSeconds(f.untilSec),
    formatCount(f.failedAttempts),
    formatCount(f.retried),
    f.recoverySec === null ? 'none' : formatDurationSec(f.recoverySec),
    formatSeconds(f.unavailableSec),
    formatCount(f.fromSlave),
    formatCount(f.duplicates),
    formatCount(f.lost),
  ];
}

const FAULT_FIGURE_HEADERS = [
  'Done at',
  'Window until',
  'Sends failed',
  'Retried',
  'Recovery (first SEND_OK)',
  'Unavailable (< ½ offered acked)',
  'Read from slave',
  'Duplicates',
  'Lost',
] as const;

/** One row per injected fault: what it hit, when, and what it cost within its window (README "Reading the report"). */
export function faultTable(s: RunSummary): Table {
  return {
    headers: ['Fault', 'Target', ...FAULT_FIGURE_HEADERS],
    numericFrom: 2,
    rows: faultsOf(s).map((f) => [f.spec, f.target, ...faultCells(f)]),
  };
}

/** "spec: note" for each fault the harness has something to say about (a restart that did not come up). */
export function faultNotes(s: RunSummary): string[] {
  return faultsOf(s).flatMap((f) => (f.note === undefined || f.note === '' ? [] : [`${f.spec}: ${f.note}`]));
}

/** The loss limit, or "no limit" when the scenario states none a number can hold. */
function limitText(limit: number): string {
  return Number.isFinite(limit) ? formatCount(limit) : 'no limit';
}

/** The run's loss against its mode's limit: "lost 0 of a limit of 0 ...", or what the scenario allows in a mode that promises less. */
export function lossLimitLine(s: RunSummary): string {
  const limit = s.lossLimit ?? 0;
  const lost = s.messages.lost;
  const mode = `${s.flush}/${s.replication}`;
  const over = lost > limit ? ': over the limit' : '';
  if (limit === 0) return `Loss: lost ${formatCount(lost)} of a limit of 0 (${mode} may lose nothing in this scenario)${over}.`;
  return (
    `Loss: lost ${formatCount(lost)} of a limit of ${limitText(limit)} ` +
    `(the scenario allows ${limitText(limit)} in ${mode}, what this mode's acknowledgement does not promise to keep)${over}.`
  );
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

/** "mode" alone, or "scenario: mode" when a compare mixes scenarios. */
function compareRowName(s: RunSummary, mixed: boolean): string {
  const mode = `${s.flush} / ${s.replication}`;
  return mixed ? `${s.scenario}: ${mode}` : mode;
}

function mixedScenarios(summaries: readonly RunSummary[]): boolean {
  return new Set(summaries.map((s) => s.scenario)).size > 1;
}

/** Lost against the mode's limit: "0 / 0", "1,234 / 5,000", "12 / 0 (over)". */
function lostCell(s: RunSummary): string {
  const limit = s.lossLimit ?? 0;
  return `${formatCount(s.messages.lost)} / ${limitText(limit)}${s.messages.lost > limit ? ' (over)' : ''}`;
}

/** The longest recovery among a run's faults ("none" when one never saw a SEND_OK again). */
function longestRecovery(s: RunSummary): string {
  const faults = faultsOf(s).filter((f) => f.doneAtSec !== null);
  if (faults.length === 0) return '—';
  if (faults.some((f) => f.recoverySec === null)) return 'none';
  return formatDurationSec(Math.max(...faults.map((f) => f.recoverySec ?? 0)));
}

/**
 * One row per run (mode) for the compare report: what each mode costs
 * (throughput, send p99) and, under faults, what it buys (recovery,
 * unavailability, loss against its limit). Narrow on purpose: the full
 * latency figures are in compareLatencyTable, the per-fault ones in
 * compareFaultTable, so that the table fits a 1,000 px page.
 */
export function compareTable(summaries: readonly RunSummary[]): Table {
  const mixed = mixedScenarios(summaries);
  const faulted = summaries.some((s) => faultsOf(s).length > 0);
  return {
    headers: [
      mixed ? 'Scenario: flush / replication' : 'Flush / replication',
      'Result',
      'Produce mean msg/s',
      'Produce peak msg/s',
      'Peak phase acked msg/s (of offered)',
      'Send p99 ms',
      'E2E p99 ms',
      'Backlog peak',
      ...(faulted ? ['Longest recovery', 'Unavailable'] : []),
      'Lost / allowed',
    ],
    numericFrom: 2,
    rows: summaries.map((s) => {
      const peak = peakPhase(s);
      return [
        compareRowName(s, mixed),
        verdict(s.passed),
        formatCount(s.throughput.produceMean),
        formatCount(s.throughput.producePeak),
        peak ? `${formatCount(peak.ackedRate)} (${ackedRatio(peak)})` : '—',
        formatMs(s.latencyMs.send.p99),
        formatMs(s.latencyMs.e2e.p99),
        formatCount(s.backlog.peak),
        ...(faulted ? [longestRecovery(s), formatSeconds(faultsOf(s).reduce((sum, f) => sum + f.unavailableSec, 0))] : []),
        lostCell(s),
      ];
    }),
  };
}

/** Send and end-to-end latency percentiles per mode, one figure per column. */
export function compareLatencyTable(summaries: readonly RunSummary[]): Table {
  const mixed = mixedScenarios(summaries);
  const pick = (l: LatencySummaryMs) => [l.p50, l.p99, l.p999, l.max].map(formatMs);
  return {
    headers: [
      mixed ? 'Scenario: flush / replication' : 'Flush / replication',
      'Send p50 ms',
      'Send p99 ms',
      'Send p99.9 ms',
      'Send max ms',
      'E2E p50 ms',
      'E2E p99 ms',
      'E2E p99.9 ms',
      'E2E max ms',
    ],
    numericFrom: 1,
    rows: summaries.map((s) => [compareRowName(s, mixed), ...pick(s.latencyMs.send), ...pick(s.latencyMs.e2e)]),
  };
}

/** Every fault of every mode, one row each (empty rows when no run had a fault). */
export function compareFaultTable(summaries: readonly RunSummary[]): Table {
  const mixed = mixedScenarios(summaries);
  return {
    headers: [mixed ? 'Scenario: flush / replication' : 'Flush / replication', 'Fault', ...FAULT_FIGURE_HEADERS],
    numericFrom: 2,
    rows: summaries.flatMap((s) => faultsOf(s).map((f) => [compareRowName(s, mixed), f.spec, ...faultCells(f)])),
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
  const groups = c.brokerGroups ?? 1;
  parts.push(`${groups} broker group${groups === 1 ? '' : 's'} (${s.replication === 'none' ? 'master only' : 'master and slave'})`);
  // Printed as configured: a fault-injection run must not pass for a clean one.
  if (c.injectDrop > 0) parts.push(`inject drop ${c.injectDrop}`);
  if ((c.injectDoubleIssue ?? 0) > 0) parts.push(`inject double issue ${c.injectDoubleIssue}`);
  if (s.brokers.length > 0) {
    parts.push(
      `brokers: ${s.brokers
        .map((b) => {
          // A broker run as a child process reports no store figures (null).
          const flushes = b.flushCycles === null ? '' : `, ${formatCount(b.flushCycles)} flush cycles`;
          const name = b.brokerName ? `${b.brokerName} ` : '';
          return `${name}${b.role} ${b.addr} (CPU ${formatPercent(b.cpuShare)} of a core${flushes})`;
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

/** µs per message with one decimal (two below 10), or a dash when unknown. */
export function formatUsPerMessage(us: number | null | undefined): string {
  if (us === null || us === undefined) return '—';
  return us < 10 ? us.toFixed(2) : us.toFixed(1);
}

/** Whether a summary carries CPU per message (runs before it was measured do not). */
export function hasCpuPerMessage(s: RunSummary): boolean {
  return s.cpu.some((c) => c.cpuUs !== undefined);
}

/** Each role's CPU: its busy share over the sale, its CPU time over the sale and the drain, and that per message. */
export function cpuTable(s: RunSummary): Table {
  return {
    headers: ['Role', 'Busy (sale)', 'CPU s (sale + drain)', 'Messages', 'CPU µs / message'],
    numericFrom: 1,
    rows: s.cpu.map((c) => [
      c.role,
      formatPercent(c.busyShare),
      c.cpuUs === null || c.cpuUs === undefined ? '—' : (c.cpuUs / 1e6).toFixed(2),
      c.messages === undefined ? '—' : formatCount(c.messages),
      formatUsPerMessage(c.usPerMessage),
    ]),
  };
}

/** "CPU per acknowledged message (sale + drain, 74.2 s): 31.5 µs, of which brokers ..., producers ..., consumers ..." ("" without it). */
export function cpuPerMessageLine(s: RunSummary): string {
  const c = s.cpuPerMessage;
  if (c === undefined) return '';
  return (
    `CPU per acknowledged message (sale + drain, ${formatSeconds(c.windowSec)}): ${formatUsPerMessage(c.all)} µs, ` +
    `of which brokers ${formatUsPerMessage(c.brokers)}, producers ${formatUsPerMessage(c.producers)}, consumers ${formatUsPerMessage(c.consumers)} ` +
    `(processes: the whole process; threads: the role's own thread, README "Reading the report")`
  );
}

/** CPU per acknowledged message of each run (all roles and by kind), for the compare page. */
export function compareCpuTable(summaries: readonly RunSummary[]): Table {
  const mixed = mixedScenarios(summaries);
  return {
    headers: [mixed ? 'Scenario: flush / replication' : 'Flush / replication', 'Isolation', 'All µs/msg', 'Brokers', 'Producers', 'Consumers'],
    numericFrom: 2,
    rows: summaries.map((s) => {
      const c = s.cpuPerMessage;
      return [compareRowName(s, mixed), s.isolation, ...[c?.all, c?.brokers, c?.producers, c?.consumers].map(formatUsPerMessage)];
    }),
  };
}

/** "Started ... · producing 60 s, elapsed 75.3 s ..." under the title. */
export function runLine(s: RunSummary): string {
  return (
    `Started ${s.startedAt} · producing ${formatSeconds(s.durationSec)}, elapsed ${formatSeconds(s.elapsedSec)} ` +
    `(drain included) · target ${rate(s.targetRate)} · ${faultsLabel(s)}`
  );
}

/** "no fault injected", or the faults as given on the command line. */
function faultsLabel(s: RunSummary): string {
  const faults = faultsOf(s);
  return faults.length === 0 ? 'no fault injected' : `faults: ${faults.map((f) => f.spec).join(', ')}`;
}

/** The report's title: scenario, mode and verdict. */
export function runTitle(s: RunSummary): string {
  return `metaq ${s.scenario}: ${modeLabel(s)}: ${verdict(s.passed)}`;
}

/** HTTP runs: the users' side, beside the broker's (README "The HTTP front"). */
export function httpTable(s: RunSummary): Table | undefined {
  const h = s.http;
  if (h === undefined) return undefined;
  const perSec = (n: number): string => `${formatCount(n)} /s`;
  return {
    headers: ['HTTP front', 'Value'],
    numericFrom: 1,
    rows: [
      ['Users (autocannon)', h.label],
      ['Claims offered / sent / answered', `${formatCount(h.claims.offered)} / ${formatCount(h.claims.sent)} / ${formatCount(h.claims.answered)}`],
      ['Rate offered / achieved', `${perSec(h.ratePerSec.offered)} / ${perSec(h.ratePerSec.achieved)}`],
      ['Achieved below offered by', formatPercent(h.shortfall)],
      ['Answered 200 / 503 / other', `${formatCount(h.status.ok)} / ${formatCount(h.status.unavailable)} / ${formatCount(h.status.other)}`],
      ['Per second 200 / 503 / other', `${perSec(h.ratePerSec.ok)} / ${perSec(h.ratePerSec.unavailable)} / ${perSec(h.ratePerSec.other)}`],
      ['503 share', formatPercent(h.unavailableShare)],
      ['Timeouts / connection errors', `${formatCount(h.timeouts)} / ${formatCount(h.errors)}`],
      ['Requests without a claim (GET /healthz)', formatCount(h.nonClaimRequests)],
      ['autocannon threads / service workers', `${formatCount(h.threads)} / ${formatCount(h.serviceWorkers)}`],
    ],
  };
}

/** HTTP runs: response times, as the histogram merged from autocannon's threads holds them and as autocannon itself summed them up. */
export function httpLatencyTable(s: RunSummary): Table | undefined {
  const h = s.http;
  if (h === undefined) return undefined;
  const a = h.autocannonMs;
  return {
    headers: ['HTTP response (ms)', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'count'],
    numericFrom: 1,
    rows: [
      latencyRow(`Response (${h.label})`, h.responseMs),
      ['autocannon’s own summary (1 ms buckets)', formatMs(a.p50), formatMs(a.p90), formatMs(a.p99), formatMs(a.p999), formatMs(a.max), formatMs(a.mean), formatCount(h.responseMs.count)],
    ],
  };
}

/** HTTP runs: the users' side per mode (what each mode costs the user waiting on the service); undefined when no run had the HTTP front. */
export function compareHttpTable(summaries: readonly RunSummary[]): Table | undefined {
  if (!summaries.some((s) => s.http !== undefined)) return undefined;
  const mixed = mixedScenarios(summaries);
  return {
    headers: [mixed ? 'Scenario: flush / replication' : 'Flush / replication', 'Users', 'Achieved / offered /s', '200 /s', '503 share', 'Timeouts', 'Response p50 ms', 'Response p99 ms', 'Response max ms'],
    numericFrom: 2,
    rows: summaries.map((s) => {
      const h = s.http;
      if (h === undefined) return [compareRowName(s, mixed), '—', '—', '—', '—', '—', '—', '—', '—'];
      return [
        compareRowName(s, mixed),
        h.label,
        `${formatCount(h.ratePerSec.achieved)} / ${formatCount(h.ratePerSec.offered)}`,
        formatCount(h.ratePerSec.ok),
        formatPercent(h.unavailableShare),
        formatCount(h.timeouts),
        formatMs(h.responseMs.p50),
        formatMs(h.responseMs.p99),
        formatMs(h.responseMs.max),
      ];
    }),
  };
}
