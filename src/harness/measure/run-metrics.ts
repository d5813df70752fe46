// The coordinator's side of the measurements: merges the workers' interval
// reports into whole-run histograms and one row per second. A second's
// histograms are kept only until every worker has reported that second (or it
// is a few seconds old), then reduced to its p99s and dropped, so memory does
// not grow with the length of the run.
import type * as hdr from 'hdr-histogram-js';
import { createMergeHistogram, decodeHistogram, percentileMs } from '../../load/index.js';
import type { HttpInterval } from '../http/index.js';
import type { HttpSecond, TimelineRow } from '../run-result.js';
import { phaseAt, type Phase } from '../scenario/index.js';
import type { ConsumerInterval, ProducerInterval } from '../workers/index.js';

/** A second is reduced once it is this many seconds old, even if a worker did not report it. */
const SECOND_GRACE = 3;
const P99 = 99;

interface OpenSecond {
  reports: number;
  offered: number;
  acked: number;
  failed: number;
  retried: number;
  consumed: number;
  duplicates: number;
  fromSlave: number;
  send: hdr.Histogram;
  e2e: hdr.Histogram;
  lag: hdr.Histogram;
  /** The HTTP front's figures (HTTP runs only). */
  http?: { ok: number; unavailable: number; other: number; timeouts: number; errors: number; response: hdr.Histogram };
}

export interface SecondFigures {
  second: number;
  phase: string;
  offered: number;
  acked: number;
  failed: number;
  retried: number;
  consumed: number;
  duplicates: number;
  fromSlave: number;
  backlog: number;
  sendP99Ms: number;
  e2eP99Ms: number;
  lagP99Ms: number;
  /** HTTP runs: the HTTP front's second. */
  http?: HttpSecond;
}

function p99Ms(h: hdr.Histogram): number {
  return h.totalCount === 0 ? 0 : percentileMs(h, P99);
}

function packedHistogram(): hdr.Histogram {
  return createMergeHistogram(true);
}

export class RunMetrics {
  readonly send = createMergeHistogram();
  readonly e2e = createMergeHistogram();
  readonly lag = createMergeHistogram();
  /** HTTP runs: autocannon's response times over the run (µs), merged from its threads. */
  readonly httpResponse = createMergeHistogram();
  readonly #open = new Map<number, OpenSecond>();
  readonly #done: SecondFigures[] = [];
  readonly #phases: readonly Phase[];
  #ackedTotal = 0;
  #consumedTotal = 0;
  /** Workers expected to report each second (running producers and consumers). */
  expectedReporters = 0;

  readonly #http: boolean;

  /** `http`: the users are played over HTTP (every second gets the HTTP front's figures). */
  constructor(phases: readonly Phase[], http = false) {
    this.#phases = phases;
    this.#http = http;
  }

  /** The claims the curve offered in `second` (the HTTP front: its threads report what was answered, the plan says what was due). */
  offer(second: number, claims: number): void {
    this.#second(second).offered += claims;
  }

  #second(k: number): OpenSecond {
    let s = this.#open.get(k);
    if (s === undefined) {
      s = { reports: 0, offered: 0, acked: 0, failed: 0, retried: 0, consumed: 0, duplicates: 0, fromSlave: 0, send: packedHistogram(), e2e: packedHistogram(), lag: packedHistogram() };
      if (this.#http) s.http = { ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, response: packedHistogram() };
      this.#open.set(k, s);
    }
    return s;
  }

  add(r: ProducerInterval | ConsumerInterval | HttpInterval): void {
    const s = this.#second(r.second);
    s.reports++;
    if (r.kind === 'http-interval') {
      s.acked += r.ok;
      // Answered, not acknowledged: the user was told to retry (503) or got an error.
      s.failed += r.unavailable + r.other;
      const send = decodeHistogram(r.send);
      s.send.add(send);
      this.send.add(send);
      const response = decodeHistogram(r.response);
      this.httpResponse.add(response);
      if (s.http !== undefined) {
        s.http.ok += r.ok;
        s.http.unavailable += r.unavailable;
        s.http.other += r.other;
        s.http.timeouts += r.timeouts;
        s.http.errors += r.errors;
        s.http.response.add(response);
      }
    } else if (r.kind === 'producer-interval') {
      s.offered += r.offered;
      s.acked += r.acked;
      s.failed += r.failed;
      s.retried += r.retried;
      const send = decodeHistogram(r.send);
      const lag = decodeHistogram(r.lag);
      s.send.add(send);
      this.send.add(send);
      s.lag.add(lag);
      this.lag.add(lag);
    } else {
      s.consumed += r.consumed;
      s.duplicates += r.duplicates;
      s.fromSlave += r.fromSlave;
      const e2e = decodeHistogram(r.e2e);
      s.e2e.add(e2e);
      this.e2e.add(e2e);
    }
  }

  /**
   * Reduces the seconds that are complete (every expected worker reported, or
   * older than the grace) up to `nowSecond`; `all` reduces everything (the end).
   */
  settle(nowSecond: number, all = false): SecondFigures[] {
    const ready = [...this.#open.keys()].sort((a, b) => a - b);
    const out: SecondFigures[] = [];
    for (const k of ready) {
      const s = this.#open.get(k)!;
      const complete = all || k <= nowSecond - SECOND_GRACE || (k < nowSecond && s.reports >= this.expectedReporters);
      if (!complete) break;
      // Seconds nobody reported (a stalled worker) still get a row.
      const last = out.at(-1)?.second ?? this.#done.at(-1)?.second ?? k - 1;
      for (let gap = last + 1; gap < k; gap++) out.push(this.#row(gap, undefined));
      out.push(this.#row(k, s));
      this.#open.delete(k);
    }
    this.#done.push(...out);
    return out;
  }

  #row(k: number, s: OpenSecond | undefined): SecondFigures {
    this.#ackedTotal += s?.acked ?? 0;
    this.#consumedTotal += s?.consumed ?? 0;
    return {
      second: k,
      phase: phaseAt(this.#phases, k),
      offered: s?.offered ?? 0,
      acked: s?.acked ?? 0,
      failed: s?.failed ?? 0,
      retried: s?.retried ?? 0,
      consumed: s?.consumed ?? 0,
      duplicates: s?.duplicates ?? 0,
      fromSlave: s?.fromSlave ?? 0,
      // Messages stored but not acknowledged (a send that timed out) are consumed too: never below 0.
      backlog: Math.max(0, this.#ackedTotal - this.#consumedTotal),
      sendP99Ms: s === undefined ? 0 : p99Ms(s.send),
      e2eP99Ms: s === undefined ? 0 : p99Ms(s.e2e),
      lagP99Ms: s === undefined ? 0 : p99Ms(s.lag),
      ...(this.#http ? { http: httpSecond(s?.http) } : {}),
    };
  }

  get seconds(): readonly SecondFigures[] {
    return this.#done;
  }

  timeline(): TimelineRow[] {
    return this.#done.map((s) => ({
      second: s.second,
      phase: s.phase,
      offered: s.offered,
      produced: s.acked,
      failed: s.failed,
      retried: s.retried,
      consumed: s.consumed,
      duplicates: s.duplicates,
      fromSlave: s.fromSlave,
      backlog: s.backlog,
      sendP99Ms: s.sendP99Ms,
      e2eP99Ms: s.e2eP99Ms,
      generatorLagP99Ms: s.lagP99Ms,
      ...(s.http !== undefined ? { http: s.http } : {}),
    }));
  }
}

function httpSecond(h: OpenSecond['http']): HttpSecond {
  if (h === undefined) return { ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, responseP99Ms: 0 };
  return { ok: h.ok, unavailable: h.unavailable, other: h.other, timeouts: h.timeouts, errors: h.errors, responseP99Ms: p99Ms(h.response) };
}
