// `metaq scenario` and `metaq compare` end to end, as users run them: the
// built command (dist/, which `npm test` builds first) as a child process
// that boots a real name server, master and slave in worker threads, real
// producer and consumer pools over TCP, real files. The deliberate fault
// (--inject-drop) proves that the verifier can fail a run on loss, and
// --inject-double-issue that it can fail one on tickets issued twice.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { REPO_ROOT } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { metaq, node, readSummary } from '../helpers/metaq-cli.js';

const RENDER_CHECK = path.join(REPO_ROOT, 'scripts', 'check-report-render.mjs');
/** check-report-render's exit status when no browser is installed. */
const NO_BROWSER = 2;
const RUN_FILES = ['summary.json', 'summary.md', 'send.hgrm', 'e2e.hgrm', 'timeline.csv', 'report.html'];
/** A short, low-rate smoke run: about 10 s with the drain. */
const SHORT = ['--duration', '3', '--rate', '4000'];

const tempDir = useTempDirs('scenario');

interface Summary {
  scenario: string;
  flush: string;
  replication: string;
  passed: boolean;
  failures: string[];
  messages: { attempted: number; acked: number; failed: number; consumed: number; duplicates: number; lost: number };
  tickets: { allocated: number; issued: number; issuedTwice: number; neverIssued: number };
  phases: { name: string; offeredRate: number; ackedRate: number }[];
  histograms: { send: string; e2e: string };
  latencyMs: { send: { p99: number }; e2e: { p99: number } };
  cpu: { role: string; busyShare: number; cpuUs?: number | null; messages?: number; usPerMessage?: number | null }[];
  cpuPerMessage?: { windowSec: number; all: number | null; brokers: number | null; producers: number | null; consumers: number | null };
}

/** What the --inject-drop test skips. */
const INJECTED_DROP = 5;
/** Far above what any role spends per message even in a short, mostly idle run; far below a unit slip (ms, ns). */
const MAX_PLAUSIBLE_US_PER_MESSAGE = 5000;

/**
 * Every role (master, slave, each producer, each consumer) has a CPU time and
 * a CPU per message that are plausible, and timeline.csv has each role's CPU
 * and each broker's figures per second.
 */
function expectPerRoleCpu(out: string, s: Summary): void {
  const roles = s.cpu.map((c) => c.role);
  expect(roles).toEqual(expect.arrayContaining(['master', 'slave', 'producer 0', 'consumer 0', 'consumer 1']));
  for (const r of roles) expect(r).toMatch(/^(master|slave|producer \d+|consumer \d+)$/);
  for (const c of s.cpu) {
    expect(c.cpuUs, c.role).toBeGreaterThan(0);
    expect(c.messages, c.role).toBeGreaterThan(0);
    expect(c.usPerMessage, c.role).toBeGreaterThan(0);
    expect(c.usPerMessage, c.role).toBeLessThan(MAX_PLAUSIBLE_US_PER_MESSAGE);
  }
  // A broker's and the producer's denominator is every acknowledged message; the consumers' split them.
  expect(s.cpu.find((c) => c.role === 'master')!.messages).toBe(s.messages.acked);
  // (--inject-drop's skipped messages may count as received.)
  const received = s.cpu.filter((c) => c.role.startsWith('consumer')).reduce((n, c) => n + c.messages!, 0);
  expect(Math.abs(received - s.messages.consumed)).toBeLessThanOrEqual(INJECTED_DROP);
  expect(s.cpuPerMessage!.all).toBeGreaterThan(0);
  expect(s.cpuPerMessage!.all).toBeLessThan(MAX_PLAUSIBLE_US_PER_MESSAGE * s.cpu.length);
  const lines = fs.readFileSync(path.join(out, 'timeline.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const header = lines[0]!;
  const column = (name: string): number[] => {
    const i = header.indexOf(name);
    expect(i, `${name} in ${header.join(',')}`).toBeGreaterThan(0);
    return lines.slice(1).map((l) => l[i]!).filter((v) => v !== '').map(Number);
  };
  for (const role of ['master', 'slave', 'producer_0', 'consumer_0']) {
    const cpu = column(`cpu_${role}`);
    expect(cpu.some((v) => v > 0), role).toBe(true);
    // A share of one core: a thread never above 1; a broker process's several threads, a little more at most.
    for (const v of cpu) expect(v).toBeLessThan(2);
  }
  // The master fdatasyncs every second of the sale (sync flush), in milliseconds, and has a resident set.
  expect(column('master_fsyncs').some((v) => v > 0)).toBe(true);
  for (const v of column('master_fsync_p99_ms')) expect(v).toBeGreaterThan(0);
  for (const v of column('master_rss_mb')) expect(v).toBeGreaterThan(10);
  for (const v of column('master_gc_ms')) expect(v).toBeGreaterThanOrEqual(0);
  expect(column('master_slave_lag_bytes').length).toBeGreaterThan(0);
}

function summary(dir: string): Summary {
  return readSummary<Summary>(dir);
}

describe('metaq scenario', () => {
  it('runs smoke end to end: every message consumed, every ticket issued once, the report files written, nothing left behind', async () => {
    const out = path.join(tempDir(), 'run');
    const data = tempDir();
    const r = await metaq(['scenario', 'smoke', ...SHORT, '--out', out, '--data-dir', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lastLine).toBe('PASSED: smoke sync/sync, lost 0');
    for (const f of RUN_FILES) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const s = summary(out);
    expect(s).toMatchObject({ scenario: 'smoke', flush: 'sync', replication: 'sync', passed: true, failures: [] });
    expect(s.messages.acked).toBe(s.messages.attempted);
    expect(s.messages.consumed).toBe(s.messages.acked);
    expect(s.messages.lost).toBe(0);
    expect(s.tickets).toEqual({ allocated: s.messages.acked, issued: s.messages.acked, issuedTwice: 0, neverIssued: 0 });
    expect(s.phases.map((p) => p.name)).toEqual(['warmup', 'ramp', 'peak', 'tail', 'drain']);
    expect(s.phases.find((p) => p.name === 'peak')!.offeredRate).toBe(4000);
    expect(s.histograms.send.length).toBeGreaterThan(0);
    const csv = fs.readFileSync(path.join(out, 'timeline.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^time,phase,offered,produced,failed,consumed,backlog,send_p99_ms,e2e_p99_ms/);
    expect(csv.length).toBeGreaterThan(5);
    expect(fs.readFileSync(path.join(out, 'send.hgrm'), 'utf8')).toContain('Percentile TotalCount');
    expectPerRoleCpu(out, s);
    // Clean stop: the brokers' data directories are gone.
    expect(fs.readdirSync(data)).toEqual([]);
  });

  it('--inject-drop N (brokers as child processes): the consumers skip N messages, the run reports lost = N and exits non-zero with the reason last', async () => {
    const out = path.join(tempDir(), 'run');
    const data = tempDir();
    const r = await metaq(['scenario', 'smoke', ...SHORT, '--isolation', 'process', '--inject-drop', '5', '--out', out, '--data-dir', data]);
    expect(r.code).toBe(1);
    expect(r.lastLine).toMatch(/^FAILED: lost 5 acknowledged message\(s\)/);
    expect(r.lastLine).toContain('5 allocated ticket(s) never issued');
    const s = summary(out);
    expect(s.passed).toBe(false);
    expect(s.messages.lost).toBe(5);
    expect(s.messages.consumed).toBe(s.messages.acked - 5);
    expect(s.tickets.neverIssued).toBe(5);
    // Brokers as processes: each one's whole process CPU.
    expectPerRoleCpu(out, s);
    expect(fs.readdirSync(data)).toEqual([]);
  });

  it('--inject-double-issue N: the lottery handles N claims again past its idempotency check, the run reports N tickets issued twice and exits non-zero', async () => {
    const out = path.join(tempDir(), 'run');
    const data = tempDir();
    const r = await metaq(['scenario', 'smoke', ...SHORT, '--inject-double-issue', '3', '--out', out, '--data-dir', data]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.lastLine).toMatch(/^FAILED: /);
    expect(r.lastLine).toContain('3 ticket(s) issued twice');
    const s = summary(out) as Summary & { config: { injectDoubleIssue: number } };
    expect(s.passed).toBe(false);
    expect(s.messages.lost).toBe(0);
    expect(s.tickets).toEqual({ allocated: s.messages.acked, issued: s.messages.acked, issuedTwice: 3, neverIssued: 0 });
    expect(s.config.injectDoubleIssue).toBe(3);
    expect(fs.readdirSync(data)).toEqual([]);
  });

  it('--broker/--namesrv: runs against servers that already run, reporting their modes, on a topic of its own', async () => {
    const ns = await NameServer.start({ port: 0 });
    const broker = await Broker.start(
      { port: 0, namesrvAddrs: [ns.addr], registerIntervalMs: 200, store: { dir: tempDir(), flushMode: 'async', segmentSize: 16 << 20 } },
      { warn: () => undefined },
    );
    try {
      const out = path.join(tempDir(), 'run');
      const r = await metaq(['scenario', 'smoke', ...SHORT, '--broker', broker.addr, '--namesrv', ns.addr, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`the broker at ${broker.addr} runs flush async, replication none`);
      const s = summary(out) as Summary & { isolation: string };
      expect(s).toMatchObject({ flush: 'async', replication: 'none', isolation: 'remote', passed: true });
      expect(s.messages.lost).toBe(0);
      expect(s.messages.consumed).toBe(s.messages.acked);
      expect(broker.store.topicNames().some((t) => t.startsWith('LOTTERY_CLAIM_'))).toBe(true);
    } finally {
      await broker.close();
      await ns.close();
    }
  });

  it('rejects bad input with one clear line and exit 2, before booting anything', async () => {
    const unknown = await metaq(['scenario', 'double13']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown scenario "double13"; known: .*double12.*smoke/);
    const flush = await metaq(['scenario', 'smoke', '--flush', 'sometimes']);
    expect(flush.code).toBe(2);
    expect(flush.stderr).toContain('--flush must be one of sync, async');
    const remote = await metaq(['scenario', 'smoke', '--broker', '127.0.0.1:1']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--broker and --namesrv go together');
    const duration = await metaq(['scenario', 'smoke', '--duration', '-3']);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--duration must be a positive number');
  });
});

describe('metaq compare', () => {
  it('runs each mode and writes compare.md and compare.html; a baseline check flags a regression', async () => {
    const root = tempDir();
    const out = path.join(root, 'compare');
    const r = await metaq(['compare', 'smoke', '--modes', 'async/async,async/none', ...SHORT, '--out', out], 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'async-async', 'summary.json'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'async-none', 'summary.json'))).toBe(true);
    const md = fs.readFileSync(path.join(out, 'compare.md'), 'utf8');
    expect(md).toContain('| async / async | PASSED |');
    expect(md).toContain('| async / none | PASSED |');
    expect(fs.readFileSync(path.join(out, 'compare.html'), 'utf8')).toContain('data-chart="e2e-percentiles"');

    // The pages draw in a real browser: a headless Chromium screenshot must show every chart's series.
    const render = await node([RENDER_CHECK, path.join(out, 'compare.html'), path.join(out, 'async-async', 'report.html')]);
    if (render.code === NO_BROWSER && process.env.REQUIRE_RENDER_CHECK !== '1') {
      console.warn(`no headless browser here: the render check was skipped (${render.stderr.trim()})`);
    } else {
      expect(render.code, render.stdout + render.stderr).toBe(0);
      expect(render.stdout).toMatch(/^OK .*compare\.html/m);
      // ...and the check can fail: a page whose send curve lost its path data.
      const page = fs.readFileSync(path.join(out, 'async-async', 'report.html'), 'utf8');
      const at = page.indexOf(' d="', page.indexOf('data-series="send"', page.indexOf('data-chart="latency-percentiles"')));
      const broken = path.join(root, 'broken.html');
      fs.writeFileSync(broken, page.slice(0, at + 4) + page.slice(page.indexOf('"', at + 4)));
      const bad = await node([RENDER_CHECK, broken]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/FAILED .*series "send" .* drew 0 px/);
    }

    // A baseline that was twice as fast at the same offered load: the current runs regress against it.
    const baseline = path.join(root, 'baseline');
    for (const mode of ['async-async', 'async-none']) {
      fs.mkdirSync(path.join(baseline, mode), { recursive: true });
      const s = summary(path.join(out, mode)) as Summary & { throughput: { produceMean: number } };
      s.throughput.produceMean *= 2;
      fs.writeFileSync(path.join(baseline, mode, 'summary.json'), JSON.stringify(s));
    }
    const again = await metaq(['compare', 'smoke', '--modes', 'async/async', ...SHORT, '--out', path.join(root, 'again'), '--baseline', baseline], 240_000);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/regression: smoke flush async \/ replication async produce mean msg\/s: \d+ -> \d+ \(-[45]\d\.\d%\)/);
    expect(again.lastLine).toMatch(/^FAILED: .*regression/);

    // A mode the baseline does not hold is refused up front, not passed silently.
    const unmatched = await metaq(['compare', 'smoke', '--modes', 'sync/sync', '--baseline', baseline]);
    expect(unmatched.code).toBe(2);
    expect(unmatched.stderr).toContain('has no run of smoke in sync/sync');
  });
});
