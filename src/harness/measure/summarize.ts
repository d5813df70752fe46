// Adds up what a run measured into its figures: the phase table, totals,
// throughput, latency distributions, backlog, the brokers' and threads'
// busy shares, the machine and the configuration. It judges nothing: the
// verdict (verdict/) weighs these figures against the scenario's thresholds.
import os from 'node:os';
import type * as hdr from 'hdr-histogram-js';
import { createMergeHistogram, decodeHistogram, encodeHistogram } from '../../load/index.js';
import { latencySummaryMs } from '../report/index.js';
import type { BrokerFigures, FaultFigures, PhaseSummary, RunSummary } from '../run-result.js';
import { DRAIN_PHASE, peakRate, producingSeconds, type Scenario } from '../scenario/index.js';
import type { ConsumerOutcome, PhaseFigures, ProducerOutcome } from '../workers/index.js';
import type { PhaseLatency, RunFigures } from './run-figures.js';
import type { RunMetrics } from './run-metrics.js';
import type { Verification } from './verifier.js';

/** Send errors the figures keep (distinct ones, first come). */
const SEND_ERRORS_KEPT = 3;
const GIB = 2 ** 30;

export interface SummaryInput {
  /** The scenario as run (for a remote run, with the broker's own modes). */
  scenario: Scenario;
  injectDrop: number;
  injectDoubleIssue: number;
  brokerGroups: number;
  /** The faults as carried out, with their figures (measure/fault-figures.ts). */
  faults: FaultFigures[];
  /** The loss the scenario allows in this mode. */
  lossLimit: number;
  isolation: RunSummary['isolation'];
  startedAt: Date;
  producers: number;
  consumers: number;
  metrics: RunMetrics;
  /** Empty when the workers did not get to report (a step failed before). */
  producerOutcomes: readonly ProducerOutcome[];
  consumerOutcomes: readonly ConsumerOutcome[];
  verification: Verification;
  drained: boolean;
  /** Seconds from the run's start to the drain's end (or to where the run stopped). */
  drainEndSec: number;
  brokers: BrokerFigures[];
  cpu: RunSummary['cpu'];
  cpuPerMessage?: RunSummary['cpuPerMessage'];
  brokerAddrs: string[];
  aborted: boolean;
  dropped: number;
  foreign: number;
  failedStep?: { step: string; message: string };
}

function mergePhase(outcomes: readonly { phases: PhaseFigures[] }[], p: number): { count: number; hist: hdr.Histogram } {
  const hist = createMergeHistogram();
  let count = 0;
  for (const out of outcomes) {
    const f = out.phases[p];
    if (f === undefined) continue;
    count += f.count;
    hist.add(decodeHistogram(f.latency));
  }
  return { count, hist };
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function summarize(x: SummaryInput): RunFigures {
  const { scenario: s, metrics, verification: v } = x;
  const producingSec = producingSeconds(s);
  const seconds = metrics.seconds;
  const backlogAt = (sec: number): number => {
    let b = 0;
    for (const row of seconds) if (row.second < sec) b = row.backlog;
    return b;
  };
  const phases: PhaseSummary[] = [];
  const phaseLatency: PhaseLatency[] = [];
  let start = 0;
  const allPhases = [...s.phases, { name: DRAIN_PHASE, durationSec: Math.max(0, x.drainEndSec - producingSec), startRate: 0, endRate: 0 }];
  allPhases.forEach((ph, p) => {
    const acked = mergePhase(x.producerOutcomes, p);
    const consumed = mergePhase(x.consumerOutcomes, p);
    phaseLatency.push({ name: ph.name, send: acked.hist, e2e: consumed.hist });
    const d = Math.max(ph.durationSec, 1e-9);
    phases.push({
      name: ph.name,
      startSec: round(start, 3),
      durationSec: round(ph.durationSec, 3),
      // The mean of a linear stretch of the curve (the drain offers nothing).
      offeredRate: round((ph.startRate + ph.endRate) / 2),
      ackedRate: round(acked.count / d),
      consumedRate: round(consumed.count / d),
      sendP99Ms: latencySummaryMs(acked.hist).p99,
      e2eP99Ms: latencySummaryMs(consumed.hist).p99,
      backlogAtEnd: backlogAt(Math.ceil(start + ph.durationSec)),
    });
    start += ph.durationSec;
  });

  const sum = (f: (p: ProducerOutcome) => number): number => x.producerOutcomes.reduce((a, p) => a + f(p), 0);
  const ackedInCurve = phases.slice(0, s.phases.length).reduce((a, p) => a + p.ackedRate * p.durationSec, 0);
  const consuming = seconds.filter((r) => r.consumed > 0);
  const consumeSpan = consuming.length === 0 ? 1 : consuming.at(-1)!.second - consuming[0]!.second + 1;
  const peak = seconds.reduce((m, r) => (r.backlog > m.backlog ? r : m), { backlog: 0, second: 0 });
  const cpus = os.cpus();
  return {
    summary: {
      scenario: s.name,
      flush: s.topology.flush,
      replication: s.topology.replication,
      isolation: x.isolation,
      durationSec: round(producingSec, 3),
      targetRate: round(peakRate(s)),
      startedAt: x.startedAt.toISOString(),
      elapsedSec: round(x.drainEndSec, 3),
      messages: {
        attempted: sum((p) => p.attempted),
        acked: v.acked,
        failed: sum((p) => p.failed),
        consumed: v.consumed,
        duplicates: v.duplicates,
        lost: v.lost,
        unackedReceived: v.unackedReceived,
        retried: sum((p) => p.retried),
        attempts: {
          ok: sum((p) => p.attempts.ok),
          slaveTimeout: sum((p) => p.attempts.slaveTimeout),
          slaveNotAvailable: sum((p) => p.attempts.slaveNotAvailable),
          otherStatus: sum((p) => p.attempts.otherStatus),
          error: sum((p) => p.attempts.error),
        },
        fromSlave: seconds.reduce((a, r) => a + r.fromSlave, 0),
      },
      tickets: v.tickets,
      throughput: {
        produceMean: round(ackedInCurve / producingSec),
        producePeak: seconds.reduce((m, r) => Math.max(m, r.acked), 0),
        consumeMean: round(v.consumed / consumeSpan),
      },
      latencyMs: { send: latencySummaryMs(metrics.send), e2e: latencySummaryMs(metrics.e2e), generatorLag: latencySummaryMs(metrics.lag) },
      backlog: { peak: peak.backlog, peakAtSec: peak.second },
      phases,
      brokers: x.brokers,
      cpu: x.cpu,
      ...(x.cpuPerMessage !== undefined ? { cpuPerMessage: x.cpuPerMessage } : {}),
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        memoryGiB: round(os.totalmem() / GIB, 1),
        node: process.version,
        platform: `${os.platform()} ${os.release()}`,
      },
      config: {
        queues: s.queues,
        bodySize: s.bodySize,
        producers: x.producers,
        consumers: x.consumers,
        consumerCapacityPerSec: round(s.consumer.capacityPerSec),
        segmentSize: s.topology.segmentSize,
        injectDrop: x.injectDrop,
        injectDoubleIssue: x.injectDoubleIssue,
        brokerGroups: x.brokerGroups,
        brokerAddrs: x.brokerAddrs,
      },
      faults: x.faults,
      lossLimit: x.lossLimit,
      histograms: { send: encodeHistogram(metrics.send), e2e: encodeHistogram(metrics.e2e), generatorLag: encodeHistogram(metrics.lag) },
    },
    end: {
      ...(x.failedStep !== undefined ? { failedStep: x.failedStep } : {}),
      aborted: x.aborted,
      drained: x.drained,
      drainTimeoutSec: s.drainTimeoutSec,
      backlogLeft: backlogAt(Infinity),
    },
    lostSamples: v.lostSamples,
    sends: {
      slaveTimeout: sum((p) => p.attempts.slaveTimeout),
      slaveNotAvailable: sum((p) => p.attempts.slaveNotAvailable),
      errors: [...new Set(x.producerOutcomes.flatMap((p) => p.errors))].slice(0, SEND_ERRORS_KEPT),
    },
    foreign: x.foreign,
    dropped: x.dropped,
    phaseLatency,
  };
}
