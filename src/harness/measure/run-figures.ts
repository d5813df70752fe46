// What a run measured, as summarize() adds it up and the verdict judges it:
// the figures summary.json carries (everything but the verdict), and the few
// facts summary.json does not carry but the checks weigh (how the run ended,
// samples of lost messages, send errors, each phase's latency histograms).
import type * as hdr from 'hdr-histogram-js';
import type { RunSummary } from '../run-result.js';

/** summary.json without the verdict (passed, failures, warnings). */
export type SummaryFigures = Omit<RunSummary, 'passed' | 'failures' | 'warnings'>;

/** Latencies of the answers (send) and receptions (e2e) within one phase; the drain is a phase too. */
export interface PhaseLatency {
  name: string;
  send: hdr.Histogram;
  e2e: hdr.Histogram;
}

export interface RunFigures {
  summary: SummaryFigures;
  /** How the run ended. */
  end: {
    /** The step that failed, if one did (the steps after it were skipped; everything was stopped). */
    failedStep?: { step: string; message: string };
    /** Stopped on request (SIGINT): the generators stopped early. */
    aborted: boolean;
    /** The group committed everything on every queue before the drain timeout. */
    drained: boolean;
    drainTimeoutSec: number;
    /** Acknowledged minus consumed after the run's last second. */
    backlogLeft: number;
  };
  /** A few lost messages (index, user id) to start an investigation from. */
  lostSamples: { index: number; userId: number }[];
  /** What the failed sends answered. */
  sends: { slaveTimeout: number; slaveNotAvailable: number; /** The first few distinct errors. */ errors: string[] };
  /** Bodies on the topic that were not this run's claims (ignored). */
  foreign: number;
  /** Messages the consumers skipped on purpose (--inject-drop). */
  dropped: number;
  /** The scenario's phases, then the drain. */
  phaseLatency: PhaseLatency[];
}
