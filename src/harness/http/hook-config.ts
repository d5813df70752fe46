// What the coordinator hands to the hooks in autocannon's worker threads
// (through autocannon's options, which its manager passes to every thread as
// workerData: SharedArrayBuffers stay shared), and what the hooks post back
// over a BroadcastChannel of the run's own name.
import type { Phase } from '../scenario/index.js';
import type { PhaseFigures } from '../workers/index.js';

/** clock[CLOCK_RUN_START]: shared-clock µs of the sale's t = 0 (0 until the coordinator sets it: every connection blocked). */
export const CLOCK_RUN_START = 0;
/** counters[COUNTER_NEXT]: the next message index to claim (over every thread and connection). */
export const COUNTER_NEXT = 0;
/** counters[COUNTER_THREADS]: hook threads started (each takes its index from it). */
export const COUNTER_THREADS = 1;
/** counters[COUNTER_NON_CLAIM]: GET /healthz requests sent instead of a claim (once every claim was taken). */
export const COUNTER_NON_CLAIM = 2;
/** counters[COUNTER_STOP]: 1 once the coordinator gives up on the load (a failed run): the hooks end their thread's part at once. */
export const COUNTER_STOP = 3;
export const COUNTERS = 4;

export interface HookConfig {
  /** The run's shared arrays the hooks write (acked) and read (control: abort). */
  acked: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** Float64 fields, CLOCK_*. */
  clock: SharedArrayBuffer;
  /** Int32 fields, COUNTER_*. */
  counters: SharedArrayBuffer;
  /** Int32 per second of the curve: the claims due in it (rate-plan.ts). */
  due: SharedArrayBuffer;
  phases: Phase[];
  totalMessages: number;
  userMultiplier: number;
  userIdBase: number;
  /** Connections per autocannon thread and over all of them. */
  connectionsPerThread: number;
  connections: number;
  /** Index of the run's control field that says the run was aborted. */
  abortField: number;
  ackOk: number;
  ackFailed: number;
  /** BroadcastChannel name (the run's own). */
  channel: string;
  /** Absolute path of hdr-histogram-js's CommonJS entry (the hooks live outside node_modules' reach). */
  hdrPath: string;
}

/** One autocannon thread's second: responses by status, autocannon's response times, claim send latency. */
export interface HttpInterval {
  kind: 'http-interval';
  worker: number;
  second: number;
  /** Claims answered 200 (acknowledged: SEND_OK). */
  ok: number;
  /** Claims answered 503 (the broker could not take it; the user is told to retry). */
  unavailable: number;
  /** Claims answered anything else. */
  other: number;
  /** Requests abandoned after the timeout (autocannon reconnects). */
  timeouts: number;
  /** Connection errors. */
  errors: number;
  /** autocannon's per-response time (its timer: write to last byte), µs, every response. */
  response: string;
  /** Claim intended time -> 200, µs. */
  send: string;
}

/** A hook thread's last word: its totals and per-phase send figures (then it lets its thread end). */
export interface HttpThreadDone {
  kind: 'http-done';
  worker: number;
  /** Claims sent (requests carrying a claim). */
  claimsSent: number;
  ok: number;
  unavailable: number;
  other: number;
  timeouts: number;
  errors: number;
  /** Indexed like the scenario's phases plus the drain. */
  phases: PhaseFigures[];
  /** Shared-clock µs of its last answer. */
  lastAnswerUs: number;
}

export type HookMessage = { kind: 'http-ready'; worker: number } | HttpInterval | HttpThreadDone;
