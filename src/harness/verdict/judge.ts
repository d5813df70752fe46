// The run's verdict, apart from the run (as k6 evaluates its thresholds): it
// weighs the figures a run measured against what every run must hold (it
// ended, nothing acknowledged was lost, every ticket issued once, no send
// failed, the backlog drained) and the scenario's own thresholds (acknowledged
// share of the offered rate per phase, send and end-to-end p99 bounds). Each
// check gives the reason it failed in a sentence; warnings do not fail a run.
import { createMergeHistogram } from '../../load/index.js';
import type { RunFigures } from '../measure/index.js';
import { latencySummaryMs } from '../report/index.js';
import type { Thresholds } from '../scenario/index.js';

export interface RunVerdict {
  passed: boolean;
  /** Why the run failed, one sentence each; empty when it passed. */
  failures: string[];
  /** What a reader should know that does not fail the run. */
  warnings: string[];
}

/** A generator later than this at p99 did not offer the curve it claims: said in the summary. */
export const GENERATOR_LAG_WARN_MS = 50;
const SIGNIFICANT_DIGITS_MS = 3;
/** Below this, milliseconds are said with 3 significant digits; above, as whole numbers. */
const WHOLE_MS_FROM = 100;
const PERCENT = 100;

/** Milliseconds for a sentence: 3 significant digits below 100, whole numbers with separators above. */
function ms(v: number): string {
  return v < WHOLE_MS_FROM ? String(Number(v.toPrecision(SIGNIFICANT_DIGITS_MS))) : Math.round(v).toLocaleString('en-US');
}

/** The step that failed stopped the run early: every figure after it is partial. */
function stepFailure(f: RunFigures): string[] {
  const s = f.end.failedStep;
  return s === undefined ? [] : [`the run stopped at step "${s.step}": ${s.message}`];
}

/** Aborted, or a step failed: what the run did not get to do is not held against it. */
function stoppedEarly(f: RunFigures): boolean {
  return f.end.aborted || f.end.failedStep !== undefined;
}

function abort(f: RunFigures): string[] {
  return f.end.aborted ? ['the run was aborted before it finished'] : [];
}

/** Every acknowledged message was received, or as many as the mode's loss limit were not (sync/sync: 0). */
function loss(f: RunFigures): string[] {
  const lost = f.summary.messages.lost;
  if (lost === 0) return [];
  const mode = `${f.summary.flush}/${f.summary.replication}`;
  const limit = f.summary.lossLimit;
  if (lost <= limit && !stoppedEarly(f)) return [];
  if (f.end.aborted) return [`${lost} acknowledged message(s) were not consumed before the abort (not verified)`];
  if (f.end.failedStep !== undefined) return [`${lost} acknowledged message(s) were not consumed before the run stopped (not verified)`];
  const eg = f.lostSamples.map((l) => `message ${l.index} (user ${l.userId})`).join(', ');
  const beyond = limit > 0 ? ` (the scenario allows ${limit} in ${mode})` : '';
  return [`lost ${lost} acknowledged message(s) that no consumer received${beyond}, e.g. ${eg}`];
}

/** The business check: every allocated ticket issued exactly once. */
function tickets(f: RunFigures): string[] {
  const t = f.summary.tickets;
  const out: string[] = [];
  if (t.issuedTwice > 0) out.push(`${t.issuedTwice} ticket(s) issued twice`);
  // A lost claim's ticket is never issued: within the mode's loss limit, the loss check speaks for both.
  if (t.neverIssued > f.summary.lossLimit && !stoppedEarly(f)) out.push(`${t.neverIssued} allocated ticket(s) never issued`);
  return out;
}

function drain(f: RunFigures): string[] {
  const e = f.end;
  return !e.drained && !stoppedEarly(f) ? [`the consumers did not catch up within the drain timeout (${e.drainTimeoutSec} s); backlog ${e.backlogLeft}`] : [];
}

function failedSends(f: RunFigures): string[] {
  const failed = f.summary.messages.failed;
  if (failed === 0) return [];
  const errs = f.sends.errors.join('; ');
  return [`${failed} claim(s) never acknowledged although re-sent until the run ended (SLAVE_TIMEOUT ${f.sends.slaveTimeout}, SLAVE_NOT_AVAILABLE ${f.sends.slaveNotAvailable}${errs === '' ? '' : `; ${errs}`})`];
}

/** Threshold: the named phases acknowledged at least minAckedRatio of what they offered. */
function ackedRate(f: RunFigures, t: Thresholds): string[] {
  const out: string[] = [];
  for (const name of t.ackedRatePhases) {
    const ph = f.summary.phases.find((p) => p.name === name);
    if (ph === undefined) continue;
    const ratio = ph.offeredRate === 0 ? 1 : ph.ackedRate / ph.offeredRate;
    if (ratio < t.minAckedRatio) {
      out.push(
        `phase ${name}: acknowledged ${ph.ackedRate.toLocaleString('en-US')} msg/s of ${ph.offeredRate.toLocaleString('en-US')} offered ` +
          `(${(ratio * PERCENT).toFixed(1)}%, below ${(t.minAckedRatio * PERCENT).toFixed(0)}%)`,
      );
    }
  }
  return out;
}

/** p99 of send and end-to-end latency over the phases the thresholds judge (default all, the drain too). */
function judgedP99Ms(f: RunFigures, t: Thresholds): { send: number; e2e: number } {
  const judged = new Set(t.latencyPhases ?? f.phaseLatency.map((p) => p.name));
  const send = createMergeHistogram();
  const e2e = createMergeHistogram();
  for (const p of f.phaseLatency) {
    if (!judged.has(p.name)) continue;
    send.add(p.send);
    e2e.add(p.e2e);
  }
  return { send: latencySummaryMs(send).p99, e2e: latencySummaryMs(e2e).p99 };
}

/** Thresholds: send and end-to-end p99 bounds, where the scenario sets them. */
function latency(f: RunFigures, t: Thresholds): string[] {
  if (t.maxSendP99Ms === undefined && t.maxE2eP99Ms === undefined) return [];
  const over = t.latencyPhases === undefined ? '' : ` (phases ${t.latencyPhases.join(', ')})`;
  const p99 = judgedP99Ms(f, t);
  const out: string[] = [];
  if (t.maxSendP99Ms !== undefined && p99.send > t.maxSendP99Ms) out.push(`send p99${over} ${ms(p99.send)} ms is above ${t.maxSendP99Ms} ms`);
  if (t.maxE2eP99Ms !== undefined && p99.e2e > t.maxE2eP99Ms) out.push(`end-to-end p99${over} ${ms(p99.e2e)} ms is above ${t.maxE2eP99Ms} ms`);
  return out;
}

/**
 * The HTTP front (HTTP runs only): no claim answered other than 200 or 503
 * (a 400 or 500 is the service's or the harness's bug), and the scenario's
 * bounds on the 503 share, the response p99 and the achieved rate.
 */
function http(f: RunFigures, t: Thresholds, judged: boolean): string[] {
  const h = f.summary.http;
  if (h === undefined) return [];
  const out: string[] = [];
  if (h.status.other > 0) out.push(`${h.status.other} claim(s) answered neither 200 nor 503 by the activity service`);
  const b = t.http;
  if (b === undefined || !judged) return out;
  if (b.max503Share !== undefined && h.unavailableShare > b.max503Share) {
    out.push(`${(h.unavailableShare * PERCENT).toFixed(2)}% of the claims answered were 503 (${h.status.unavailable}), above ${(b.max503Share * PERCENT).toFixed(2)}%`);
  }
  if (b.maxResponseP99Ms !== undefined && h.responseMs.p99 > b.maxResponseP99Ms) out.push(`HTTP response p99 ${ms(h.responseMs.p99)} ms (${h.label}) is above ${b.maxResponseP99Ms} ms`);
  if (b.minAchievedRatio !== undefined && 1 - h.shortfall < b.minAchievedRatio) {
    out.push(
      `the users got ${h.claims.answered.toLocaleString('en-US')} claims answered of ${h.claims.offered.toLocaleString('en-US')} offered ` +
        `(${((1 - h.shortfall) * PERCENT).toFixed(1)}%, below ${(b.minAchievedRatio * PERCENT).toFixed(0)}%; ${h.label})`,
    );
  }
  return out;
}

function warnings(f: RunFigures): string[] {
  const out: string[] = [];
  const lagP99 = f.summary.latencyMs.generatorLag.p99;
  if (lagP99 > GENERATOR_LAG_WARN_MS) {
    out.push(
      `the load generator fell behind its schedule (p99 ${ms(lagP99)} ms): held back by its bound on unanswered messages while the broker lagged, or short of CPU; ` +
        'latencies still count from the schedule',
    );
  }
  if (f.foreign > 0) out.push(`${f.foreign} message(s) on the topic were not this run's claims (ignored)`);
  if (f.dropped > 0) out.push(`--inject-drop: the consumers skipped ${f.dropped} message(s) on purpose`);
  const m = f.summary.messages;
  if (m.lost > 0 && m.lost <= f.summary.lossLimit && !stoppedEarly(f)) {
    out.push(`lost ${m.lost} acknowledged message(s): within the ${f.summary.lossLimit} the scenario allows in ${f.summary.flush}/${f.summary.replication}, the cost of what that mode promises`);
  }
  if (m.retried > 0) out.push(`${m.retried} message(s) were re-sent after a failed attempt (${m.attempts.ok + m.attempts.slaveTimeout + m.attempts.slaveNotAvailable + m.attempts.otherStatus + m.attempts.error} attempts in all)`);
  for (const fault of f.summary.faults) if (fault.note?.startsWith('failed') === true) out.push(`fault ${fault.spec}: ${fault.note}`);
  const h = f.summary.http;
  if (h !== undefined && h.timeouts + h.errors > 0) out.push(`HTTP: ${h.timeouts} request(s) timed out and ${h.errors} connection error(s) (those claims are not acknowledged, and not lost)`);
  return out;
}

/** Weighs a run's figures against the invariants and the scenario's thresholds. */
export function judgeRun(f: RunFigures, t: Thresholds): RunVerdict {
  // After a failed step the figures cover part of the run: its thresholds are not judged on them.
  const judged = f.end.failedStep === undefined;
  const failures = [
    ...stepFailure(f),
    ...abort(f),
    ...loss(f),
    ...tickets(f),
    ...drain(f),
    ...failedSends(f),
    ...(judged ? ackedRate(f, t) : []),
    ...(judged ? latency(f, t) : []),
    ...http(f, t, judged),
  ];
  return { passed: failures.length === 0, failures, warnings: warnings(f) };
}
