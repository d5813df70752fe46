// Real pages to look at, or to run the render check on, are the published
// ones: node scripts/check-report-render.mjs results/baseline/compare.html
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../run-result.js';
import { buildCompareSummaries, buildRunResult } from './fixtures.test-helper.js';
import { TIMELINE_CSV_HEADER } from './timeline-csv.js';
import { COMPARE_FILES, readRunSummary, RUN_FILES, writeCompareReport, writeRunReport } from './write.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'metaq-report-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('writeRunReport', () => {
  it('writes the contract files into a new directory, and summary.json reads back equal', async () => {
    const result = buildRunResult();
    const dir = path.join(tmp, 'run', 'nested');
    await writeRunReport(dir, result);
    expect((await readdir(dir)).sort()).toEqual(Object.values(RUN_FILES).sort());
    const json = await readFile(path.join(dir, RUN_FILES.summaryJson), 'utf8');
    expect(json).toBe(`${JSON.stringify(result.summary, null, 2)}\n`);
    expect(await readRunSummary(dir)).toEqual(result.summary);
    expect(await readFile(path.join(dir, RUN_FILES.sendHgrm), 'utf8')).toMatch(/^ {7}Value {5}Percentile TotalCount/);
    expect(await readFile(path.join(dir, RUN_FILES.timelineCsv), 'utf8')).toMatch(new RegExp(`^${TIMELINE_CSV_HEADER},cpu_master,`));
    expect(await readFile(path.join(dir, RUN_FILES.summaryMd), 'utf8')).toMatch(/^## metaq double12/);
    expect(await readFile(path.join(dir, RUN_FILES.reportHtml), 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('keeps summary.json when another file cannot be rendered, and names that file', async () => {
    const result = buildRunResult();
    result.summary.histograms.send = 'broken';
    const dir = path.join(tmp, 'broken');
    await expect(writeRunReport(dir, result)).rejects.toThrow(/^cannot render send\.hgrm: not an HdrHistogram/);
    expect((await readRunSummary(dir)).scenario).toBe('double12');
  });
});

describe('readRunSummary', () => {
  it('says what is wrong: no file, not JSON, not a summary', async () => {
    await expect(readRunSummary(path.join(tmp, 'nowhere'))).rejects.toThrow(/summary\.json does not exist: is .*nowhere a run's --out directory\?/);
    const dir = path.join(tmp, 'bad');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'summary.json'), '{"scenario": ');
    await expect(readRunSummary(dir)).rejects.toThrow(/summary\.json is not valid JSON/);
    await writeFile(path.join(dir, 'summary.json'), '[]');
    await expect(readRunSummary(dir)).rejects.toThrow(/is not a run summary \(expected a JSON object\)/);
    const { latencyMs: _dropped, ...partial } = buildRunResult({ samples: 10 }).summary;
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(partial));
    await expect(readRunSummary(dir)).rejects.toThrow(/is not a run summary: "latencyMs\.send\.p99" is missing/);
  });
});

describe('readRunSummary of an older summary', () => {
  it('reads a summary.json written before faults existed as a run without fault, re-send or loss allowance', async () => {
    const dir = path.join(tmp, 'older');
    await mkdir(dir, { recursive: true });
    const s = structuredClone(buildRunResult({ samples: 10 }).summary) as Partial<RunSummary> & { messages: Record<string, unknown>; config: Record<string, unknown> };
    delete s.faults;
    delete s.lossLimit;
    for (const k of ['retried', 'attempts', 'fromSlave']) delete s.messages[k];
    for (const k of ['brokerGroups', 'injectDoubleIssue']) delete s.config[k];
    await writeFile(path.join(dir, 'summary.json'), JSON.stringify(s));
    const read = await readRunSummary(dir);
    expect(read.faults).toEqual([]);
    expect(read.lossLimit).toBe(0);
    expect(read.messages.retried).toBe(0);
    expect(read.messages.fromSlave).toBe(0);
    expect(read.messages.attempts).toEqual({ ok: read.messages.acked, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: read.messages.failed });
    expect(read.config.brokerGroups).toBe(1);
    expect(read.config.injectDoubleIssue).toBe(0);
  });
});

describe('writeCompareReport', () => {
  it('writes compare.md and compare.html', async () => {
    const dir = path.join(tmp, 'compare');
    await writeCompareReport(dir, buildCompareSummaries(), []);
    expect((await readdir(dir)).sort()).toEqual(Object.values(COMPARE_FILES).sort());
    expect(await readFile(path.join(dir, COMPARE_FILES.markdown), 'utf8')).toContain('No regressions.');
  });
});
