// Where the CPU went, per role: each broker (master and slave of every
// group), each producer worker and each consumer worker. From two readings of
// every role's busy time and CPU time, it gives the busy share over the sale
// (its start to the producers' last answer) and the CPU time per message over
// the messages' whole life (the sale's start to the drain's end, when every
// acknowledged message had been consumed): per acknowledged message for a
// broker and a producer (each producer its own), per received message for
// each consumer (its own).
import type { CpuFigure, CpuPerMessage } from '../run-result.js';

/** One role's busy time (ms: event-loop active time of a thread, CPU time of a process) and CPU time (µs; undefined when it cannot be read). */
export interface RoleActivity {
  role: string;
  activeMs: number;
  cpuUs: number | undefined;
}

/** Busy and CPU time of every role at one instant (`at`: performance.now() ms). */
export interface ActivitySnapshot {
  at: number;
  activity: RoleActivity[];
}

export interface CpuFiguresInput {
  saleStart: ActivitySnapshot;
  saleEnd: ActivitySnapshot;
  /** The drain's end (or where the run stopped). */
  drainEnd: ActivitySnapshot;
  /** Messages acknowledged over the run (a broker's and the producers' denominator). */
  acked: number;
  /** Messages each producer had acknowledged, by role name ('producer 0'). */
  producerAcked: ReadonlyMap<string, number>;
  /** Messages each consumer received, by role name ('consumer 0'). */
  consumerReceived: ReadonlyMap<string, number>;
}

/** Busy shares are given to 3 decimals, µs per message to 2. */
const SHARE_DIGITS = 3;
const US_PER_MESSAGE_DIGITS = 2;
const MS_PER_S = 1000;

export type RoleKind = 'broker' | 'producer' | 'consumer';

/** What a role is, from its name: 'producer 3', 'consumer 0', else a broker ('master', 'slave broker-b'). */
export function roleKind(role: string): RoleKind {
  if (role.startsWith('producer')) return 'producer';
  if (role.startsWith('consumer')) return 'consumer';
  return 'broker';
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function perMessage(cpuUs: number | null, messages: number): number | null {
  return cpuUs === null || messages <= 0 ? null : round(cpuUs / messages, US_PER_MESSAGE_DIGITS);
}

/** CPU time a role used between two snapshots; null when either reading is missing or it went backwards. */
function cpuBetween(role: string, start: ActivitySnapshot, end: ActivitySnapshot): number | null {
  const a = start.activity.find((r) => r.role === role)?.cpuUs;
  const b = end.activity.find((r) => r.role === role)?.cpuUs;
  return a === undefined || b === undefined || b < a ? null : Math.round(b - a);
}

/** Each role's busy share over the sale and CPU per message over the sale and the drain, in the snapshots' order (brokers, then the workers). */
export function cpuFigures(x: CpuFiguresInput): CpuFigure[] {
  const saleMs = Math.max(1, x.saleEnd.at - x.saleStart.at);
  return x.saleEnd.activity.map((a) => {
    const busyMs = a.activeMs - (x.saleStart.activity.find((b) => b.role === a.role)?.activeMs ?? 0);
    const cpuUs = cpuBetween(a.role, x.saleStart, x.drainEnd);
    const kind = roleKind(a.role);
    const messages = kind === 'broker' ? x.acked : kind === 'producer' ? (x.producerAcked.get(a.role) ?? 0) : (x.consumerReceived.get(a.role) ?? 0);
    return { role: a.role, busyShare: round(busyMs / saleMs, SHARE_DIGITS), cpuUs, messages, usPerMessage: perMessage(cpuUs, messages) };
  });
}

/** The run's CPU per acknowledged message, all roles together and by kind; null where a role's CPU could not be read. */
export function cpuPerMessage(figures: readonly CpuFigure[], acked: number, windowMs: number): CpuPerMessage {
  const total = (kind?: RoleKind): number | null => {
    const roles = figures.filter((f) => kind === undefined || roleKind(f.role) === kind);
    if (roles.length === 0 || roles.some((f) => f.cpuUs === null || f.cpuUs === undefined)) return null;
    return roles.reduce((s, f) => s + (f.cpuUs ?? 0), 0);
  };
  return {
    windowSec: round(windowMs / MS_PER_S, SHARE_DIGITS),
    all: perMessage(total(), acked),
    brokers: perMessage(total('broker'), acked),
    producers: perMessage(total('producer'), acked),
    consumers: perMessage(total('consumer'), acked),
  };
}
