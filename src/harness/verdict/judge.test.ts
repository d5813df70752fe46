// The verdict without a run: every check, and every kind of threshold, fails
// a deliberately bad set of figures with its reason and passes a good one.
// The figures are built by hand (no workers, no broker).
import type * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createMergeHistogram } from '../../load/index.js';
import type { PhaseLatency, RunFigures } from '../measure/index.js';
import type { LatencySummaryMs, PhaseSummary } from '../run-result.js';
import type { Thresholds } from '../scenario/index.js';
import { GENERATOR_LAG_WARN_MS, judgeRun } from './judge.js';

const US_PER_MS = 1000;

/** A histogram of `n` values of `ms` milliseconds each. */
function histogram(ms: number, n = 100): hdr.Histogram {
  const h = createMergeHistogram();
  h.recordValueWithCount(Math.round(ms * US_PER_MS), n);
  return h;
}

function latency(p99: number): LatencySummaryMs {
  return { p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2, count: 100 };
}

function phase(name: string, offeredRate: number, ackedRate: number): PhaseSummary {
  return { name, startSec: 0, durationSec: 10, offeredRate, ackedRate, consumedRate: ackedRate, sendP99Ms: 5, e2eP99Ms: 9, backlogAtEnd: 0 };
}

/** Latency per phase: `sendMs` and `e2eMs` in every phase, unless `slow` says otherwise. */
function phaseLatency(sendMs: number, e2eMs: number, slow: Record<string, { send?: number; e2e?: number }> = {}): PhaseLatency[] {
  return ['warmup', 'peak', 'drain'].map((name) => ({ name, send: histogram(slow[name]?.send ?? sendMs), e2e: histogram(slow[name]?.e2e ?? e2eMs) }));
}

/** The figures of a run that holds everything: 1,000 messages acknowledged, consumed and ticketed once. */
function goodFigures(): RunFigures {
  return {
    summary: {
      scenario: 'test',
      flush: 'sync',
      replication: 'sync',
      isolation: 'thread',
      durationSec: 20,
      targetRate: 100,
      startedAt: '2026-12-12T00:00:00.000Z',
      elapsedSec: 25,
      messages: { attempted: 1000, acked: 1000, failed: 0, consumed: 1000, duplicates: 0, lost: 0, unackedReceived: 0, retried: 0, attempts: { ok: 1000, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }, fromSlave: 0 },
      tickets: { allocated: 1000, issued: 1000, issuedTwice: 0, neverIssued: 0 },
      throughput: { produceMean: 50, producePeak: 100, consumeMean: 50 },
      latencyMs: { send: latency(5), e2e: latency(9), generatorLag: latency(1) },
      backlog: { peak: 0, peakAtSec: 0 },
      phases: [phase('warmup', 10, 10), phase('peak', 100, 99), phase('drain', 0, 0)],
      brokers: [],
      cpu: [],
      machine: { cpus: 2, cpuModel: 'test', memoryGiB: 4, node: 'v20', platform: 'linux' },
      config: { queues: 4, bodySize: 64, producers: 1, consumers: 1, consumerCapacityPerSec: 100, segmentSize: 1 << 20, injectDrop: 0, injectDoubleIssue: 0, brokerGroups: 1, brokerAddrs: [] },
      faults: [],
      lossLimit: 0,
      histograms: { send: '', e2e: '', generatorLag: '' },
    },
    end: { aborted: false, drained: true, drainTimeoutSec: 60, backlogLeft: 0 },
    lostSamples: [],
    sends: { slaveTimeout: 0, slaveNotAvailable: 0, errors: [] },
    foreign: 0,
    dropped: 0,
    phaseLatency: phaseLatency(5, 9),
  };
}

const THRESHOLDS: Thresholds = { ackedRatePhases: ['peak'], minAckedRatio: 0.95, maxSendP99Ms: 50, maxE2eP99Ms: 500, latencyPhases: ['peak', 'drain'] };

/** `goodFigures()` with `change` applied. */
function figures(change: (f: RunFigures) => void): RunFigures {
  const f = goodFigures();
  change(f);
  return f;
}

describe('judgeRun', () => {
  it('passes a run that holds every invariant and threshold, with no warning', () => {
    expect(judgeRun(goodFigures(), THRESHOLDS)).toEqual({ passed: true, failures: [], warnings: [] });
  });

  describe('invariants', () => {
    it('a failed step: says where the run stopped, first; what the run did not get to do is not held against it', () => {
      const v = judgeRun(figures((f) => (f.end.failedStep = { step: 'run the sale', message: 'worker 0 crashed' })), THRESHOLDS);
      expect(v.passed).toBe(false);
      expect(v.failures).toEqual(['the run stopped at step "run the sale": worker 0 crashed']);
      const partial = judgeRun(
        figures((f) => {
          f.end.failedStep = { step: 'run the sale', message: 'worker 0 crashed' };
          f.end.drained = false;
          f.summary.messages.lost = 5;
          f.summary.tickets.neverIssued = 5;
          f.summary.tickets.issuedTwice = 1;
          f.summary.phases = [phase('peak', 100, 10)];
          f.phaseLatency = phaseLatency(5_000, 9_000);
        }),
        THRESHOLDS,
      );
      expect(partial.failures).toEqual([
        'the run stopped at step "run the sale": worker 0 crashed',
        '5 acknowledged message(s) were not consumed before the run stopped (not verified)',
        '1 ticket(s) issued twice',
      ]);
    });

    it('an abort fails the run; loss is then "not verified", and unissued tickets and the drain are not held against it', () => {
      const v = judgeRun(
        figures((f) => {
          f.end.aborted = true;
          f.end.drained = false;
          f.summary.messages.lost = 7;
          f.summary.tickets.neverIssued = 7;
        }),
        THRESHOLDS,
      );
      expect(v.failures).toEqual(['the run was aborted before it finished', '7 acknowledged message(s) were not consumed before the abort (not verified)']);
    });

    it('zero loss: a lost message fails the run, with samples to start from', () => {
      const v = judgeRun(
        figures((f) => {
          f.summary.messages.lost = 2;
          f.lostSamples = [
            { index: 3, userId: 10_000_000_042 },
            { index: 9, userId: 10_000_000_007 },
          ];
        }),
        THRESHOLDS,
      );
      expect(v.passed).toBe(false);
      expect(v.failures).toEqual(['lost 2 acknowledged message(s) that no consumer received, e.g. message 3 (user 10000000042), message 9 (user 10000000007)']);
    });

    it("loss per mode: a mode's stated limit lets its loss pass with a warning, one message more fails it", () => {
      const lossOf = (lost: number, limit: number): RunFigures =>
        figures((f) => {
          f.summary.flush = 'async';
          f.summary.replication = 'async';
          f.summary.lossLimit = limit;
          f.summary.messages.lost = lost;
          f.summary.tickets.neverIssued = lost;
          f.lostSamples = [{ index: 3, userId: 10_000_000_042 }];
        });
      const within = judgeRun(lossOf(40, 40), THRESHOLDS);
      expect(within.passed).toBe(true);
      expect(within.warnings).toEqual(['lost 40 acknowledged message(s): within the 40 the scenario allows in async/async, the cost of what that mode promises']);
      const beyond = judgeRun(lossOf(41, 40), THRESHOLDS);
      expect(beyond.passed).toBe(false);
      expect(beyond.failures).toEqual([
        'lost 41 acknowledged message(s) that no consumer received (the scenario allows 40 in async/async), e.g. message 3 (user 10000000042)',
        '41 allocated ticket(s) never issued',
      ]);
      expect(judgeRun(lossOf(1, 0), THRESHOLDS).passed).toBe(false);
    });

    it('tickets: one issued twice and one never issued each fail the run', () => {
      const v = judgeRun(
        figures((f) => {
          f.summary.tickets.issuedTwice = 1;
          f.summary.tickets.neverIssued = 4;
        }),
        THRESHOLDS,
      );
      expect(v.failures).toEqual(['1 ticket(s) issued twice', '4 allocated ticket(s) never issued']);
    });

    it('drain: a backlog left at the drain timeout fails the run', () => {
      const v = judgeRun(
        figures((f) => {
          f.end.drained = false;
          f.end.backlogLeft = 321;
        }),
        THRESHOLDS,
      );
      expect(v.failures).toEqual(['the consumers did not catch up within the drain timeout (60 s); backlog 321']);
    });

    it('failed sends fail the run, with the statuses and the first errors', () => {
      const v = judgeRun(
        figures((f) => {
          f.summary.messages.failed = 12;
          f.sends = { slaveTimeout: 8, slaveNotAvailable: 4, errors: ['METAQ_CONNECT_FAILED: refused'] };
        }),
        THRESHOLDS,
      );
      expect(v.failures).toEqual(['12 claim(s) never acknowledged although re-sent until the run ended (SLAVE_TIMEOUT 8, SLAVE_NOT_AVAILABLE 4; METAQ_CONNECT_FAILED: refused)']);
      const noErrors = judgeRun(figures((f) => (f.summary.messages.failed = 3)), THRESHOLDS);
      expect(noErrors.failures).toEqual(['3 claim(s) never acknowledged although re-sent until the run ended (SLAVE_TIMEOUT 0, SLAVE_NOT_AVAILABLE 0)']);
    });
  });

  describe('thresholds', () => {
    it('acknowledged rate: a judged phase below minAckedRatio of its offered rate fails; an unjudged one does not', () => {
      const v = judgeRun(figures((f) => (f.summary.phases = [phase('warmup', 10, 1), phase('peak', 100_000, 90_000), phase('drain', 0, 0)])), THRESHOLDS);
      expect(v.failures).toEqual(['phase peak: acknowledged 90,000 msg/s of 100,000 offered (90.0%, below 95%)']);
      // At the bound exactly, it holds.
      expect(judgeRun(figures((f) => (f.summary.phases = [phase('peak', 100, 95)])), THRESHOLDS).passed).toBe(true);
    });

    it('send p99: above the bound over the judged phases fails; a slow phase left out of latencyPhases does not', () => {
      const v = judgeRun(figures((f) => (f.phaseLatency = phaseLatency(5, 9, { peak: { send: 80 } }))), THRESHOLDS);
      expect(v.failures).toHaveLength(1);
      expect(v.failures[0]).toMatch(/^send p99 \(phases peak, drain\) 80(\.\d)? ms is above 50 ms$/);
      expect(judgeRun(figures((f) => (f.phaseLatency = phaseLatency(5, 9, { warmup: { send: 900 } }))), THRESHOLDS).passed).toBe(true);
    });

    it('end-to-end p99: above the bound fails, said in whole milliseconds past 100', () => {
      const v = judgeRun(figures((f) => (f.phaseLatency = phaseLatency(5, 9, { drain: { e2e: 1500 } }))), THRESHOLDS);
      expect(v.failures).toHaveLength(1);
      expect(v.failures[0]).toMatch(/^end-to-end p99 \(phases peak, drain\) 1,50\d ms is above 500 ms$/);
    });

    it('without latencyPhases every phase is judged, the drain too, and the sentence names none', () => {
      const open: Thresholds = { ...THRESHOLDS, latencyPhases: undefined };
      const v = judgeRun(figures((f) => (f.phaseLatency = phaseLatency(5, 9, { warmup: { send: 900 } }))), open);
      expect(v.failures).toHaveLength(1);
      expect(v.failures[0]).toMatch(/^send p99 9\d\d ms is above 50 ms$/);
    });

    it('unbounded latencies are not judged', () => {
      const unbounded: Thresholds = { ackedRatePhases: [], minAckedRatio: 0 };
      expect(judgeRun(figures((f) => (f.phaseLatency = phaseLatency(5_000, 60_000))), unbounded).passed).toBe(true);
    });
  });

  describe('warnings (never a failure)', () => {
    it('a late generator, foreign bodies and an injected drop are said, and the run still passes', () => {
      const v = judgeRun(
        figures((f) => {
          f.summary.latencyMs.generatorLag = latency(GENERATOR_LAG_WARN_MS + 10);
          f.foreign = 3;
          f.dropped = 2;
        }),
        THRESHOLDS,
      );
      expect(v.passed).toBe(true);
      expect(v.warnings).toHaveLength(3);
      expect(v.warnings[0]).toMatch(/^the load generator fell behind its schedule \(p99 60 ms\)/);
      expect(v.warnings[1]).toBe("3 message(s) on the topic were not this run's claims (ignored)");
      expect(v.warnings[2]).toBe('--inject-drop: the consumers skipped 2 message(s) on purpose');
    });
  });
});
