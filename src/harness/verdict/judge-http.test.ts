// The verdict's HTTP-front checks without a run: each of the scenario's HTTP
// thresholds (503 share, response p99, achieved ratio) and the "neither 200
// nor 503" invariant fails a bad http block with its reason and passes a
// good one; a run without the block is not judged on them.
import { describe, expect, it } from 'vitest';
import type { RunFigures } from '../measure/index.js';
import type { HttpSummary } from '../run-result.js';
import type { Thresholds } from '../scenario/index.js';
import { judgeRun } from './judge.js';

function httpBlock(): HttpSummary {
  return {
    label: 'closed loop, 256 concurrent users, 1 ms resolution',
    connections: 256,
    threads: 1,
    serviceWorkers: 2,
    url: 'http://127.0.0.1:1',
    claims: { offered: 1000, sent: 990, answered: 980 },
    status: { ok: 975, unavailable: 5, other: 0 },
    timeouts: 0,
    errors: 0,
    nonClaimRequests: 256,
    ratePerSec: { offered: 100, achieved: 98, ok: 97.5, unavailable: 0.5, other: 0 },
    shortfall: 0.02,
    unavailableShare: 0.0051,
    responseMs: { p50: 5, p90: 9, p99: 40, p999: 60, max: 80, mean: 6, count: 980 },
    autocannonMs: { p50: 5, p90: 9, p99: 40, p999: 60, max: 80, mean: 6 },
    histogram: '',
  };
}

/** A run that holds every invariant (the minimum judgeRun reads), with `h` as its http block. */
function run(h: HttpSummary | undefined): RunFigures {
  const lat = { p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1, count: 1 };
  return {
    summary: {
      scenario: 't', flush: 'sync', replication: 'sync', isolation: 'thread', durationSec: 10, targetRate: 100, startedAt: '', elapsedSec: 12,
      messages: { attempted: 990, acked: 975, failed: 0, consumed: 975, duplicates: 0, lost: 0, unackedReceived: 0, retried: 0, attempts: { ok: 975, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }, fromSlave: 0 },
      tickets: { allocated: 975, issued: 975, issuedTwice: 0, neverIssued: 0 },
      throughput: { produceMean: 97, producePeak: 100, consumeMean: 97 },
      latencyMs: { send: lat, e2e: lat, generatorLag: lat },
      backlog: { peak: 0, peakAtSec: 0 },
      phases: [],
      brokers: [],
      cpu: [],
      machine: { cpus: 2, cpuModel: 't', memoryGiB: 4, node: 'v20', platform: 'linux' },
      config: { queues: 4, bodySize: 128, producers: 1, consumers: 2, consumerCapacityPerSec: 100, segmentSize: 1 << 20, injectDrop: 0, injectDoubleIssue: 0, brokerGroups: 1, brokerAddrs: [] },
      faults: [],
      lossLimit: 0,
      histograms: { send: '', e2e: '', generatorLag: '' },
      ...(h !== undefined ? { http: h } : {}),
    },
    end: { aborted: false, drained: true, drainTimeoutSec: 60, backlogLeft: 0 },
    lostSamples: [],
    sends: { slaveTimeout: 0, slaveNotAvailable: 0, errors: [] },
    foreign: 0,
    dropped: 0,
    phaseLatency: [],
  };
}

const T: Thresholds = { ackedRatePhases: [], minAckedRatio: 0, http: { max503Share: 0.01, maxResponseP99Ms: 50, minAchievedRatio: 0.95 } };

function judged(change: (h: HttpSummary) => void): string[] {
  const h = httpBlock();
  change(h);
  return judgeRun(run(h), T).failures;
}

describe('judgeRun, the HTTP front', () => {
  it('passes a good http block; a run without one is not judged on it', () => {
    expect(judgeRun(run(httpBlock()), T)).toEqual({ passed: true, failures: [], warnings: [] });
    expect(judgeRun(run(undefined), T).passed).toBe(true);
  });

  it('fails on a 503 share above the bound', () => {
    expect(judged((h) => ((h.unavailableShare = 0.02), (h.status.unavailable = 20)))).toEqual(['2.00% of the claims answered were 503 (20), above 1.00%']);
  });

  it('fails on a response p99 above the bound, naming what autocannon measures', () => {
    expect(judged((h) => (h.responseMs.p99 = 75))).toEqual(['HTTP response p99 75 ms (closed loop, 256 concurrent users, 1 ms resolution) is above 50 ms']);
  });

  it('fails when the closed loop fell too far below the offered rate', () => {
    expect(judged((h) => ((h.shortfall = 0.2), (h.claims.answered = 800)))[0]).toMatch(/^the users got 800 claims answered of 1,000 offered \(80\.0%, below 95%/);
  });

  it('fails on claims answered neither 200 nor 503, even without thresholds', () => {
    const h = httpBlock();
    h.status.other = 3;
    expect(judgeRun(run(h), { ackedRatePhases: [], minAckedRatio: 0 }).failures).toEqual(['3 claim(s) answered neither 200 nor 503 by the activity service']);
  });

  it('warns about timeouts and connection errors', () => {
    const h = httpBlock();
    h.timeouts = 2;
    h.errors = 1;
    expect(judgeRun(run(h), T).warnings).toEqual(['HTTP: 2 request(s) timed out and 1 connection error(s) (those claims are not acknowledged, and not lost)']);
  });
});
