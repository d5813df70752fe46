import { describe, expect, it } from 'vitest';
import { ASYNC_LOSS_LIMIT, buildRunResult, KILL_AND_RESTART } from './fixtures.test-helper.js';
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
    expect(md).toContain('Busy during the sale (run start to the last answer), as a share of one core: master 87.0%, slave 41.0%, producer 0 62.0%, producer 1 60.0%, consumer 0 35.0%');
    // CPU per role: a figure per role, a dash where the CPU could not be read, and the totals line.
    expect(md).toMatch(/^\| master \| 87\.0% \| [\d.]+ \| [\d,]+ \| 9\.50 \|$/m);
    expect(md).toMatch(/^\| consumer 0 \| 35\.0% \| — \| [\d,]+ \| — \|$/m);
    expect(md).toMatch(/CPU per acknowledged message \(sale \+ drain, [\d.]+ s\): — µs, of which brokers 13\.8, producers 6\.10, consumers —/);
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

  it('keeps a clean run uncluttered: "no fault injected", no Faults section, no loss line, attempts in one row', () => {
    const { summary } = buildRunResult();
    const md = renderSummaryMarkdown(summary);
    expect(md).toContain('· no fault injected');
    expect(md).not.toContain('### Faults');
    expect(md).not.toContain('Loss: lost');
    expect(md).not.toContain('Read from a slave');
    expect(md).toContain('| Retried (re-sent after a failed attempt) | 0 |');
    expect(md).toContain(`| Send attempts: ok / SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE / other status / error or timeout | ${formatCount(summary.messages.acked)} / 0 / 0 / 0 / 0 |`);
  });

  it('gives each fault a row with its figures, the totals of retries, attempts and reads from a slave, and the loss limit', () => {
    const { summary } = buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2 });
    summary.faults[1]!.note = 'came back after 4.1 s';
    const md = renderSummaryMarkdown(summary);
    const m = summary.messages;
    expect(md).toContain('· faults: kill-master@50, restart-master@65');
    expect(md).toContain(`| Retried (re-sent after a failed attempt) | ${formatCount(m.retried)} |`);
    expect(m.retried).toBeGreaterThan(0);
    const a = m.attempts;
    expect(md).toContain(`| ${[a.ok, a.slaveTimeout, a.slaveNotAvailable, a.otherStatus, a.error].map(formatCount).join(' / ')} |`);
    expect(md).toContain(`| Read from a slave | ${formatCount(m.fromSlave)} |`);
    expect(md).toContain('Loss: lost 0 of a limit of 0 (sync/sync may lose nothing in this scenario).');
    expect(md).toContain(
      '### Faults\n\n| Fault | Target | Done at | Window until | Sends failed | Retried | Recovery (first SEND_OK) | Unavailable (< ½ offered acked) | Read from slave | Duplicates | Lost |',
    );
    const [kill, restart] = summary.faults;
    expect(md).toContain(
      `| kill-master@50 | master broker-a (pid 41234) | 50.1 s | 65 s | ${formatCount(kill!.failedAttempts)} | ${formatCount(kill!.retried)} | 1.35 s | 1 s | ${formatCount(kill!.fromSlave)} | 0 | 0 |`,
    );
    expect(md).toMatch(/\| restart-master@65 \| master broker-a \(pid 41235\) \| 65\.1 s \| \d+ s \| [\d,]+ \| [\d,]+ \| 0\.42 s \| 0 s \| 0 \| 160 \| 0 \|/);
    expect(restart!.duplicates).toBe(160);
    expect(md).toContain('- restart-master@65: came back after 4.1 s');
    expect(md).toContain('2 broker groups (master and slave)');
    expect(md).toContain('broker-b master 127.0.0.1:11011');
  });

  it('says what an async mode is allowed to lose, and when a run lost more', () => {
    const within = buildRunResult({
      flush: 'async',
      replication: 'async',
      faults: [{ kind: 'power-loss-master', atSec: 60, recoverySec: null, lost: 1_834 }],
      lossLimit: ASYNC_LOSS_LIMIT,
    }).summary;
    const md = renderSummaryMarkdown(within);
    expect(md.split('\n')[0]).toMatch(/: PASSED$/);
    expect(md).toContain(
      "Loss: lost 1,834 of a limit of 10,000 (the scenario allows 10,000 in async/async, what this mode's acknowledgement does not promise to keep).",
    );
    // A fault after which no send was acknowledged again: recovery "none".
    expect(md).toMatch(/\| power-loss-master@60 \|.*\| none \|/);
    const over = buildRunResult({ faults: [{ kind: 'power-loss-master', atSec: 60, recoverySec: 2, lost: 12 }] }).summary;
    expect(renderSummaryMarkdown(over)).toContain('Loss: lost 12 of a limit of 0 (sync/sync may lose nothing in this scenario): over the limit.');
  });

  it('reads a fault the run ended before as not done', () => {
    const { summary } = buildRunResult({ faults: KILL_AND_RESTART });
    summary.faults[1]!.doneAtSec = null;
    expect(renderSummaryMarkdown(summary)).toContain('| restart-master@65 | master broker-a (pid 41235) | not done (due 65 s) |');
  });
});
