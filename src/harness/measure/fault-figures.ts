// What each injected fault cost, from the run's seconds and the verifier:
// a fault's window runs from it to the next fault (or the run's end), and
// its figures are the failed and re-sent sends, duplicates and slave reads
// within it, the seconds that acknowledged less than half the offered rate,
// the time to the first SEND_OK of a send started after it, and the lost
// messages due within its window (the first fault's window reaching back to
// the start, the last one's to the end, so that every lost message is
// counted once: a power cut destroys what came before it, and a restart on
// a shortened log can lose what comes after).
import type { FaultFigures, TimelineRow } from '../run-result.js';
import { timeOfMessage, type FaultSpec, type Phase } from '../scenario/index.js';
import { ACK_OK, type SharedRunState } from '../workers/index.js';

export interface FaultOutcome {
  spec: FaultSpec;
  doneAtSec: number | null;
  target: string;
  note?: string;
}

export interface FaultFiguresInput {
  /** In time order, as carried out. */
  faults: readonly FaultOutcome[];
  timeline: readonly TimelineRow[];
  /** Per fault carried out, in order: seconds from the run's start of the first SEND_OK of a send started at or after it (null: none). */
  firstAckAfterSec: readonly (number | null)[];
  /** Intended send times (s from the start) of the lost messages. */
  lostAtSec: readonly number[];
  /** The run's end (s from the start). */
  endSec: number;
}

/** A second counts as unavailable when it acknowledged less than this share of what it offered. */
export const UNAVAILABLE_BELOW = 0.5;
const MS_DIGITS = 1000;

function round3(n: number): number {
  return Math.round(n * MS_DIGITS) / MS_DIGITS;
}

export function faultFigures(x: FaultFiguresInput): FaultFigures[] {
  const at = (f: FaultOutcome): number => f.doneAtSec ?? f.spec.atSec;
  return x.faults.map((f, k) => {
    const from = at(f);
    const next = x.faults[k + 1];
    const until = Math.max(from, next === undefined ? x.endSec : at(next));
    // Every lost message goes to one fault: the first takes those before it too, the last those after it.
    const lostFrom = k === 0 ? -Infinity : from;
    const lostUntil = next === undefined ? Infinity : at(next);
    // Row `second` covers [second, second + 1): each row goes to one window, the one its fault's second starts;
    // the last window runs to the end of the run.
    const last = next === undefined ? Math.ceil(until) : Math.floor(until);
    const rows = x.timeline.filter((r) => r.second >= Math.floor(from) && r.second < last);
    const sum = (g: (r: TimelineRow) => number): number => rows.reduce((a, r) => a + g(r), 0);
    const first = x.firstAckAfterSec[k] ?? null;
    const figures: FaultFigures = {
      kind: f.spec.kind,
      spec: f.spec.text,
      atSec: f.spec.atSec,
      doneAtSec: f.doneAtSec,
      target: f.target,
      untilSec: round3(until),
      failedAttempts: sum((r) => r.failed),
      retried: sum((r) => r.retried),
      recoverySec: f.doneAtSec === null || first === null ? null : round3(Math.max(0, first - f.doneAtSec)),
      unavailableSec: rows.filter((r) => r.offered > 0 && r.produced < r.offered * UNAVAILABLE_BELOW).length,
      fromSlave: sum((r) => r.fromSlave),
      duplicates: sum((r) => r.duplicates),
      lost: x.lostAtSec.filter((t) => t >= lostFrom && t < lostUntil).length,
    };
    if (f.note !== undefined) figures.note = f.note;
    return figures;
  });
}

/** Intended send times (s from the start) of the messages acknowledged and never received. */
export function lostMessageTimes(shared: SharedRunState, totalMessages: number, phases: readonly Phase[]): number[] {
  const acked = new Uint8Array(shared.acked);
  const received = new Uint8Array(shared.received);
  const out: number[] = [];
  for (let i = 0; i < totalMessages; i++) if (acked[i] === ACK_OK && received[i] === 0) out.push(timeOfMessage(phases, i));
  return out;
}
