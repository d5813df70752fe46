// Test fixtures for the report writers: a realistic, deterministic RunResult
// (a Double-12-shaped run: ramp, peak, cool-down, drain; a backlog that
// builds and drains; real HdrHistograms in microseconds). Excluded from the
// build (tsconfig.build.json) and not a test file itself.
import * as hdr from 'hdr-histogram-js';
import type { PhaseSummary, RunResult, RunSummary, TimelineRow } from '../run-result.js';
import type { FlushMode, ReplicationMode } from '../scenario/index.js';
import { latencySummaryMs } from './hgrm.js';

const HIGHEST_TRACKABLE_US = 3_600_000_000;
const US_PER_MS = 1000;

export interface FixtureOptions {
  flush?: FlushMode;
  replication?: ReplicationMode;
  /** Offered rate of the peak phase (msg/s). */
  peakRate?: number;
  /** Share of the offered load acknowledged in each second (1 = keeps up). */
  ackRatio?: number;
  /** Consumer capacity (msg/s): below the peak rate a backlog builds. */
  consumerCapacity?: number;
  /** Median send latency (ms); the tail scales with it. */
  sendMedianMs?: number;
  lost?: number;
  /** Samples recorded per histogram (the real run records every message; this keeps tests fast). */
  samples?: number;
  seed?: number;
  warnings?: string[];
}

/** A small deterministic PRNG (mulberry32): fixtures must not change between test runs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

/** A histogram of the given millisecond values, encoded as the workers ship it. */
export function histogramOfMs(valuesMs: readonly number[]): string {
  const h = newHistogram();
  for (const v of valuesMs) h.recordValue(Math.max(1, Math.round(v * US_PER_MS)));
  return hdr.encodeIntoCompressedBase64(h);
}

/** Log-normal-ish latencies with a rare long tail (a GC pause, an fsync stall). */
function latencySamples(random: () => number, n: number, medianMs: number, tailEvery: number, tailMs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // Sum of uniforms: roughly normal, cheap and deterministic.
    const z = (random() + random() + random() - 1.5) * 2;
    let v = medianMs * Math.exp(0.5 * z);
    if (i % tailEvery === 0) v += tailMs * random();
    out.push(v);
  }
  return out;
}

interface PhaseShape {
  name: string;
  durationSec: number;
  startRate: number;
  endRate: number;
}

export function buildRunResult(o: FixtureOptions = {}): RunResult {
  const peakRate = o.peakRate ?? 240_000;
  const ackRatio = o.ackRatio ?? 0.985;
  const capacity = o.consumerCapacity ?? 150_000;
  const sendMedianMs = o.sendMedianMs ?? 1.2;
  const samples = o.samples ?? 20_000;
  const random = seededRandom(o.seed ?? 12);
  const shapes: PhaseShape[] = [
    { name: 'ramp', durationSec: 10, startRate: 0, endRate: peakRate },
    { name: 'peak', durationSec: 20, startRate: peakRate, endRate: peakRate },
    { name: 'cool-down', durationSec: 10, startRate: peakRate, endRate: peakRate / 10 },
  ];
  const producingSec = shapes.reduce((s, p) => s + p.durationSec, 0);

  // Per second: offered from the curve, acked a share of it, consumed at the consumer's capacity.
  const timeline: TimelineRow[] = [];
  let backlog = 0;
  let second = 0;
  for (const p of shapes) {
    for (let i = 0; i < p.durationSec; i++, second++) {
      const offered = Math.round(p.startRate + ((p.endRate - p.startRate) * (i + 0.5)) / p.durationSec);
      const produced = Math.round(offered * ackRatio * (0.99 + 0.02 * random()));
      const consumed = Math.min(capacity, backlog + produced);
      backlog += produced - consumed;
      timeline.push({
        second,
        phase: p.name,
        offered,
        produced,
        failed: offered - produced,
        retried: 0,
        consumed,
        duplicates: 0,
        fromSlave: 0,
        backlog,
        sendP99Ms: sendMedianMs * (3 + random()) * (p.name === 'peak' ? 2 : 1),
        e2eP99Ms: sendMedianMs * 4 + (backlog / capacity) * 1000,
        generatorLagP99Ms: 0.05 + 0.3 * random(),
      });
    }
  }
  while (backlog > 0) {
    const consumed = Math.min(capacity, backlog);
    backlog -= consumed;
    timeline.push({
      second: second++,
      phase: 'drain',
      offered: 0,
      produced: 0,
      failed: 0,
      retried: 0,
      duplicates: 0,
      fromSlave: 0,
      consumed,
      backlog,
      sendP99Ms: 0,
      e2eP99Ms: sendMedianMs * 4 + (backlog / capacity) * 1000,
      generatorLagP99Ms: 0,
    });
  }

  const sum = (rows: readonly TimelineRow[], pick: (r: TimelineRow) => number) => rows.reduce((s, r) => s + pick(r), 0);
  const phases: PhaseSummary[] = [];
  let start = 0;
  for (const name of [...shapes.map((s) => s.name), 'drain']) {
    const rows = timeline.filter((r) => r.phase === name);
    const duration = rows.length;
    phases.push({
      name,
      startSec: start,
      durationSec: duration,
      offeredRate: sum(rows, (r) => r.offered) / Math.max(duration, 1),
      ackedRate: sum(rows, (r) => r.produced) / Math.max(duration, 1),
      consumedRate: sum(rows, (r) => r.consumed) / Math.max(duration, 1),
      sendP99Ms: Math.max(0, ...rows.map((r) => r.sendP99Ms)),
      e2eP99Ms: Math.max(0, ...rows.map((r) => r.e2eP99Ms)),
      backlogAtEnd: rows[rows.length - 1]?.backlog ?? 0,
    });
    start += duration;
  }

  const maxBacklogSec = Math.max(...timeline.map((r) => r.backlog)) / capacity;
  const histograms = {
    send: histogramOfMs(latencySamples(random, samples, sendMedianMs, 500, sendMedianMs * 40)),
    e2e: histogramOfMs(
      latencySamples(random, samples, sendMedianMs * 3, 1, 0).map((v, i) => v + ((i % 97) / 97) * maxBacklogSec * 1000),
    ),
    generatorLag: histogramOfMs(latencySamples(random, samples, 0.08, 1000, 5)),
  };
  const acked = sum(timeline, (r) => r.produced);
  const attempted = sum(timeline, (r) => r.offered);
  const lost = o.lost ?? 0;
  const peakRow = timeline.reduce((a, b) => (b.backlog > a.backlog ? b : a));
  const passed = lost === 0 && ackRatio >= 0.95;
  const failures: string[] = [];
  if (lost > 0) failures.push(`${lost} messages acknowledged and never consumed (lost)`);
  if (ackRatio < 0.95) failures.push(`phase peak: acked ${(ackRatio * 100).toFixed(1)}% of the offered rate, below 95%`);

  const summary: RunSummary = {
    scenario: 'double12',
    flush: o.flush ?? 'sync',
    replication: o.replication ?? 'sync',
    isolation: 'thread',
    durationSec: producingSec,
    targetRate: peakRate,
    startedAt: '2025-12-12T00:00:00.000Z',
    elapsedSec: timeline.length + 0.4,
    messages: {
      attempted,
      acked,
      failed: attempted - acked,
      consumed: acked - lost,
      duplicates: 17,
      lost,
      unackedReceived: 3,
      retried: 0,
      attempts: { ok: acked, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: attempted - acked },
      fromSlave: 0,
    },
    tickets: { allocated: acked, issued: acked - lost, issuedTwice: 0, neverIssued: lost },
    throughput: {
      produceMean: sum(timeline.slice(0, producingSec), (r) => r.produced) / producingSec,
      producePeak: Math.max(...timeline.map((r) => r.produced)),
      consumeMean: sum(timeline, (r) => r.consumed) / timeline.length,
    },
    latencyMs: {
      send: latencySummaryMs(histograms.send),
      e2e: latencySummaryMs(histograms.e2e),
      generatorLag: latencySummaryMs(histograms.generatorLag),
    },
    backlog: { peak: peakRow.backlog, peakAtSec: peakRow.second + 1 },
    phases,
    brokers: [
      { role: 'master', brokerName: 'broker-a', addr: '127.0.0.1:10911', cpuShare: 0.87, writtenOffset: acked * 300, flushCycles: 51_234 },
      { role: 'slave', brokerName: 'broker-a', addr: '127.0.0.1:10921', cpuShare: 0.41, writtenOffset: acked * 300, flushCycles: 48_100 },
    ],
    cpu: [
      { role: 'producer-1', busyShare: 0.62 },
      { role: 'producer-2', busyShare: 0.6 },
      { role: 'consumer-1', busyShare: 0.35 },
      { role: 'broker-master', busyShare: 0.87 },
    ],
    machine: { cpus: 8, cpuModel: 'AMD EPYC 7B13', memoryGiB: 32, node: 'v20.20.0', platform: 'linux' },
    config: {
      queues: 8,
      bodySize: 256,
      producers: 4,
      consumers: 2,
      consumerCapacityPerSec: capacity,
      segmentSize: 1 << 30,
      injectDrop: 0,
      injectDoubleIssue: 0,
      brokerGroups: 1,
      brokerAddrs: ['127.0.0.1:10911'],
    },
    faults: [],
    lossLimit: 0,
    histograms,
    passed,
    failures,
    warnings: o.warnings ?? [],
  };
  return { summary, timeline };
}

/** The four flush x replication modes, as `npm run compare` runs them, with plausible differences. */
export function buildCompareSummaries(): RunSummary[] {
  return [
    buildRunResult({ flush: 'sync', replication: 'sync', sendMedianMs: 2.4, ackRatio: 0.96, seed: 1 }).summary,
    buildRunResult({ flush: 'sync', replication: 'async', sendMedianMs: 1.6, ackRatio: 0.975, seed: 2 }).summary,
    buildRunResult({ flush: 'async', replication: 'sync', sendMedianMs: 1.1, ackRatio: 0.99, seed: 3 }).summary,
    buildRunResult({ flush: 'async', replication: 'async', sendMedianMs: 0.4, ackRatio: 0.999, seed: 4 }).summary,
  ];
}
