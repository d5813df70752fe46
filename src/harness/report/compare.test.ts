import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../run-result.js';
import {
  COMPARE_CHARTS,
  compareToBaseline,
  DEFAULT_BASELINE_TOLERANCE,
  renderCompareHtml,
  renderCompareMarkdown,
  type Regression,
} from './compare.js';
import { buildCompareSummaries, buildFaultedCompareSummaries } from './fixtures.test-helper.js';
import { formatCount, formatMs } from './format.js';
import { chartsIn, expectSelfContained } from './html-checks.test-helper.js';

/** A deep copy changed by `edit`: the baseline and the current run start equal. */
function changed(s: RunSummary, edit: (c: RunSummary) => void): RunSummary {
  const copy = structuredClone(s);
  edit(copy);
  return copy;
}

describe('compareToBaseline', () => {
  const baseline = buildCompareSummaries();
  const [syncSync] = baseline;

  it('finds nothing when the runs equal the baseline or stay within the tolerance', () => {
    expect(compareToBaseline(baseline, baseline)).toEqual([]);
    const slightlyWorse = baseline.map((s) =>
      changed(s, (c) => {
        c.throughput.produceMean *= 0.95; // -5%, within 10%
        c.latencyMs.send.p99 *= 1.2; // +20%, within 25%
      }),
    );
    expect(compareToBaseline(slightlyWorse, baseline)).toEqual([]);
  });

  it('flags a throughput drop of more than 10%, with the change as a percentage', () => {
    const current = [changed(syncSync!, (c) => (c.throughput.produceMean = syncSync!.throughput.produceMean * 0.858))];
    const regressions = compareToBaseline(current, baseline);
    expect(regressions).toEqual<Regression[]>([
      {
        mode: 'double12 flush sync / replication sync',
        metric: 'produce mean msg/s',
        baseline: syncSync!.throughput.produceMean,
        current: current[0]!.throughput.produceMean,
        change: '-14.2%',
      },
    ]);
  });

  it("flags a checked phase's acked rate, and only the phases asked for when told", () => {
    const current = [changed(syncSync!, (c) => (c.phases.find((p) => p.name === 'peak')!.ackedRate *= 0.8))];
    expect(compareToBaseline(current, baseline).map((r) => r.metric)).toEqual(['phase peak acked msg/s']);
    expect(compareToBaseline(current, baseline, DEFAULT_BASELINE_TOLERANCE, ['ramp'])).toEqual([]);
  });

  it('flags a p99 rise of more than 25% only when it is also at least 1 ms', () => {
    const tiny = baseline.map((s) => changed(s, (c) => (c.latencyMs.send.p99 = 0.4)));
    // 0.4 -> 0.9 ms is +125% but only 0.5 ms: noise, not a regression.
    const tinyWorse = tiny.map((s) => changed(s, (c) => (c.latencyMs.send.p99 = 0.9)));
    expect(compareToBaseline(tinyWorse, tiny)).toEqual([]);
    const worse = [changed(syncSync!, (c) => (c.latencyMs.e2e.p99 = syncSync!.latencyMs.e2e.p99 * 1.3))];
    const [r] = compareToBaseline(worse, baseline);
    expect(r).toMatchObject({ metric: 'e2e p99 ms', change: '+30.0%' });
  });

  it('flags loss where the baseline lost nothing, and a pass turned into a failure', () => {
    const current = [changed(syncSync!, (c) => ((c.messages.lost = 7), (c.passed = false)))];
    expect(compareToBaseline(current, baseline).map((r) => [r.metric, r.change])).toEqual([
      ['lost', '+7'],
      ['passed', 'passed → failed'],
    ]);
  });

  it('matches runs on scenario, flush and replication, and skips a run without a baseline', () => {
    const other = [changed(syncSync!, (c) => ((c.scenario = 'other'), (c.throughput.produceMean = 1)))];
    expect(compareToBaseline(other, baseline)).toEqual([]);
    const asyncAsync = baseline[3]!;
    const current = [changed(asyncAsync, (c) => (c.throughput.produceMean /= 2))];
    expect(compareToBaseline(current, baseline)[0]?.mode).toBe('double12 flush async / replication async');
  });

  it('flags a run under other faults than its baseline: its figures cannot be compared', () => {
    const [faulted] = buildFaultedCompareSummaries();
    expect(compareToBaseline([faulted!], [faulted!])).toEqual([]);
    const [r] = compareToBaseline([faulted!], baseline).filter((x) => x.metric === 'faults');
    expect(r).toMatchObject({ baseline: 0, current: 2, change: "other faults than the baseline's: none → power-loss-master@60, restart-master@75" });
  });

  it('uses a custom tolerance', () => {
    const current = [changed(syncSync!, (c) => (c.throughput.produceMean *= 0.95))];
    expect(compareToBaseline(current, baseline, { throughputDrop: 0.02 })).toHaveLength(1);
  });
});

describe('compare reports', () => {
  const summaries = buildCompareSummaries();

  it('markdown: one row per mode with throughput, latencies, backlog and loss, and states the tolerance', () => {
    const regressions = compareToBaseline(
      summaries.map((s) => changed(s, (c) => (c.throughput.produceMean *= 0.5))),
      summaries,
    );
    const md = renderCompareMarkdown(summaries, regressions);
    expect(md.split('\n')[0]).toBe('## metaq compare: double12: 4 of 4 modes passed');
    for (const s of summaries) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${s.flush} / ${s.replication} |`));
      expect(row).toBeDefined();
      expect(row).toContain(`| PASSED | ${formatCount(s.throughput.produceMean)} | ${formatCount(s.throughput.producePeak)} |`);
      expect(row).toContain(`| ${formatMs(s.latencyMs.send.p99)} | ${formatMs(s.latencyMs.e2e.p99)} | ${formatCount(s.backlog.peak)} | 0 / 0 |`);
      // The latency table holds the four send and four e2e figures.
      const send = s.latencyMs.send;
      expect(md).toContain(`| ${s.flush} / ${s.replication} | ${[send.p50, send.p99, send.p999, send.max].map(formatMs).join(' | ')} |`);
    }
    expect(md).toContain('No fault injected.');
    expect(md).not.toContain('Longest recovery');
    expect(md).not.toContain('### Faults by mode');
    expect(md).toContain('more than 10.0% below the baseline');
    expect(md).toContain('more than 25.0% above it and by at least 1.00 ms');
    expect(md).toContain('**4 regressions:**');
    expect(md).toContain('| double12 flush sync / replication sync | produce mean msg/s |');
  });

  it('markdown: says so when nothing regressed, and leaves the section out without a baseline', () => {
    expect(renderCompareMarkdown(summaries, [])).toContain('No regressions.');
    expect(renderCompareMarkdown(summaries)).not.toContain('baseline');
  });

  it('html: self-contained, the table, and the send and e2e curves with one curve per mode', () => {
    const html = renderCompareHtml(summaries, []);
    expectSelfContained(html);
    expect(html).toContain('<div class="banner passed">Compare PASSED</div>');
    expect(html).toContain('<div class="banner passed">Baseline check PASSED</div>');
    expect(chartsIn(html)).toEqual(
      new Map([
        [COMPARE_CHARTS.send, 4],
        [COMPARE_CHARTS.e2e, 4],
      ]),
    );
    for (const s of summaries) expect(html).toContain(`data-series="flush ${s.flush} / replication ${s.replication}"`);
  });

  it('html: a failed mode turns the banner red with the mode in front of each reason', () => {
    const failed = summaries.map((s, i) => (i === 1 ? changed(s, (c) => ((c.passed = false), (c.failures = ['lost 3']))) : s));
    expect(renderCompareHtml(failed)).toContain(
      '<div class="banner failed">Compare FAILED<ul><li>flush sync / replication async: lost 3</li></ul></div>',
    );
  });

  it("under faults: recovery, unavailability and lost against the mode's limit per mode, and every fault by mode", () => {
    const faulted = buildFaultedCompareSummaries();
    const md = renderCompareMarkdown(faulted);
    expect(md).toContain('Faults in every mode: power-loss-master@60, restart-master@75.');
    const header = md.split('\n').find((l) => l.startsWith('| Flush / replication | Result |'));
    expect(header).toBe(
      '| Flush / replication | Result | Produce mean msg/s | Produce peak msg/s | Peak phase acked msg/s (of offered) | Send p99 ms | E2E p99 ms | ' +
        'Backlog peak | Longest recovery | Unavailable | Lost / allowed |',
    );
    const row = (mode: string) => md.split('\n').find((l) => l.startsWith(`| ${mode} | `)) ?? '';
    expect(row('sync / sync')).toMatch(/\| 16\.2 s \| 1 s \| 0 \/ 0 \|$/);
    // async/async lost what it had not synced, within what the scenario allows it: it passes.
    expect(row('async / async')).toMatch(/^\| async \/ async \| PASSED \|.*\| 15\.5 s \| 1 s \| 1,834 \/ 10,000 \|$/);
    expect(md).toContain('### Faults by mode');
    expect(md).toMatch(/^\| async \/ async \| power-loss-master@60 \| 60\.1 s \| 75 s \|.*\| 15\.5 s \| 1 s \| [\d,]+ \| 0 \| 1,834 \|$/m);
    expect(md.split('\n').filter((l) => / \| (power-loss|restart)-master@/.test(l))).toHaveLength(8);

    // Over its limit, a mode's loss says so; a fault never followed by a SEND_OK reads "none".
    const worse = faulted.map((s, i) =>
      i === 0 ? changed(s, (c) => ((c.messages.lost = 3), (c.faults[0]!.recoverySec = null), (c.passed = false))) : s,
    );
    expect(renderCompareMarkdown(worse)).toMatch(/^\| sync \/ sync \| FAILED \|.*\| none \| 1 s \| 3 \/ 0 \(over\) \|$/m);
  });

  it('html: the faults-by-mode table and the faults line', () => {
    const html = renderCompareHtml(buildFaultedCompareSummaries());
    expect(html).toContain('<h2>Faults by mode</h2>');
    expect(html).toContain('<p>Faults in every mode: power-loss-master@60, restart-master@75.');
    expect(html).toContain('<td class="num">1,834 / 10,000</td>');
  });

  it('names each mode\'s faults when they differ between runs', () => {
    const [a, b] = buildFaultedCompareSummaries();
    const other = changed(b!, (c) => (c.faults = c.faults.slice(1)));
    expect(renderCompareMarkdown([a!, other])).toContain(
      'Faults differ between runs: flush sync / replication sync: power-loss-master@60, restart-master@75; flush sync / replication async: restart-master@75.',
    );
  });
});
