// The HTTP front's figures: summary.json's `http` block from autocannon's
// result and the hook threads' totals, and the hook threads' totals as the
// producer outcomes the rest of the summary adds up (claims sent, answered
// 200, their send latency per phase). A 503 is an answer, not a failed send:
// the user was told to retry; the claim is counted, not acknowledged, and
// the verifier does not look for it.
import type * as hdr from 'hdr-histogram-js';
import { encodeHistogram } from '../../load/index.js';
import { latencySummaryMs } from '../report/index.js';
import type { HttpSummary } from '../run-result.js';
import type { ProducerOutcome } from '../workers/index.js';
import type { HttpThreadDone } from './hook-config.js';
import type { HttpLoadResult } from './http-load.js';

export interface HttpSummaryInput {
  load: HttpLoadResult;
  /** autocannon's response times over the run (µs), merged from its threads' reports. */
  response: hdr.Histogram;
  /** Claims the curve offered (the run's message count). */
  offered: number;
  producingSec: number;
  serviceWorkers: number;
  url: string;
}

const PERCENT_DIGITS = 4;

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function httpLabel(connections: number): string {
  return `closed loop, ${connections} concurrent users, 1 ms resolution`;
}

export function httpSummary(x: HttpSummaryInput): HttpSummary {
  const t = x.load.threads;
  const sum = (f: (d: HttpThreadDone) => number): number => t.reduce((a, d) => a + f(d), 0);
  const ok = sum((d) => d.ok);
  const unavailable = sum((d) => d.unavailable);
  const other = sum((d) => d.other);
  const answered = ok + unavailable + other;
  const sec = Math.max(x.producingSec, 1e-9);
  const a = x.load.autocannon.latency;
  return {
    label: httpLabel(x.load.connections),
    connections: x.load.connections,
    threads: x.load.threadCount,
    serviceWorkers: x.serviceWorkers,
    url: x.url,
    claims: { offered: x.offered, sent: sum((d) => d.claimsSent), answered },
    status: { ok, unavailable, other },
    timeouts: sum((d) => d.timeouts),
    errors: sum((d) => d.errors),
    nonClaimRequests: x.load.nonClaimRequests,
    ratePerSec: { offered: round(x.offered / sec), achieved: round(answered / sec), ok: round(ok / sec), unavailable: round(unavailable / sec), other: round(other / sec) },
    shortfall: x.offered === 0 ? 0 : round(Math.max(0, 1 - answered / x.offered), PERCENT_DIGITS),
    unavailableShare: answered === 0 ? 0 : round(unavailable / answered, PERCENT_DIGITS),
    responseMs: latencySummaryMs(x.response),
    autocannonMs: { p50: a.p50, p90: a.p90, p99: a.p99, p999: a.p99_9, max: a.max, mean: a.mean },
    histogram: encodeHistogram(x.response),
  };
}

/** Each hook thread's totals as a producer outcome ('producer <thread>' in the tables): what it sent and had acknowledged. */
export function httpOutcome(threads: readonly HttpThreadDone[]): ProducerOutcome[] {
  return threads.map((d) => ({
    worker: d.worker,
    attempted: d.claimsSent,
    acked: d.ok,
    failed: 0,
    retried: 0,
    attempts: { ok: d.ok, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 },
    firstAckAfterFaultUs: [],
    errors: [],
    phases: d.phases,
    lastAnswerUs: d.lastAnswerUs,
  }));
}
