// How the HTTP front follows the scenario's rate curve with autocannon. Its
// rate limit is a per-second quota per connection (a connection sends at most
// `rate` requests, then waits for its own one-second timer), fixed for a run;
// the curve changes every second. So every second k of the curve has its
// claims due (dueBySecond) split over all connections of all autocannon
// threads (connectionQuota), and each thread sets its connections' quota at
// every second boundary of the run's clock (restarting their counts, and the
// idle ones: hook-files.ts). A connection with nothing due is blocked with a
// negative quota (autocannon reads 0 as "no limit"). Requests still go out in
// bursts at the start of each second: the quota bounds the rate, it does not
// space the requests.
import { messagesDueAt, type Phase } from '../scenario/index.js';

/** The quota that blocks a connection for the second (autocannon's check is `sent < rate`; 0 would mean unlimited). */
export const BLOCKED_RATE = -1;

/** Claims the curve makes due in each whole second [k, k + 1) of the producing phases (the last second may be partial). */
export function dueBySecond(phases: readonly Phase[]): number[] {
  const end = phases.reduce((s, p) => s + p.durationSec, 0);
  const seconds = Math.ceil(end);
  const out: number[] = [];
  for (let k = 0; k < seconds; k++) out.push(messagesDueAt(phases, Math.min(k + 1, end)) - messagesDueAt(phases, k));
  return out;
}

/**
 * Connection `conn` of `conns`'s share of `due` claims in second `second`:
 * an even split, the remainder going to different connections each second so
 * that no connection is always the one with more. At least 0; BLOCKED_RATE is
 * the caller's to apply for 0. Plain arithmetic only: the autocannon threads
 * run this very function's source (see hook-files.ts).
 */
export function connectionQuota(due: number, second: number, conn: number, conns: number): number {
  const base = Math.floor(due / conns);
  const extra = due - base * conns;
  return base + (((conn + second) % conns) < extra ? 1 : 0);
}

