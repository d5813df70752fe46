// What producer and consumer workers tell the coordinator over their
// MessagePort. Interval reports cover one second of the run (second k is
// [k, k+1) s after the run's start on the shared clock) and carry compressed
// HDR histograms (µs) that the coordinator merges.

export interface ProducerInterval {
  kind: 'producer-interval';
  worker: number;
  second: number;
  /** Messages the schedule made due in this second. */
  offered: number;
  /** SEND_OK acknowledgements received in this second. */
  acked: number;
  /** Send attempts (messages) that failed in this second. */
  failed: number;
  /** Messages re-sent in this second. */
  retried: number;
  /** Send latency of the messages answered in this second (intended send -> answer). */
  send: string;
  /** How late the generator's ticks were in this second. */
  lag: string;
}

export interface ConsumerInterval {
  kind: 'consumer-interval';
  worker: number;
  second: number;
  /** First receptions in this second. */
  consumed: number;
  duplicates: number;
  /** Messages received from a slave in this second. */
  fromSlave: number;
  /** intended send -> reception, for every reception in this second. */
  e2e: string;
}

export type WorkerEvent =
  /** Connected and subscribed; with the thread it runs on (Node's threadId, the kernel's tid when known) so that the coordinator can read its CPU time. */
  | { kind: 'ready'; worker: number; threadId: number; tid: number | undefined }
  | ProducerInterval
  | ConsumerInterval
  | { kind: 'warning'; worker: number; message: string }
  /** A consumer told to die: what it measured up to then, posted just before its thread ends. */
  | { kind: 'consumer-died'; worker: number; outcome: ConsumerOutcome };

/**
 * Coordinator -> worker. `fault` (to producers): a fault was carried out at
 * shared-clock µs `atUs` (its index is the order of these commands; see
 * ProducerOutcome.firstAckAfterFaultUs). `die` (to one consumer): end at once
 * as a crashed process would (no unregister, no offset commit).
 */
export type WorkerCommand = { kind: 'start'; runStartUs: number } | { kind: 'stop' } | { kind: 'fault'; atUs: number } | { kind: 'die' };

/** Per phase (by the time of the answer or the reception), for the phase table. */
export interface PhaseFigures {
  /** Acknowledged (producers) or first receptions (consumers). */
  count: number;
  /** Compressed histogram (µs): send latency (producers) or e2e (consumers). */
  latency: string;
}

export interface ProducerOutcome {
  worker: number;
  attempted: number;
  acked: number;
  /** Messages given up on (never acknowledged by the run's end). */
  failed: number;
  /** Messages re-sent (a message re-sent twice counts twice). */
  retried: number;
  /** Every attempt's outcome, in messages. */
  attempts: { ok: number; slaveTimeout: number; slaveNotAvailable: number; otherStatus: number; error: number };
  /** Per fault command (in order): shared-clock µs of the first SEND_OK of an attempt sent at or after its time (null: none). */
  firstAckAfterFaultUs: (number | null)[];
  /** The first few send errors, for the summary. */
  errors: string[];
  /** Indexed like the scenario's phases plus the drain (answers that came after the curve). */
  phases: PhaseFigures[];
  /** Shared-clock µs of the last answer. */
  lastAnswerUs: number;
}

export interface ConsumerOutcome {
  worker: number;
  received: number;
  phases: PhaseFigures[];
  errors: string[];
}
