// `metaq scenario` with the HTTP front, end to end as users run it (the
// built command, dist/): a real name server, master and slave, the activity
// service's worker processes, autocannon's worker threads playing the users
// over 127.0.0.1, the lottery consumers. A short smoke-http run passes with
// zero loss keyed by the claims answered 200 and writes the HTTP side of the
// report; the same with --inject-drop fails on loss (the verifier sees the
// claims acknowledged over HTTP).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../helpers/temp-dir.js';
import { metaq, readSummary } from '../helpers/metaq-cli.js';

const tempDir = useTempDirs('http-scenario');
/** A few seconds at a low rate: ~20 s with the boot and the drain on a busy machine. */
const SHORT = ['--duration', '3', '--rate', '150'];
const RUN_TIMEOUT_MS = 150_000;

interface Summary {
  passed: boolean;
  failures: string[];
  messages: { attempted: number; acked: number; consumed: number; lost: number; failed: number };
  tickets: { allocated: number; issued: number; issuedTwice: number; neverIssued: number };
  http: {
    label: string;
    connections: number;
    claims: { offered: number; sent: number; answered: number };
    status: { ok: number; unavailable: number; other: number };
    responseMs: { p50: number; p99: number; count: number };
    autocannonMs: { p99: number };
    shortfall: number;
    nonClaimRequests: number;
  };
  cpu: { role: string; cpuUs: number | null; messages: number; usPerMessage: number | null }[];
}

describe('metaq scenario, HTTP front', () => {
  it(
    'smoke-http passes: every claim answered 200 consumed once, the HTTP block, http.hgrm and the timeline\'s HTTP columns written',
    async () => {
      const out = path.join(tempDir(), 'run');
      const data = tempDir();
      const r = await metaq(['scenario', 'smoke-http', ...SHORT, '--out', out, '--data-dir', data], RUN_TIMEOUT_MS);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.lastLine).toBe('PASSED: smoke-http sync/sync, lost 0');
      const s = readSummary<Summary>(out);
      const h = s.http;
      expect(h.label).toBe('closed loop, 64 concurrent users, 1 ms resolution');
      expect(h.status.ok).toBeGreaterThan(0);
      // The acknowledged set is exactly the claims answered 200, and every one reached the lottery once.
      expect(s.messages.acked).toBe(h.status.ok);
      expect(s.messages.consumed).toBeGreaterThanOrEqual(s.messages.acked);
      expect(s.messages.lost).toBe(0);
      expect(s.tickets.issuedTwice).toBe(0);
      expect(s.tickets.neverIssued).toBe(0);
      expect(h.claims.answered).toBeLessThanOrEqual(h.claims.sent);
      expect(h.claims.sent).toBeLessThanOrEqual(h.claims.offered);
      expect(h.responseMs.count).toBe(h.claims.answered);
      // Past the last claim, at most what the connections held when the claims ran out.
      expect(h.nonClaimRequests).toBeLessThanOrEqual(h.connections);
      expect(h.responseMs.p99).toBeGreaterThanOrEqual(h.responseMs.p50);
      expect(h.autocannonMs.p99).toBeGreaterThan(0);
      expect(fs.readFileSync(path.join(out, 'http.hgrm'), 'utf8')).toContain('Percentile TotalCount');
      const csv = fs.readFileSync(path.join(out, 'timeline.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toMatch(/,http_2xx,http_503,http_other,http_timeouts,http_errors,http_response_p99_ms$/);
      const ok = csv[0]!.split(',').indexOf('http_2xx');
      expect(csv.slice(1).reduce((n, l) => n + Number(l.split(',')[ok]), 0)).toBe(h.status.ok);
      expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('### HTTP front');
      expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('data-chart="http-over-time"');
      // The service's worker processes are a CPU role, per claim answered 200 (it was missing from the figures before).
      const service = s.cpu.find((c) => c.role === 'producer activity service');
      expect(service, JSON.stringify(s.cpu)).toBeDefined();
      expect(service!.messages).toBe(h.status.ok);
      expect(service!.cpuUs).toBeGreaterThan(0);
      expect(service!.usPerMessage).toBeGreaterThan(0);
      expect(fs.readdirSync(data)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    '--inject-drop in HTTP mode: the consumers skip claims acknowledged over HTTP, the run reports them lost and fails',
    async () => {
      const out = path.join(tempDir(), 'run');
      const r = await metaq(['scenario', 'smoke-http', ...SHORT, '--inject-drop', '5', '--out', out, '--data-dir', tempDir()], RUN_TIMEOUT_MS);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.lastLine).toMatch(/^FAILED: lost \d+ acknowledged message\(s\)/);
      const s = readSummary<Summary>(out);
      expect(s.passed).toBe(false);
      expect(s.messages.lost).toBeGreaterThan(0);
      expect(s.messages.lost).toBeLessThanOrEqual(5);
    },
    RUN_TIMEOUT_MS,
  );
});
