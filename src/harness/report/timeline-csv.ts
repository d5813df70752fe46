// timeline.csv: one row per second of the run (README, "Reading the report": time,
// phase, produced, consumed, backlog, send p99, e2e p99, then the fault
// columns retried, duplicates, from_slave), for spreadsheets and for
// re-plotting a run without re-running it.
import type { TimelineRow } from '../run-result.js';

/** The columns added for faults come last, so that a reader of the older columns by position still reads them right. */
export const TIMELINE_CSV_HEADER =
  'time,phase,offered,produced,failed,consumed,backlog,send_p99_ms,e2e_p99_ms,generator_lag_p99_ms,retried,duplicates,from_slave';

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

/** The CSV text, header first, rows in the order given (the coordinator's are by second), "\n" line ends. */
export function renderTimelineCsv(rows: readonly TimelineRow[]): string {
  const lines = [TIMELINE_CSV_HEADER];
  for (const r of rows) {
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
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
