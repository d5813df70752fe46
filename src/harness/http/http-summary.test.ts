// summary.json's http block from autocannon's result and the hook threads'
// totals: sums over threads, rates over the producing seconds, the shortfall
// and 503 share, autocannon's own percentiles beside the merged histogram;
// and the threads' totals as producer outcomes (503 is not a failed send).
import * as hdr from 'hdr-histogram-js';
import type autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../load/index.js';
import type { HttpThreadDone } from './hook-config.js';
import { httpOutcome, httpSummary } from './http-summary.js';

function thread(worker: number, f: Partial<HttpThreadDone>): HttpThreadDone {
  return { kind: 'http-done', worker, claimsSent: 0, ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, phases: [], lastAnswerUs: 0, ...f };
}

const AUTOCANNON = { latency: { p50: 4, p90: 8, p99: 20, p99_9: 30, max: 41, mean: 5 } } as unknown as autocannon.Result;

describe('httpSummary', () => {
  it('adds the threads up and says how far the closed loop fell below the offered rate', () => {
    const response = hdr.build();
    for (let i = 0; i < 100; i++) response.recordValue(2000 + i * 100);
    const threads = [thread(0, { claimsSent: 500, ok: 480, unavailable: 10, timeouts: 2 }), thread(1, { claimsSent: 400, ok: 390, other: 1, errors: 1 })];
    const s = httpSummary({
      load: { autocannon: AUTOCANNON, threads, nonClaimRequests: 64, claimsBuilt: 950, connections: 64, threadCount: 2 },
      response,
      offered: 1000,
      producingSec: 10,
      serviceWorkers: 2,
      url: 'http://127.0.0.1:1',
    });
    expect(s.label).toBe('closed loop, 64 concurrent users, 1 ms resolution');
    expect(s.claims).toEqual({ offered: 1000, sent: 900, answered: 881 });
    expect(s.status).toEqual({ ok: 870, unavailable: 10, other: 1 });
    expect(s.timeouts).toBe(2);
    expect(s.errors).toBe(1);
    expect(s.ratePerSec).toEqual({ offered: 100, achieved: 88, ok: 87, unavailable: 1, other: 0 });
    expect(s.shortfall).toBeCloseTo(0.119, 4);
    expect(s.unavailableShare).toBeCloseTo(10 / 881, 4);
    expect(s.autocannonMs).toEqual({ p50: 4, p90: 8, p99: 20, p999: 30, max: 41, mean: 5 });
    expect(s.responseMs.count).toBe(100);
    expect(s.responseMs.p50).toBeCloseTo(7, 0);
    expect(decodeHistogram(s.histogram).totalCount).toBe(100);
  });

  it('no shortfall when every offered claim was answered, and no 503 share without answers', () => {
    const s = httpSummary({
      load: { autocannon: AUTOCANNON, threads: [thread(0, { claimsSent: 10, ok: 10 })], nonClaimRequests: 0, claimsBuilt: 10, connections: 1, threadCount: 1 },
      response: hdr.build(),
      offered: 10,
      producingSec: 1,
      serviceWorkers: 1,
      url: 'u',
    });
    expect(s.shortfall).toBe(0);
    expect(httpSummary({ ...{ load: { autocannon: AUTOCANNON, threads: [], nonClaimRequests: 0, claimsBuilt: 0, connections: 1, threadCount: 1 } }, response: hdr.build(), offered: 0, producingSec: 1, serviceWorkers: 1, url: 'u' }).unavailableShare).toBe(0);
  });
});

describe('httpOutcome', () => {
  it('makes each thread a producer outcome: attempted = sent, acked = 200, a 503 is not a failed send', () => {
    const [o] = httpOutcome([thread(3, { claimsSent: 12, ok: 10, unavailable: 2, lastAnswerUs: 99, phases: [{ count: 10, latency: '' }] })]);
    expect(o).toEqual({ worker: 3, attempted: 12, acked: 10, failed: 0, retried: 0, attempts: { ok: 10, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }, firstAckAfterFaultUs: [], errors: [], phases: [{ count: 10, latency: '' }], lastAnswerUs: 99 });
  });
});
