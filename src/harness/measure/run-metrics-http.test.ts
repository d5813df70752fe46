// RunMetrics in an HTTP run: the autocannon threads' per-second reports
// (answers by status, response-time and send histograms) merge into each
// second's HTTP figures and the whole run's response histogram; the plan's
// offered claims come from the coordinator (offer), not from a report.
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import type { HttpInterval } from '../http/index.js';
import type { Phase } from '../scenario/index.js';
import { RunMetrics } from './run-metrics.js';

const phases: Phase[] = [{ name: 'peak', durationSec: 3, startRate: 100, endRate: 100 }];

function hist(values: number[]): string {
  const h = hdr.build();
  for (const v of values) h.recordValue(v);
  return hdr.encodeIntoCompressedBase64(h);
}

function report(worker: number, second: number, f: Partial<HttpInterval> & { responseUs?: number[]; sendUs?: number[] }): HttpInterval {
  return {
    kind: 'http-interval',
    worker,
    second,
    ok: f.ok ?? 0,
    unavailable: f.unavailable ?? 0,
    other: f.other ?? 0,
    timeouts: f.timeouts ?? 0,
    errors: f.errors ?? 0,
    response: hist(f.responseUs ?? []),
    send: hist(f.sendUs ?? []),
  };
}

describe('RunMetrics, HTTP front', () => {
  it('merges the threads of a second: statuses add up, the response p99 covers both threads, 503s count as failed answers', () => {
    const m = new RunMetrics(phases, true);
    m.expectedReporters = 2;
    m.offer(0, 100);
    m.add(report(0, 0, { ok: 40, unavailable: 2, timeouts: 1, responseUs: new Array<number>(99).fill(1000), sendUs: [5000] }));
    m.add(report(1, 0, { ok: 50, other: 1, errors: 3, responseUs: [900_000], sendUs: [7000] }));
    const [row] = m.settle(1);
    expect(row).toMatchObject({ second: 0, offered: 100, acked: 90, failed: 3 });
    expect(row!.http).toMatchObject({ ok: 90, unavailable: 2, other: 1, timeouts: 1, errors: 3 });
    // 100 responses: the 100th (900 ms) is the p99's neighbour; p99 lands on 1 ms, max on 900 ms.
    expect(row!.http!.responseP99Ms).toBeCloseTo(1, 1);
    expect(m.httpResponse.totalCount).toBe(100);
    expect(m.httpResponse.maxValue).toBeGreaterThanOrEqual(899_000);
    expect(m.send.totalCount).toBe(2);
    expect(m.timeline()[0]!.http).toEqual(row!.http);
  });

  it('a second nobody reported still has HTTP figures (zeros) in an HTTP run, and none in a producers run', () => {
    const http = new RunMetrics(phases, true);
    http.offer(1, 10);
    const [row] = http.settle(Infinity, true);
    expect(row!.http).toEqual({ ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, responseP99Ms: 0 });
    const plain = new RunMetrics(phases);
    plain.offer(0, 10);
    expect(plain.settle(Infinity, true)[0]!.http).toBeUndefined();
  });
});
