// `metaq bench activity` as users run it (the built command, dist/): a short
// run against the activity service and one against the hello-world give a
// JSON report whose figures hold together (every request of the measured run
// answered 200, one claim produced per request, CPU figures read), and a bad
// --mode is a one-line error.
import { describe, expect, it } from 'vitest';
import { metaq } from '../helpers/metaq-cli.js';

interface Report {
  bench: string;
  target: string;
  run: {
    answered200: number;
    statuses: Record<string, number>;
    errors: number;
    responseMs: { p50: number; p99: number; max: number };
    cpuUsPer200: { server: number | null; brokers: number | null };
    service: { meanBatchSize: number | null; claimsProduced: number; forwarded: number } | null;
  };
}

const SHORT = ['--duration', '2', '--warmup', '1', '--connections', '8'];

describe('bench activity', () => {
  it('claims: every request answered 200, each a claim produced, CPU per claim read', async () => {
    const out = await metaq(['bench', 'activity', '--mode', 'async/async', ...SHORT]);
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as Report;
    expect([r.bench, r.target]).toEqual(['activity', 'claims']);
    expect(r.run.answered200).toBeGreaterThan(0);
    expect(r.run.statuses).toEqual({ '200': r.run.answered200 });
    expect(r.run.errors).toBe(0);
    // Warm-up and measured run: every 200 is a distinct user's new claim.
    expect(r.run.service!.claimsProduced).toBeGreaterThanOrEqual(r.run.answered200);
    expect(r.run.service!.forwarded).toBe(0);
    expect(r.run.cpuUsPer200.server).toBeGreaterThan(0);
    expect(r.run.cpuUsPer200.brokers).toBeGreaterThan(0);
    expect(r.run.responseMs.max).toBeGreaterThanOrEqual(r.run.responseMs.p50);
  }, 120_000);

  it('hello: the same load against a plain node:http hello-world', async () => {
    const out = await metaq(['bench', 'activity', '--target', 'hello', ...SHORT]);
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as Report;
    expect(r.target).toBe('hello');
    expect(r.run.statuses).toEqual({ '200': r.run.answered200 });
    expect(r.run.service).toBeNull();
    expect(r.run.cpuUsPer200.brokers).toBeNull();
  }, 120_000);

  it('refuses a bad --mode in one line', async () => {
    const out = await metaq(['bench', 'activity', '--mode', 'sync/none']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/--mode: "sync\/none" is not flush\/replication/);
  });
});
