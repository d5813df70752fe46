import { describe, expect, it } from 'vitest';
import { buildRunResult } from './fixtures.test-helper.js';
import { formatCount, formatMs } from './format.js';
import { renderSummaryMarkdown } from './summary-md.js';

describe('renderSummaryMarkdown', () => {
  it('titles the run with scenario, mode and verdict, then the headline, latency and phase tables', () => {
    const { summary } = buildRunResult({ flush: 'async', replication: 'sync' });
    const md = renderSummaryMarkdown(summary);
    expect(md.split('\n')[0]).toBe('## metaq double12: flush async / replication sync: PASSED');
    expect(md).toContain(`| Produce mean (acked, producing phases) | ${formatCount(summary.throughput.produceMean)} msg/s |`);
    expect(md).toContain(`| Produce peak (best 1 s window) | ${formatCount(summary.throughput.producePeak)} msg/s |`);
    expect(md).toContain(`| Backlog peak | ${formatCount(summary.backlog.peak)} at `);
    expect(md).toContain(`| Lost (acked, never consumed) | 0 |`);
    expect(md).toContain(`| Acked (SEND_OK) | ${formatCount(summary.messages.acked)} |`);
    const send = summary.latencyMs.send;
    expect(md).toContain(
      `| Send (intended send to SEND_OK) | ${[send.p50, send.p90, send.p99, send.p999, send.max, send.mean].map(formatMs).join(' | ')} |`,
    );
    // One row per phase, the drain included, with its backlog at the end.
    for (const p of summary.phases) {
      expect(md).toMatch(new RegExp(`^\\| ${p.name} \\|.*\\| ${formatCount(p.backlogAtEnd)} \\|$`, 'm'));
    }
    expect(md).toContain('Busy during the sale (run start to the last answer), as a share of one core: producer-1 62.0%, producer-2 60.0%, consumer-1 35.0%, broker-master 87.0%');
    expect(md).toContain('Machine: 8 × AMD EPYC 7B13, 32 GiB, Node v20.20.0, linux');
    expect(md).not.toContain('### Failures');
  });

  it('lists the failures of a failed run, one line each, and escapes pipes in table cells', () => {
    const { summary } = buildRunResult({ lost: 12, warnings: ['generator fell behind'] });
    summary.phases[0]!.name = 'a|b';
    const md = renderSummaryMarkdown(summary);
    expect(md.split('\n')[0]).toMatch(/: FAILED$/);
    expect(md).toContain('### Failures\n\n- 12 messages acknowledged and never consumed (lost)');
    expect(md).toContain('### Warnings\n\n- generator fell behind');
    expect(md).toContain('| a\\|b |');
  });
});
