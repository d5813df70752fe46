// Where a run's seconds went inside the system under test: from readings
// the harness takes once a second (every role's CPU time, every broker's
// BROKER_STATS runtime block and replication lag), each second's CPU share
// per role, and per broker its fdatasync cycles (count, p99, mean bytes per
// cycle: the group commit's size), GC pause, slave lag and RSS. A broker that
// did not answer at the end of a second (down, paused) gives that second no
// figures; one that did not answer at its start, or whose counters went back
// (it restarted), gives no figures that need the difference.
import { syncLatencyQuantileUs } from '../../store/index.js';
import type { BrokerSecond, TimelineRow } from '../run-result.js';

/** What one broker said at one reading: its runtime counters (absent from an older broker) and, a master, its slave's lag. */
export interface BrokerReading {
  /** When its answer came (s since the sale's t = 0): its counters are as of then. */
  atSec: number;
  rssBytes: number | undefined;
  gcPauseUs: number | undefined;
  syncCycles: number | undefined;
  syncBytes: number | undefined;
  syncLatencyBuckets: readonly number[] | undefined;
  /** A master's view of its slave (undefined: a slave, or no replication). */
  slaveLagBytes: number | undefined;
  /** The broker's own consumer lag (monitor block): the worst client group's age of its oldest unconsumed message (ms), and the summed messages; undefined from a broker without the block. */
  lagMs?: number | undefined;
  lagMessages?: number | undefined;
  /** The broker's own message rates (monitor block: stored, and delivered to consumers, per second over its last interval). */
  msgsInPerSec?: number | undefined;
  msgsOutPerSec?: number | undefined;
}

/** One reading of the whole system, about once a second. */
export interface SystemSample {
  /** Seconds since the sale's t = 0. */
  atSec: number;
  /** Each role's CPU time so far (µs; undefined: could not be read), by role name. */
  cpuUs: Record<string, number | undefined>;
  /** Each broker's reading by role name ('master', 'slave broker-b'); undefined: it did not answer. */
  brokers: Record<string, BrokerReading | undefined>;
}

/** Readings closer together than this give no rates (a late poll right before the next). */
const MIN_INTERVAL_SEC = 0.2;
const US_PER_S = 1e6;
const US_PER_MS = 1000;
const MS_PER_S = 1000;
const BYTES_PER_MB = 2 ** 20;
const SYNC_P99 = 0.99;
const SHARE_DIGITS = 3;
const MS_DIGITS = 3;

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** b − a of a counter, or null when either is missing or it went back (a restart). */
function delta(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b < a ? null : b - a;
}

/** One broker's figures from reading a to reading b (rates per second of the time between their answers). */
export function brokerSecond(start: BrokerReading | undefined, b: BrokerReading | undefined): BrokerSecond | null {
  if (b === undefined) return null;
  // Answers too close together give no rates.
  const a = start !== undefined && b.atSec - start.atSec >= MIN_INTERVAL_SEC ? start : undefined;
  const sec = a === undefined ? 1 : b.atSec - a.atSec;
  const cycles = a === undefined ? null : delta(a.syncCycles, b.syncCycles);
  const bytes = a === undefined ? null : delta(a.syncBytes, b.syncBytes);
  let p99: number | null = null;
  if (cycles !== null && cycles > 0 && a?.syncLatencyBuckets !== undefined && b.syncLatencyBuckets !== undefined && a.syncLatencyBuckets.length === b.syncLatencyBuckets.length) {
    const diff = b.syncLatencyBuckets.map((c, i) => c - a.syncLatencyBuckets![i]!);
    if (diff.every((d) => d >= 0)) p99 = (syncLatencyQuantileUs(diff, SYNC_P99) ?? 0) / US_PER_MS;
  }
  const gcUs = a === undefined ? null : delta(a.gcPauseUs, b.gcPauseUs);
  return {
    fsyncs: cycles === null ? null : Math.round(cycles / sec),
    fsyncP99Ms: p99,
    commitGroupBytes: cycles !== null && cycles > 0 && bytes !== null ? Math.round(bytes / cycles) : null,
    slaveLagBytes: b.slaveLagBytes ?? null,
    gcMs: gcUs === null ? null : round(gcUs / US_PER_MS / sec, MS_DIGITS),
    rssMb: b.rssBytes === undefined ? null : round(b.rssBytes / BYTES_PER_MB, 1),
    lagSec: b.lagMs === undefined ? null : round(b.lagMs / MS_PER_S, MS_DIGITS),
    lagMessages: b.lagMessages ?? null,
    inPerSec: b.msgsInPerSec ?? null,
    outPerSec: b.msgsOutPerSec ?? null,
  };
}

/**
 * The timeline with each second's system figures: the readings at (about)
 * the second's start and end, as rates per second. A second without such a
 * pair of readings keeps its row as it was (empty cells).
 */
export function addSystemSeconds(rows: readonly TimelineRow[], samples: readonly SystemSample[]): TimelineRow[] {
  const bySecond = new Map<number, { cpu: Record<string, number | null>; brokers: Record<string, BrokerSecond | null> }>();
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const sec = b.atSec - a.atSec;
    const second = Math.round(a.atSec);
    if (sec < MIN_INTERVAL_SEC || bySecond.has(second)) continue;
    const cpu: Record<string, number | null> = {};
    for (const role of Object.keys(b.cpuUs)) {
      const d = delta(a.cpuUs[role], b.cpuUs[role]);
      cpu[role] = d === null ? null : round(d / US_PER_S / sec, SHARE_DIGITS);
    }
    const brokers: Record<string, BrokerSecond | null> = {};
    for (const role of Object.keys(b.brokers)) brokers[role] = brokerSecond(a.brokers[role], b.brokers[role]);
    bySecond.set(second, { cpu, brokers });
  }
  return rows.map((r) => {
    const s = bySecond.get(r.second);
    return s === undefined ? r : { ...r, cpu: s.cpu, brokers: s.brokers };
  });
}
