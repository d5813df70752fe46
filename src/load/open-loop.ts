// An open-loop load generator: messages are due on a schedule, whatever the
// system under test does, and each message's latency counts from when it was
// due (its intended send time), so a stalled broker shows up as latency, not
// as a lower offered rate (no coordinated omission). Every `tickMs` the
// generator hands what is due to `send` in chunks of at most `batchMax`; how
// late it was against the schedule goes to `onLag`, so that a slow generator
// is visible instead of hidden.
import { nowUs, sleep } from './clock.js';

export interface OpenLoopSchedule {
  /** Messages this generator sends in all. */
  total: number;
  /** Messages due by `tSec` seconds after the start (non-decreasing, at most total). */
  dueAt(tSec: number): number;
  /** When message `seq` (0-based) is due, seconds after the start. */
  intendedSec(seq: number): number;
}

export interface OpenLoopOptions {
  schedule: OpenLoopSchedule;
  /** Shared-clock µs of t = 0. */
  startUs: number;
  tickMs: number;
  batchMax: number;
  /**
   * Messages [first, first + count) go out now; the first was due at
   * `firstUs`, the last at `lastUs` (those between, evenly between).
   */
  send(first: number, count: number, firstUs: number, lastUs: number): void;
  /** Once per tick that had something due: how late the oldest due message is (µs, >= 0). */
  onLag(lateUs: number): void;
  /** Stop early (the run was aborted). */
  stopped?(): boolean;
  /**
   * How many more messages may go out now (bounds what waits for an answer,
   * so that a stalled system cannot fill the generator's memory). What is
   * held back stays due: it goes out late, and its latency still counts from
   * its intended time.
   */
  room?(): number;
}

/** Resolves once every message of the schedule was handed to `send` (not answered). */
export async function runOpenLoop(o: OpenLoopOptions): Promise<void> {
  const { schedule, startUs } = o;
  const wait = startUs - nowUs();
  if (wait > 0) await sleep(wait / 1000);
  let sent = 0;
  while (sent < schedule.total && o.stopped?.() !== true) {
    const now = nowUs();
    const due = Math.min(schedule.total, schedule.dueAt((now - startUs) / 1e6), sent + (o.room?.() ?? Infinity));
    if (due > sent) {
      o.onLag(Math.max(0, now - (startUs + schedule.intendedSec(sent) * 1e6)));
      while (sent < due) {
        const count = Math.min(o.batchMax, due - sent);
        o.send(sent, count, startUs + schedule.intendedSec(sent) * 1e6, startUs + schedule.intendedSec(sent + count - 1) * 1e6);
        sent += count;
      }
    }
    await sleep(o.tickMs);
  }
}

/** A constant rate: message k is due k / rate seconds after the start (the benchmarks' fixed-rate phases). */
export function constantRateSchedule(rate: number, total: number): OpenLoopSchedule {
  return { total, dueAt: (t) => Math.min(total, Math.floor(t * rate) + 1), intendedSec: (k) => k / rate };
}
