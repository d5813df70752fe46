// Writing a run's --out directory (README, "Reading the report"), reading a
// run's summary back (for compare and baselines), and writing the compare
// report.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult, RunSummary } from '../run-result.js';
import { DEFAULT_BASELINE_TOLERANCE, renderCompareHtml, renderCompareMarkdown, type BaselineTolerance, type Regression } from './compare.js';
import { renderHgrm } from './hgrm.js';
import { renderRunHtml } from './report-html.js';
import { renderSummaryMarkdown } from './summary-md.js';
import { renderTimelineCsv } from './timeline-csv.js';

/** The files of a run's output directory. */
export const RUN_FILES = {
  summaryJson: 'summary.json',
  summaryMd: 'summary.md',
  sendHgrm: 'send.hgrm',
  e2eHgrm: 'e2e.hgrm',
  timelineCsv: 'timeline.csv',
  reportHtml: 'report.html',
} as const;

/** The files only an HTTP run's directory has, beside RUN_FILES. */
export const HTTP_RUN_FILES = { httpHgrm: 'http.hgrm' } as const;

export const COMPARE_FILES = { markdown: 'compare.md', html: 'compare.html' } as const;

/** Renders one file's content; a failure names the file, so that a bad histogram is not a mystery. */
function render(file: string, make: () => string): string {
  try {
    return make();
  } catch (err) {
    throw new Error(`cannot render ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Writes summary.json, summary.md, send.hgrm, e2e.hgrm, timeline.csv and
 * report.html (and http.hgrm in HTTP runs) into `dir` (created if needed). summary.json is written first
 * and alone: it is what decides and records the run, so a rendering bug in
 * another file must not cost it.
 */
export async function writeRunReport(dir: string, result: RunResult): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { summary, timeline } = result;
  await writeFile(path.join(dir, RUN_FILES.summaryJson), `${JSON.stringify(summary, null, 2)}\n`);
  const files: [string, string][] = [
    [RUN_FILES.summaryMd, render(RUN_FILES.summaryMd, () => renderSummaryMarkdown(summary))],
    [RUN_FILES.sendHgrm, render(RUN_FILES.sendHgrm, () => renderHgrm(summary.histograms.send))],
    [RUN_FILES.e2eHgrm, render(RUN_FILES.e2eHgrm, () => renderHgrm(summary.histograms.e2e))],
    [RUN_FILES.timelineCsv, render(RUN_FILES.timelineCsv, () => renderTimelineCsv(timeline))],
    [RUN_FILES.reportHtml, render(RUN_FILES.reportHtml, () => renderRunHtml(result))],
  ];
  const http = summary.http;
  if (http !== undefined) files.push([HTTP_RUN_FILES.httpHgrm, render(HTTP_RUN_FILES.httpHgrm, () => renderHgrm(http.histogram))]);
  await Promise.all(files.map(([name, content]) => writeFile(path.join(dir, name), content)));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The fields compare and the baseline check read; a summary.json from an
 * older or foreign harness fails here with the field's name rather than
 * later with "cannot read properties of undefined".
 */
const REQUIRED_FIELDS: readonly (readonly string[])[] = [
  ['scenario'],
  ['flush'],
  ['replication'],
  ['passed'],
  ['failures'],
  ['messages', 'lost'],
  ['throughput', 'produceMean'],
  ['throughput', 'producePeak'],
  ['latencyMs', 'send', 'p99'],
  ['latencyMs', 'e2e', 'p99'],
  ['backlog', 'peak'],
  ['phases'],
  ['histograms', 'send'],
  ['histograms', 'e2e'],
];

function missingField(v: Record<string, unknown>): string | undefined {
  for (const fieldPath of REQUIRED_FIELDS) {
    let node: unknown = v;
    for (const key of fieldPath) node = isRecord(node) ? node[key] : undefined;
    if (node === undefined || node === null) return fieldPath.join('.');
  }
  return undefined;
}

/** Reads `dir`/summary.json back; throws an error naming the file and the problem if it is missing or not a run summary. */
export async function readRunSummary(dir: string): Promise<RunSummary> {
  const file = path.join(dir, RUN_FILES.summaryJson);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = isRecord(err) ? err['code'] : undefined;
    if (code === 'ENOENT') throw new Error(`${file} does not exist: is ${dir} a run's --out directory?`);
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(parsed)) throw new Error(`${file} is not a run summary (expected a JSON object)`);
  const missing = missingField(parsed);
  if (missing !== undefined) throw new Error(`${file} is not a run summary: "${missing}" is missing`);
  // The required fields are there; the rest is trusted as the harness wrote it.
  return withFaultDefaults(parsed as unknown as RunSummary);
}

/**
 * A summary written before faults existed (a published baseline) lacks their
 * fields: it ran without a fault, one broker group, no re-send, nothing read
 * from a slave and no loss allowed, and reads so.
 */
function withFaultDefaults(s: RunSummary): RunSummary {
  const m = s.messages as Partial<RunSummary['messages']> & RunSummary['messages'];
  const c = (s.config ?? {}) as Partial<RunSummary['config']>;
  return {
    ...s,
    faults: s.faults ?? [],
    lossLimit: s.lossLimit ?? 0,
    messages: { ...m, retried: m.retried ?? 0, fromSlave: m.fromSlave ?? 0, attempts: m.attempts ?? { ok: m.acked ?? 0, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: m.failed ?? 0 } },
    ...(s.config === undefined ? {} : { config: { ...s.config, brokerGroups: c.brokerGroups ?? 1, injectDoubleIssue: c.injectDoubleIssue ?? 0 } }),
  };
}

/** Writes compare.md and compare.html into `dir` (created if needed). */
export async function writeCompareReport(
  dir: string,
  summaries: readonly RunSummary[],
  regressions?: readonly Regression[],
  tolerance: BaselineTolerance = DEFAULT_BASELINE_TOLERANCE,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const markdown = render(COMPARE_FILES.markdown, () => renderCompareMarkdown(summaries, regressions, tolerance));
  const html = render(COMPARE_FILES.html, () => renderCompareHtml(summaries, regressions, tolerance));
  await Promise.all([
    writeFile(path.join(dir, COMPARE_FILES.markdown), markdown),
    writeFile(path.join(dir, COMPARE_FILES.html), html),
  ]);
}
