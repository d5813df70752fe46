// The HTTP side of a run's report: summary.md's "HTTP front" section and
// report.html's (tables, the per-second chart, the percentile curve), the
// timeline's HTTP columns (last, HTTP runs only), http.hgrm; a run without
// the front has none of them.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HttpSummary, RunResult } from '../run-result.js';
import { buildRunResult, histogramOfMs } from './fixtures.test-helper.js';
import { renderRunHtml, RUN_CHARTS } from './report-html.js';
import { renderSummaryMarkdown } from './summary-md.js';
import { HTTP_CSV_COLUMNS, renderTimelineCsv } from './timeline-csv.js';
import { HTTP_RUN_FILES, writeRunReport } from './write.js';
import { renderCompareHtml, renderCompareMarkdown } from './compare.js';

function httpRun(): RunResult {
  const r = buildRunResult();
  const http: HttpSummary = {
    label: 'closed loop, 64 concurrent users, 1 ms resolution',
    connections: 64,
    threads: 1,
    serviceWorkers: 2,
    url: 'http://127.0.0.1:1',
    claims: { offered: 1000, sent: 990, answered: 980 },
    status: { ok: 975, unavailable: 4, other: 1 },
    timeouts: 2,
    errors: 0,
    nonClaimRequests: 64,
    ratePerSec: { offered: 100, achieved: 98, ok: 97.5, unavailable: 0.4, other: 0.1 },
    shortfall: 0.02,
    unavailableShare: 0.0041,
    responseMs: { p50: 3.2, p90: 7, p99: 41.5, p999: 60, max: 80, mean: 4, count: 980 },
    autocannonMs: { p50: 3, p90: 7, p99: 41, p999: 60, max: 80, mean: 4.1 },
    histogram: histogramOfMs([1, 2, 3, 40, 80]),
  };
  return {
    summary: { ...r.summary, http },
    timeline: r.timeline.map((row, k) => ({ ...row, http: { ok: 90 + k, unavailable: k % 2, other: 0, timeouts: 0, errors: 0, responseP99Ms: 12.5 } })),
  };
}

describe('the HTTP side of the report', () => {
  it('summary.md: an HTTP front section with the label, offered vs achieved, statuses and both response summaries', () => {
    const md = renderSummaryMarkdown(httpRun().summary);
    expect(md).toContain('### HTTP front');
    expect(md).toContain('closed loop, 64 concurrent users, 1 ms resolution');
    expect(md).toMatch(/Answered 200 \/ 503 \/ other \| +975 \/ 4 \/ 1/);
    expect(md).toMatch(/Achieved below offered by \| +2(\.0)?%/);
    expect(md).toContain('autocannon’s own summary (1 ms buckets)');
    expect(renderSummaryMarkdown(buildRunResult().summary)).not.toContain('HTTP front');
  });

  it('report.html: the HTTP section with its two charts; none without the front', () => {
    const html = renderRunHtml(httpRun());
    expect(html).toContain('<h2>HTTP front</h2>');
    expect(html).toContain(`data-chart="${RUN_CHARTS.http}"`);
    expect(html).toContain(`data-chart="${RUN_CHARTS.httpPercentiles}"`);
    expect(renderRunHtml(buildRunResult())).not.toContain('HTTP front');
  });

  it('timeline.csv: the HTTP columns come last, filled per second; absent in a producers run', () => {
    const lines = renderTimelineCsv(httpRun().timeline).trim().split('\n');
    expect(lines[0]!.endsWith(HTTP_CSV_COLUMNS.map(([c]) => c).join(','))).toBe(true);
    expect(lines[1]!.endsWith(',90,0,0,0,0,12.5')).toBe(true);
    expect(lines[2]!.endsWith(',91,1,0,0,0,12.5')).toBe(true);
    expect(renderTimelineCsv(buildRunResult().timeline)).not.toContain('http_');
  });

  it('writes http.hgrm beside the other files in an HTTP run only', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'metaq-http-report-'));
    try {
      await writeRunReport(path.join(dir, 'http'), httpRun());
      expect(await readFile(path.join(dir, 'http', HTTP_RUN_FILES.httpHgrm), 'utf8')).toContain('Percentile TotalCount');
      await writeRunReport(path.join(dir, 'plain'), buildRunResult());
      expect(await readdir(path.join(dir, 'plain'))).not.toContain(HTTP_RUN_FILES.httpHgrm);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the compare page: an HTTP front by mode table when a run had the front, none otherwise', () => {
    const http = httpRun().summary;
    const plain = buildRunResult().summary;
    const md = renderCompareMarkdown([http, { ...http, flush: 'async', replication: 'async' }]);
    expect(md).toContain('### HTTP front by mode');
    expect(md).toMatch(/\| +98 \/ 100 +\| +98 +\|/);
    expect(renderCompareHtml([http])).toContain('<h2>HTTP front by mode</h2>');
    expect(renderCompareMarkdown([plain])).not.toContain('HTTP front');
  });
});
