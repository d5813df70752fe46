// summarize adds up a run's figures from the workers' outcomes, the merged
// seconds and the verifier's counts, and judges nothing: the phase table
// (rates over each phase's length, the drain after the curve), totals,
// send statuses and distinct errors, how the run ended, and each phase's
// latency histograms for the verdict.
import { describe, expect, it } from 'vitest';
import { createMergeHistogram, encodeHistogram } from '../../load/index.js';
import type { Scenario } from '../scenario/index.js';
import type { ConsumerOutcome, PhaseFigures, ProducerOutcome } from '../workers/index.js';
import { RunMetrics } from './run-metrics.js';
import { summarize, type SummaryInput } from './summarize.js';
import type { Verification } from './verifier.js';

const US_PER_MS = 1000;

const scenario: Scenario = {
  name: 'test',
  description: 'two phases of 2 s',
  topic: 'T',
  queues: 2,
  bodySize: 64,
  phases: [
    { name: 'warmup', durationSec: 2, startRate: 100, endRate: 100 },
    { name: 'peak', durationSec: 2, startRate: 100, endRate: 300 },
  ],
  drainTimeoutSec: 30,
  consumer: { capacityPerSec: 500, workers: 1 },
  producer: { workers: 2, tickMs: 1, batchMax: 16 },
  topology: { flush: 'sync', replication: 'none', isolation: 'thread', segmentSize: 1 << 20 },
  thresholds: { ackedRatePhases: ['peak'], minAckedRatio: 0.99, maxSendP99Ms: 1 },
};

/** `count` messages of `ms` milliseconds, as a phase's figures travel. */
function phaseOf(count: number, ms: number): PhaseFigures {
  const h = createMergeHistogram();
  if (count > 0) h.recordValueWithCount(ms * US_PER_MS, count);
  return { count, latency: encodeHistogram(h) };
}

function producerOutcome(worker: number, counts: [number, number, number], errors: string[]): ProducerOutcome {
  const acked = counts[0] + counts[1] + counts[2];
  return { worker, attempted: acked + 2, acked, failed: 2, retried: 0, attempts: { ok: acked, slaveTimeout: 1, slaveNotAvailable: 1, otherStatus: 0, error: 0 }, firstAckAfterFaultUs: [], errors, phases: counts.map((c) => phaseOf(c, 4)), lastAnswerUs: 0 };
}

const consumerOutcome: ConsumerOutcome = { worker: 0, received: 800, phases: [phaseOf(200, 10), phaseOf(400, 20), phaseOf(200, 900)], errors: [] };

const verification: Verification = {
  acked: 800,
  consumed: 799,
  duplicates: 0,
  lost: 1,
  unackedReceived: 0,
  tickets: { allocated: 800, issued: 799, issuedTwice: 0, neverIssued: 1 },
  lostSamples: [{ index: 5, userId: 10_000_000_005 }],
};

function input(): SummaryInput {
  return {
    scenario,
    injectDrop: 0,
    injectDoubleIssue: 0,
    brokerGroups: 1,
    faults: [],
    lossLimit: 0,
    isolation: 'thread',
    startedAt: new Date('2026-12-12T00:00:00Z'),
    producers: 2,
    consumers: 1,
    metrics: new RunMetrics(scenario.phases),
    producerOutcomes: [producerOutcome(0, [100, 250, 50], ['E1: a', 'E2: b']), producerOutcome(1, [100, 250, 50], ['E2: b', 'E3: c', 'E4: d'])],
    consumerOutcomes: [consumerOutcome],
    verification,
    drained: false,
    drainEndSec: 6,
    brokers: [],
    cpu: [],
    brokerAddrs: ['127.0.0.1:1'],
    aborted: false,
    dropped: 0,
    foreign: 0,
  };
}

describe('summarize', () => {
  it('adds up the phase table: rates over each phase, the drain after the curve', () => {
    const f = summarize(input());
    expect(f.summary.phases.map((p) => [p.name, p.startSec, p.durationSec, p.offeredRate, p.ackedRate, p.consumedRate])).toEqual([
      ['warmup', 0, 2, 100, 100, 100],
      ['peak', 2, 2, 200, 250, 200],
      ['drain', 4, 2, 0, 50, 100],
    ]);
    expect(f.summary.phases[2]!.e2eP99Ms).toBeCloseTo(900, -1);
    expect(f.summary.durationSec).toBe(4);
    expect(f.summary.elapsedSec).toBe(6);
    expect(f.summary.targetRate).toBe(300);
  });

  it('takes totals from the outcomes and the verifier, and judges nothing', () => {
    const f = summarize(input());
    expect(f.summary.messages).toEqual({ attempted: 804, acked: 800, failed: 4, consumed: 799, duplicates: 0, lost: 1, unackedReceived: 0, retried: 0, attempts: { ok: 800, slaveTimeout: 2, slaveNotAvailable: 2, otherStatus: 0, error: 0 }, fromSlave: 0 });
    expect(f.summary.tickets).toEqual(verification.tickets);
    expect(f.summary).not.toHaveProperty('passed');
    expect(f.summary).not.toHaveProperty('failures');
    expect(f.summary).not.toHaveProperty('warnings');
  });

  it('keeps what the verdict weighs: how the run ended, send statuses, the first distinct errors, the phases\' histograms', () => {
    const f = summarize({ ...input(), failedStep: { step: 'run the sale', message: 'boom' } });
    expect(f.end).toEqual({ failedStep: { step: 'run the sale', message: 'boom' }, aborted: false, drained: false, drainTimeoutSec: 30, backlogLeft: 0 });
    expect(f.sends).toEqual({ slaveTimeout: 2, slaveNotAvailable: 2, errors: ['E1: a', 'E2: b', 'E3: c'] });
    expect(f.lostSamples).toEqual(verification.lostSamples);
    expect(f.phaseLatency.map((p) => [p.name, p.send.totalCount, p.e2e.totalCount])).toEqual([
      ['warmup', 200, 200],
      ['peak', 500, 400],
      ['drain', 100, 200],
    ]);
  });

  it('a run that never got to its workers still adds up (zeros, no phase latency)', () => {
    const f = summarize({ ...input(), producerOutcomes: [], consumerOutcomes: [], drainEndSec: 0 });
    expect(f.summary.messages.attempted).toBe(0);
    expect(f.summary.phases.at(-1)).toMatchObject({ name: 'drain', durationSec: 0, ackedRate: 0 });
    expect(f.phaseLatency.every((p) => p.send.totalCount === 0 && p.e2e.totalCount === 0)).toBe(true);
  });
});
