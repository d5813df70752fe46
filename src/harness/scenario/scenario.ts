// The scenario model: what a load run offers (a rate curve made of phases),
// what the system under test looks like (flush, replication, isolation), how
// fast the consumer side can work, and the thresholds that decide pass/fail.
// Scenarios themselves live in scenarios/<name>.ts; this file holds only the
// types and the pure arithmetic on them (scaling, rates, message counts).
import type { FaultSpec } from './fault-spec.js';

export type FlushMode = 'sync' | 'async';
export type ReplicationMode = 'sync' | 'async' | 'none';
/** Where the brokers and the name server run: worker threads of the harness, or child processes (can be SIGKILLed). */
export type Isolation = 'thread' | 'process';
/** Who plays the users: the harness's open-loop producer threads, or autocannon over HTTP against the activity service. */
export type Front = 'producers' | 'http';
/** A flush/replication pair as the loss limits name it: `sync/sync`, `async/none`, ... */
export type ModeName = `${FlushMode}/${ReplicationMode}`;

/** One stretch of the rate curve: the offered rate goes linearly from startRate to endRate. */
export interface Phase {
  name: string;
  durationSec: number;
  /** msg/s offered at the phase's first instant. */
  startRate: number;
  /** msg/s offered at its last instant. */
  endRate: number;
}

export interface Thresholds {
  /**
   * Phases whose acknowledged rate must reach `minAckedRatio` of their
   * offered mean rate (the acknowledgements that arrive within the phase).
   */
  ackedRatePhases: readonly string[];
  minAckedRatio: number;
  /** Send p99 (intended send to acknowledgement) over `latencyPhases`, if bounded. */
  maxSendP99Ms?: number;
  /** End-to-end p99 over `latencyPhases`, if bounded (a backlog scenario leaves it open). */
  maxE2eP99Ms?: number;
  /**
   * The phases the latency bounds judge (answers and receptions within them);
   * default every phase and the drain. A warm-up phase exists to warm the JIT,
   * the connections and the page cache: leave it out.
   */
  latencyPhases?: readonly string[];
  /**
   * Acknowledged messages a run may lose, per mode (default 0 in every mode):
   * a mode that promises less states its honest cost here, and passes or
   * fails by it. sync/sync must stay 0. Scaled with the rate by --rate.
   */
  maxLost?: Readonly<Partial<Record<ModeName, number>>>;
  /** Bounds on the HTTP side, judged only when the front is http. */
  http?: HttpThresholds;
}

/** What an HTTP-front run must meet beyond zero loss (each optional). */
export interface HttpThresholds {
  /** Claims answered 503 over claims answered, at most (0..1). */
  max503Share?: number;
  /** Response time p99 (autocannon's, closed loop) at most this many ms. */
  maxResponseP99Ms?: number;
  /** Claims answered over claims the curve offered, at least (0..1): how far the closed loop may fall behind. */
  minAchievedRatio?: number;
}

/** The HTTP front's load generator (autocannon) and the activity service it calls. */
export interface HttpFront {
  /** autocannon's connections over all its threads: closed loop, this many concurrent users. */
  connections: number;
  /** autocannon worker threads; 0 sizes it to the machine (half the cores). */
  workers: number;
  /** Activity service worker processes; 0: the service's default (every core). */
  serviceWorkers: number;
  /** A request unanswered this long counts as a timeout (autocannon drops the connection and reconnects). */
  timeoutSec: number;
}

export const HTTP_FRONT_DEFAULTS: HttpFront = { connections: 256, workers: 0, serviceWorkers: 0, timeoutSec: 20 };
/**
 * `--front http` on a scenario written for the producers, without --rate:
 * its peak becomes this (claims/s), what HTTP carries on a 2-core machine
 * with the whole system on it (docs/BENCHMARKS.md).
 */
export const HTTP_DEFAULT_PEAK_RATE = 3000;

export interface Scenario {
  name: string;
  /** One line for --help and reports. */
  description: string;
  topic: string;
  queues: number;
  /** Body bytes per message (the claim record the activity system writes). */
  bodySize: number;
  /** The producing phases, in order. The drain follows them. */
  phases: readonly Phase[];
  /** After the last producing phase: wait until every acknowledged message is consumed, at most this long. */
  drainTimeoutSec: number;
  consumer: {
    /** Lottery system capacity over all consumer workers (msg/s of simulated work). */
    capacityPerSec: number;
    workers: number;
  };
  producer: {
    /** Producer workers (a piscina pool); 0 sizes it to the machine. */
    workers: number;
    /** The generator sends what is due every `tickMs`, in batches of at most `batchMax` per queue send. */
    tickMs: number;
    batchMax: number;
  };
  topology: {
    flush: FlushMode;
    replication: ReplicationMode;
    isolation: Isolation;
    /** CommitLog segment size of each broker. */
    segmentSize: number;
    /** Master/slave pairs behind the name server (broker-a, broker-b, ...); default 1. */
    brokerGroups?: number;
  };
  /** Faults injected during the run, at their seconds (default none). */
  faults?: readonly FaultSpec[];
  /** Who plays the users (default producers). */
  front?: Front;
  /** The HTTP front's settings (defaults HTTP_FRONT_DEFAULTS); used when front is http. */
  http?: Partial<HttpFront>;
  thresholds: Thresholds;
}

/** What the command line may override (the documented options: --duration, --rate, --flush, ...). */
export interface ScenarioOverrides {
  /** Total length of the producing phases (s), each phase scaled in proportion. */
  durationSec?: number;
  /** The highest rate of the curve becomes this; every rate is scaled by the same factor. */
  rate?: number;
  flush?: FlushMode;
  replication?: ReplicationMode;
  isolation?: Isolation;
  queues?: number;
  consumers?: number;
  producers?: number;
  brokerGroups?: number;
  /** Replace the scenario's own faults (an empty list runs it without any); at the times given, not scaled. */
  faults?: readonly FaultSpec[];
  /** Who plays the users; switching a producers scenario to http without `rate` scales its peak to HTTP_DEFAULT_PEAK_RATE. */
  front?: Front;
  /** autocannon's connections (closed-loop users) of the HTTP front. */
  connections?: number;
}

export function producingSeconds(s: Scenario): number {
  return s.phases.reduce((sum, p) => sum + p.durationSec, 0);
}

export function peakRate(s: Scenario): number {
  return s.phases.reduce((m, p) => Math.max(m, p.startRate, p.endRate), 0);
}

/** A new scenario with the overrides applied (the input is not changed). */
export function applyOverrides(s: Scenario, o: ScenarioOverrides): Scenario {
  const timeScale = o.durationSec === undefined ? 1 : o.durationSec / producingSeconds(s);
  const peak = peakRate(s);
  const toHttp = o.front === 'http' && frontOf(s) !== 'http';
  const rate = o.rate ?? (toHttp ? Math.min(peak, HTTP_DEFAULT_PEAK_RATE) : undefined);
  const rateScale = rate === undefined || peak === 0 ? 1 : rate / peak;
  // The consumer's capacity is part of the curve's shape (the backlog it builds): it scales with the rate.
  return {
    ...s,
    queues: o.queues ?? s.queues,
    ...(o.front !== undefined ? { front: o.front } : {}),
    ...(o.connections !== undefined ? { http: { ...s.http, connections: o.connections } } : {}),
    phases: s.phases.map((p) => ({
      name: p.name,
      durationSec: p.durationSec * timeScale,
      startRate: p.startRate * rateScale,
      endRate: p.endRate * rateScale,
    })),
    consumer: {
      capacityPerSec: s.consumer.capacityPerSec * rateScale,
      workers: o.consumers ?? s.consumer.workers,
    },
    producer: { ...s.producer, workers: o.producers ?? s.producer.workers },
    // What a mode may lose is stated for the scenario's own rate: at another rate, in proportion.
    ...(s.thresholds.maxLost !== undefined && rateScale !== 1
      ? { thresholds: { ...s.thresholds, maxLost: Object.fromEntries(Object.entries(s.thresholds.maxLost).map(([m, n]) => [m, Math.round(n * rateScale)])) } }
      : {}),
    topology: {
      ...s.topology,
      flush: o.flush ?? s.topology.flush,
      replication: o.replication ?? s.topology.replication,
      isolation: o.isolation ?? s.topology.isolation,
      ...(o.brokerGroups !== undefined ? { brokerGroups: o.brokerGroups } : {}),
    },
    // The scenario's own faults sit on its curve and scale with it; the command line's are taken as given.
    ...(o.faults !== undefined ? { faults: o.faults } : s.faults !== undefined ? { faults: s.faults.map((f) => ({ ...f, atSec: f.atSec * timeScale })) } : {}),
  };
}

export function frontOf(s: Scenario): Front {
  return s.front ?? 'producers';
}

/** The HTTP front's settings with the defaults filled in. */
export function httpFront(s: Scenario): HttpFront {
  return { ...HTTP_FRONT_DEFAULTS, ...s.http };
}

export function brokerGroups(s: Scenario): number {
  return s.topology.brokerGroups ?? 1;
}

export function modeName(s: Scenario): ModeName {
  return `${s.topology.flush}/${s.topology.replication}`;
}

/** The acknowledged messages this scenario may lose in its mode. */
export function lossLimit(s: Scenario): number {
  return s.thresholds.maxLost?.[modeName(s)] ?? 0;
}

/** Messages offered from the start of the curve up to `tSec` (the integral of the rate). */
export function messagesDueAt(phases: readonly Phase[], tSec: number): number {
  let total = 0;
  let start = 0;
  for (const p of phases) {
    if (tSec <= start) break;
    const t = Math.min(tSec - start, p.durationSec);
    const slope = p.durationSec === 0 ? 0 : (p.endRate - p.startRate) / p.durationSec;
    total += p.startRate * t + (slope * t * t) / 2;
    start += p.durationSec;
  }
  return Math.floor(total);
}

/** Offered rate (msg/s) at `tSec`; 0 after the curve. */
export function rateAt(phases: readonly Phase[], tSec: number): number {
  let start = 0;
  for (const p of phases) {
    if (tSec < start + p.durationSec) {
      const f = p.durationSec === 0 ? 0 : (tSec - start) / p.durationSec;
      return p.startRate + (p.endRate - p.startRate) * f;
    }
    start += p.durationSec;
  }
  return 0;
}

/** The phase running at `tSec` (the drain after the curve). */
export function phaseAt(phases: readonly Phase[], tSec: number): string {
  let start = 0;
  for (const p of phases) {
    if (tSec < start + p.durationSec) return p.name;
    start += p.durationSec;
  }
  return DRAIN_PHASE;
}

export const DRAIN_PHASE = 'drain';

/**
 * When message `n` (0-based, over the whole curve) is due: the instant the
 * integral of the rate reaches n + 1 (s from the start). Infinity past the curve.
 */
export function timeOfMessage(phases: readonly Phase[], n: number): number {
  const target = n + 1;
  let before = 0;
  let start = 0;
  for (const p of phases) {
    const slope = p.durationSec === 0 ? 0 : (p.endRate - p.startRate) / p.durationSec;
    const inPhase = p.startRate * p.durationSec + (slope * p.durationSec * p.durationSec) / 2;
    if (before + inPhase >= target) {
      const need = target - before;
      // Solve startRate*t + slope*t^2/2 = need for the first t >= 0, in the form that
      // does not cancel when the slope is tiny: t = 2*need / (r0 + sqrt(r0^2 + 2*slope*need)).
      const t = (2 * need) / (p.startRate + Math.sqrt(Math.max(0, p.startRate * p.startRate + 2 * slope * need)));
      return start + Math.min(p.durationSec, Math.max(0, t));
    }
    before += inPhase;
    start += p.durationSec;
  }
  return Infinity;
}
