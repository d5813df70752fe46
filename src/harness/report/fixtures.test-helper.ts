// Test fixtures for the report writers: a realistic, deterministic RunResult
// (a Double-12-shaped run: ramp, peak, cool-down, drain; a backlog that
// builds and drains; real HdrHistograms in microseconds). Excluded from the
// build (tsconfig.build.json) and not a test file itself.
import * as hdr from 'hdr-histogram-js';
import type { BrokerFigures, FaultFigures, FaultKind, PhaseSummary, RunResult, RunSummary, TimelineRow } from '../run-result.js';
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
  /** Faults injected during the run (their effect is written into the timeline); the peak then lasts 60 s. */
  faults?: readonly FixtureFault[];
  /** Master/slave pairs (default 1). */
  brokerGroups?: number;
  /** The loss the scenario allows in this mode (default 0). */
  lossLimit?: number;
}

/** A fault as the fixture injects it: what and when, and how long until the first SEND_OK after it. */
export interface FixtureFault {
  kind: FaultKind;
  atSec: number;
  recoverySec: number | null;
  /** Acknowledged messages the fault destroyed (a power cut in an async mode). */
  lost?: number;
  note?: string;
}

/** What the faults of the README's example do to a two-group run: the master of broker-a is killed, then restarted. */
export const KILL_AND_RESTART: readonly FixtureFault[] = [
  { kind: 'kill-master', atSec: 50, recoverySec: 1.35 },
  { kind: 'restart-master', atSec: 65, recoverySec: 0.42 },
];

/** Faults that take a master down (the producer's sends to it fail until it is back or they go elsewhere). */
const MASTER_DOWN: readonly FaultKind[] = ['kill-master', 'power-loss-master', 'disk-loss-master'];
/** Share of the offered load acknowledged in the seconds after a master goes down. */
const DIP_ACKED = [0.35, 0.7, 1.1] as const;
/** Share of the offered load whose attempt failed in those seconds (each is re-sent). */
const DIP_FAILED = [0.6, 0.2, 0.02] as const;
/** Share of consumption served by a slave while its master is down. */
const FROM_SLAVE_SHARE = 0.5;
/** Duplicate receptions in the seconds after a restart (re-sent batches the broker had stored). */
const RESTART_DUPLICATES = [120, 40] as const;
/** Share of the offered load failing in the second of a restart (connections re-made). */
const RESTART_FAILED = 0.05;

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
  const faults = o.faults ?? [];
  const shapes: PhaseShape[] = [
    { name: 'ramp', durationSec: 10, startRate: 0, endRate: peakRate },
    { name: 'peak', durationSec: faults.length > 0 ? 60 : 20, startRate: peakRate, endRate: peakRate },
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
  const faultFigures = applyFaults(timeline, faults, o.replication ?? 'sync', capacity);
  addSystemFigures(timeline, o.brokerGroups ?? 1, faults, peakRate);
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
  const lost = (o.lost ?? 0) + faults.reduce((n, f) => n + (f.lost ?? 0), 0);
  const lossLimit = o.lossLimit ?? 0;
  const failedAttempts = sum(timeline, (r) => r.failed);
  const peakRow = timeline.reduce((a, b) => (b.backlog > a.backlog ? b : a));
  const passed = lost <= lossLimit && ackRatio >= 0.95;
  const failures: string[] = [];
  if (lost > lossLimit) failures.push(`${lost} messages acknowledged and never consumed (lost)${lossLimit > 0 ? `, above the limit of ${lossLimit}` : ''}`);
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
      duplicates: 17 + sum(timeline, (r) => r.duplicates),
      lost,
      unackedReceived: 3,
      retried: sum(timeline, (r) => r.retried),
      attempts:
        faults.length === 0
          ? { ok: acked, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }
          : {
              ok: acked,
              slaveTimeout: Math.round(failedAttempts * 0.1),
              slaveNotAvailable: Math.round(failedAttempts * 0.05),
              otherStatus: 0,
              error: failedAttempts - Math.round(failedAttempts * 0.1) - Math.round(failedAttempts * 0.05),
            },
      fromSlave: sum(timeline, (r) => r.fromSlave),
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
    brokers: brokerFigures(o.brokerGroups ?? 1, acked),
    cpu: [
      { role: 'master', busyShare: 0.87, cpuUs: Math.round(acked * 9.5), messages: acked, usPerMessage: 9.5 },
      { role: 'slave', busyShare: 0.41, cpuUs: Math.round(acked * 4.25), messages: acked, usPerMessage: 4.25 },
      { role: 'producer 0', busyShare: 0.62, cpuUs: Math.round(acked * 3.1), messages: Math.floor(acked / 2), usPerMessage: 6.2 },
      { role: 'producer 1', busyShare: 0.6, cpuUs: Math.round(acked * 3), messages: Math.ceil(acked / 2), usPerMessage: 6 },
      { role: 'consumer 0', busyShare: 0.35, cpuUs: null, messages: acked - lost, usPerMessage: null },
    ],
    cpuPerMessage: { windowSec: timeline.length, all: null, brokers: 13.75, producers: 6.1, consumers: null },
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
      brokerGroups: o.brokerGroups ?? 1,
      brokerAddrs: brokerFigures(o.brokerGroups ?? 1, acked)
        .filter((b) => b.role === 'master')
        .map((b) => b.addr),
    },
    faults: faultFigures,
    lossLimit,
    histograms,
    passed,
    failures,
    warnings: o.warnings ?? [],
  };
  return { summary, timeline };
}

/** A master and a slave per group, the groups' load shared evenly. */
/**
 * Each second's system figures as the harness's poller gives them: CPU per
 * role following the load, each broker's fdatasync p99, group-commit size,
 * GC, RSS and (a master) slave lag; the master a fault killed (broker-a's)
 * answers nothing from the kill to its restart (a gap), and uses no CPU.
 */
function addSystemFigures(timeline: TimelineRow[], groups: number, faults: readonly FixtureFault[], peakRate: number): void {
  const random = seededRandom(99);
  const kill = faults.find((f) => MASTER_DOWN.includes(f.kind));
  const restart = faults.find((f) => f.kind === 'restart-master');
  const down = (sec: number) => kill !== undefined && sec >= kill.atSec && (restart === undefined || sec < restart.atSec);
  const brokers = Array.from({ length: groups }, (_, g) => `broker-${String.fromCharCode(97 + g)}`).flatMap((name, g) =>
    (['master', 'slave'] as const).map((role) => ({ name: groups > 1 ? `${role} ${name}` : role, role, killable: g === 0 && role === 'master' })),
  );
  for (const r of timeline) {
    const load = r.offered / peakRate;
    r.cpu = {};
    r.brokers = {};
    for (const b of brokers) {
      const isDown = b.killable && down(r.second);
      r.cpu[b.name] = isDown ? 0 : Math.round((0.1 + (b.role === 'master' ? 0.8 : 0.35) * load + 0.02 * random()) * 1000) / 1000;
      r.brokers[b.name] = isDown
        ? null
        : {
            fsyncs: Math.round(300 + 500 * load),
            fsyncP99Ms: load > 0.5 ? (random() < 0.9 ? 3 : 5) : random() < 0.9 ? 1 : 1.5,
            commitGroupBytes: Math.round((r.produced * 300) / (300 + 500 * load) / groups),
            slaveLagBytes: b.role === 'master' ? Math.round(load * 2_000_000 * random()) : null,
            gcMs: Math.round((1 + 12 * load + 2 * random()) * 1000) / 1000,
            rssMb: Math.round((180 + 300 * load) * 10) / 10,
            lagSec: Math.round((0.05 + 2 * load * random()) * 1000) / 1000,
            lagMessages: Math.round(r.backlog / groups),
          };
    }
    for (const w of ['producer 0', 'producer 1', 'consumer 0']) r.cpu[w] = Math.round((0.05 + 0.55 * load + 0.02 * random()) * 1000) / 1000;
  }
}

function brokerFigures(groups: number, acked: number): BrokerFigures[] {
  return Array.from({ length: groups }, (_, g) => {
    const brokerName = `broker-${String.fromCharCode(97 + g)}`;
    const written = Math.round((acked / groups) * 300);
    return [
      { role: 'master', brokerName, addr: `127.0.0.1:${10911 + g * 100}`, cpuShare: 0.87, writtenOffset: written, flushCycles: 51_234 },
      { role: 'slave', brokerName, addr: `127.0.0.1:${10921 + g * 100}`, cpuShare: 0.41, writtenOffset: written, flushCycles: 48_100 },
    ] satisfies BrokerFigures[];
  }).flat();
}

/**
 * Writes the faults' effects into the timeline (a dip in produced with
 * failed attempts and re-sends when a master goes down, reads from its
 * slave until it is back, duplicates after a restart) and returns each
 * fault's figures over its window, as the harness computes them.
 */
function applyFaults(timeline: TimelineRow[], faults: readonly FixtureFault[], replication: ReplicationMode, capacity: number): FaultFigures[] {
  const sorted = [...faults].sort((a, b) => a.atSec - b.atSec);
  const end = timeline.length;
  const row = (sec: number) => timeline.find((r) => r.second === sec);
  sorted.forEach((f) => {
    if (MASTER_DOWN.includes(f.kind)) {
      DIP_ACKED.forEach((share, k) => {
        const r = row(f.atSec + k);
        if (!r) return;
        r.produced = Math.round(r.offered * share);
        r.failed = Math.round(r.offered * DIP_FAILED[k]!);
        r.retried = r.failed;
        r.sendP99Ms = (f.recoverySec ?? 5) * 1000 * (k === 0 ? 1 : 0.6);
      });
    }
  });
  if (sorted.length > 0) {
    // What was not acknowledged was not stored: the consumers and the backlog follow the dip.
    let backlog = 0;
    for (const r of timeline) {
      r.consumed = Math.min(capacity, backlog + r.produced);
      backlog += r.produced - r.consumed;
      r.backlog = backlog;
    }
  }
  sorted.forEach((f, i) => {
    if (MASTER_DOWN.includes(f.kind)) {
      const back = sorted.find((g, j) => j > i && g.kind === 'restart-master')?.atSec ?? end;
      if (replication !== 'none') {
        for (let sec = f.atSec + 1; sec < back; sec++) {
          const r = row(sec);
          if (r) r.fromSlave = Math.round(r.consumed * FROM_SLAVE_SHARE);
        }
      }
    } else if (f.kind === 'restart-master' || f.kind === 'restart-slave') {
      const r = row(f.atSec);
      if (r) {
        r.failed = Math.round(r.offered * RESTART_FAILED);
        r.retried = r.failed;
      }
      RESTART_DUPLICATES.forEach((n, k) => {
        const d = row(f.atSec + k);
        if (d) d.duplicates = n;
      });
    }
  });
  return sorted.map((f, i) => {
    const until = sorted[i + 1]?.atSec ?? end;
    const rows = timeline.filter((r) => r.second >= f.atSec && r.second < until);
    const total = (pick: (r: TimelineRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
    const param = f.kind === 'pause-slave' ? ':5' : '';
    return {
      kind: f.kind,
      spec: `${f.kind}@${f.atSec}${param}`,
      atSec: f.atSec,
      doneAtSec: f.atSec + 0.1,
      target: f.kind === 'kill-consumer' ? 'consumer 1' : `${f.kind.endsWith('slave') ? 'slave' : 'master'} broker-a (pid ${41234 + i})`,
      ...(f.note === undefined ? {} : { note: f.note }),
      untilSec: until,
      failedAttempts: total((r) => r.failed),
      retried: total((r) => r.retried),
      recoverySec: f.recoverySec,
      unavailableSec: rows.filter((r) => r.offered > 0 && r.produced < r.offered / 2).length,
      fromSlave: total((r) => r.fromSlave),
      duplicates: total((r) => r.duplicates),
      lost: f.lost ?? 0,
    };
  });
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

/** Loss the fixture's async modes are allowed under a master power cut. */
export const ASYNC_LOSS_LIMIT = 10_000;

/**
 * `npm run compare -- --fault power-loss-master@60 --fault restart-master@75`:
 * the four modes under a master power cut and its restart; the async flush
 * modes lose what was acknowledged and not yet synced (within their limit).
 */
export function buildFaultedCompareSummaries(): RunSummary[] {
  const faults = (lost: number, recovery: number): FixtureFault[] => [
    { kind: 'power-loss-master', atSec: 60, recoverySec: recovery, lost },
    { kind: 'restart-master', atSec: 75, recoverySec: 0.4 },
  ];
  return [
    buildRunResult({ flush: 'sync', replication: 'sync', sendMedianMs: 2.4, ackRatio: 0.96, seed: 1, faults: faults(0, 16.2) }).summary,
    buildRunResult({ flush: 'sync', replication: 'async', sendMedianMs: 1.6, ackRatio: 0.975, seed: 2, faults: faults(0, 15.8) }).summary,
    buildRunResult({ flush: 'async', replication: 'sync', sendMedianMs: 1.1, ackRatio: 0.99, seed: 3, faults: faults(0, 15.9), lossLimit: ASYNC_LOSS_LIMIT }).summary,
    buildRunResult({ flush: 'async', replication: 'async', sendMedianMs: 0.4, ackRatio: 0.999, seed: 4, faults: faults(1_834, 15.5), lossLimit: ASYNC_LOSS_LIMIT }).summary,
  ];
}
