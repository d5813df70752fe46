// scripts/check-report-render.mjs on pages built from the fixtures: a run
// under faults and the four modes compared under faults render, draw their
// fault markers and fit 1,300 and 1,000 px; and each of its checks fails on
// a page built to break it (a table too wide for 1,000 px, a page that
// scrolls sideways, fault markers that draw nothing). Needs headless
// Chromium: skipped without one, unless REQUIRE_RENDER_CHECK=1 (CI).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCompareHtml } from './compare.js';
import { buildFaultedCompareSummaries, buildRunResult, KILL_AND_RESTART } from './fixtures.test-helper.js';
import { renderRunHtml } from './report-html.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/check-report-render.mjs', import.meta.url));
/** The script's exit status when no browser is installed. */
const NO_BROWSER = 2;
const CHECK_TIMEOUT_MS = 300_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-render-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function page(name: string, html: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, html);
  return file;
}

/** The script's verdict line for one page. */
function lineFor(stdout: string, file: string): string {
  return stdout.split('\n').find((l) => l.includes(`${file}:`)) ?? `(no line for ${file} in: ${stdout})`;
}

describe('check-report-render', () => {
  it('passes pages with faults, and fails a too-wide table, a page scrolling sideways and undrawn fault markers', { timeout: CHECK_TIMEOUT_MS }, () => {
    const report = renderRunHtml(buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2, samples: 2_000 }));
    const compare = renderCompareHtml(buildFaultedCompareSummaries());
    const good = [page('report.html', report), page('compare.html', compare)];
    // 1,100 px fits a 1,300 px window (1,240 px of page) but not a 1,000 px one.
    const wide = page('wide-table.html', compare.replace('<table>', '<table style="min-width: 1100px">'));
    const sideways = page('sideways.html', report.replace('</h1>', '</h1><div style="width: 1500px">a banner too wide</div>'));
    // Each fault line drawn with no length: the markup is there, the screen shows nothing.
    const noMarkers = page(
      'no-markers.html',
      report.replace(/(<line data-marker="fault" x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2=")[\d.]+"/g, '$1$2"'),
    );
    expect(noMarkers).not.toBe(report);

    const r = spawnSync(process.execPath, [SCRIPT, ...good, wide, sideways, noMarkers], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
    if (r.status === NO_BROWSER && process.env['REQUIRE_RENDER_CHECK'] !== '1') {
      console.warn(`no headless browser here: the render check test was skipped (${r.stderr.trim()})`);
      return;
    }
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(lineFor(r.stdout, good[0]!)).toMatch(/^OK .*, 4 fault markers drawn; tables fit at 1300 and 1000 px$/);
    expect(lineFor(r.stdout, good[1]!)).toMatch(/^OK .*tables fit at 1300 and 1000 px$/);

    const wideLine = lineFor(r.stdout, wide);
    expect(wideLine).toMatch(/^FAILED .*at 1000 px table 1 \("Flush \/ replication"\) runs \d+ px past the page's right edge/);
    expect(wideLine).not.toContain('at 1300 px');
    expect(lineFor(r.stdout, sideways)).toMatch(/^FAILED .*at 1300 px the page is 15\d\d px wide for a 1\d{3} px window \(it scrolls sideways\)/);
    expect(lineFor(r.stdout, noMarkers)).toMatch(/^FAILED .*chart "throughput": 2 fault marker\(s\) \(#be185d\) drew \d+ px, need 120/);
    expect(lineFor(r.stdout, noMarkers)).toMatch(/chart "p99-over-time": 2 fault marker\(s\)/);
  });
});
