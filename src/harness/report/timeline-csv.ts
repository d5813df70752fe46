// timeline.csv: one row per second of the run (README, "Reading the report": time,
// phase, produced, consumed, backlog, send p99, e2e p99, then the fault
// columns retried, duplicates, from_slave, then the system's columns: each
// role's CPU and each broker's fdatasync, GC, slave lag, RSS and consumer lag
// figures, then in HTTP runs the HTTP front's: answers by status, timeouts,
// errors, response p99),
// for spreadsheets and for re-plotting a run without re-running it.
import type { BrokerSecond, HttpSecond, TimelineRow } from '../run-result.js';

/** The columns added for faults come last, so that a reader of the older columns by position still reads them right. */
export const TIMELINE_CSV_HEADER =
  'time,phase,offered,produced,failed,consumed,backlog,send_p99_ms,e2e_p99_ms,generator_lag_p99_ms,retried,duplicates,from_slave';

/** Each broker's columns, after its role name ('master_fsync_p99_ms'), and the field each shows. */
export const BROKER_CSV_COLUMNS: readonly (readonly [string, keyof BrokerSecond])[] = [
  ['fsyncs', 'fsyncs'],
  ['fsync_p99_ms', 'fsyncP99Ms'],
  ['commit_group_bytes', 'commitGroupBytes'],
  ['slave_lag_bytes', 'slaveLagBytes'],
  ['gc_ms', 'gcMs'],
  ['rss_mb', 'rssMb'],
  // The broker's own consumer lag (monitor block): last, so that older columns keep their positions.
  ['lag_sec', 'lagSec'],
  ['lag_msgs', 'lagMessages'],
  ['in_msgs_s', 'inPerSec'],
  ['out_msgs_s', 'outPerSec'],
];

/** The HTTP front's columns (HTTP runs only, last), and the field each shows. */
export const HTTP_CSV_COLUMNS: readonly (readonly [string, keyof HttpSecond])[] = [
  ['http_2xx', 'ok'],
  ['http_503', 'unavailable'],
  ['http_other', 'other'],
  ['http_timeouts', 'timeouts'],
  ['http_errors', 'errors'],
  ['http_response_p99_ms', 'responseP99Ms'],
];

/** Shares of a core keep 3 decimals (0.1%). */
const SHARE_DECIMALS = 3;

/** The roles with a CPU figure and the brokers with stats, in the order the rows first name them. */
export function systemRoles(rows: readonly TimelineRow[]): { cpu: string[]; brokers: string[] } {
  const cpu = new Set<string>();
  const brokers = new Set<string>();
  for (const r of rows) {
    for (const role of Object.keys(r.cpu ?? {})) cpu.add(role);
    for (const role of Object.keys(r.brokers ?? {})) brokers.add(role);
  }
  return { cpu: [...cpu], brokers: [...brokers] };
}

/** A role name as a column name: 'slave broker-b' -> 'slave_broker-b'. */
function columnName(role: string): string {
  return role.replace(/[\s,"]+/g, '_');
}

/** Milliseconds keep microsecond resolution, the histograms' own. */
const MS_DECIMALS = 3;

/** RFC 4180 quoting: a phase name is free text from a scenario file. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Plain decimal without trailing zeros ("1.5", not "1.500"); counts stay integers. */
function csvNumber(n: number, decimals = 0): string {
  if (!Number.isFinite(n)) return '';
  return String(Number(n.toFixed(decimals)));
}

/** A figure that may be missing (an empty cell). */
function optional(n: number | null | undefined, decimals = 0): string {
  return n === null || n === undefined ? '' : csvNumber(n, decimals);
}

/**
 * The CSV text, header first, rows in the order given (the coordinator's are
 * by second), "\n" line ends. The system's columns follow the fixed ones:
 * `cpu_<role>` per role, then per broker its BROKER_CSV_COLUMNS; a second
 * without the figure (a broker down) has an empty cell.
 */
export function renderTimelineCsv(rows: readonly TimelineRow[]): string {
  const roles = systemRoles(rows);
  const header = [
    TIMELINE_CSV_HEADER,
    ...roles.cpu.map((r) => `cpu_${columnName(r)}`),
    ...roles.brokers.flatMap((r) => BROKER_CSV_COLUMNS.map(([c]) => `${columnName(r)}_${c}`)),
  ];
  const http = rows.some((r) => r.http !== undefined);
  if (http) header.push(...HTTP_CSV_COLUMNS.map(([c]) => c));
  const lines = [header.join(',')];
  for (const r of rows) {
    const system = [
      ...roles.cpu.map((role) => optional(r.cpu?.[role], SHARE_DECIMALS)),
      ...roles.brokers.flatMap((role) => BROKER_CSV_COLUMNS.map(([, field]) => optional(r.brokers?.[role]?.[field], MS_DECIMALS))),
      ...(http ? HTTP_CSV_COLUMNS.map(([, field]) => optional(r.http?.[field], MS_DECIMALS)) : []),
    ];
    lines.push(
      [
        csvNumber(r.second),
        csvField(r.phase),
        csvNumber(r.offered),
        csvNumber(r.produced),
        csvNumber(r.failed),
        csvNumber(r.consumed),
        csvNumber(r.backlog),
        csvNumber(r.sendP99Ms, MS_DECIMALS),
        csvNumber(r.e2eP99Ms, MS_DECIMALS),
        csvNumber(r.generatorLagP99Ms, MS_DECIMALS),
        csvNumber(r.retried),
        csvNumber(r.duplicates),
        csvNumber(r.fromSlave),
        ...system,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
