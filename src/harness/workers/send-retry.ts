// The activity system's retry decisions, kept pure so that they can be tested
// alone: how long a failed batch waits before it is sent again (a bounded,
// doubling backoff), which queue it goes to (another broker group when the
// route has one), how an attempt's outcome is counted, and whether the run
// is over for a message still unacknowledged.

/** Wait before the first re-send of a batch. */
export const RETRY_BACKOFF_FIRST_MS = 50;
/** The wait doubles per failed attempt up to this. */
export const RETRY_BACKOFF_MAX_MS = 1000;
/** After an attempt to a broker group failed, fresh batches avoid it this long (when another group is routed). */
export const BROKER_AVOID_MS = 1000;

/** What the picker needs of a queue (the client's MessageQueue has these). */
export interface RoutedQueue {
  brokerName: string;
}

/** Wait before re-send number `retry` (1 for the first re-send). */
export function retryBackoffMs(retry: number): number {
  // The exponent is capped so that 2^k stays small whatever the count.
  return Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_FIRST_MS * 2 ** Math.min(Math.max(0, retry - 1), MAX_DOUBLINGS));
}

/**
 * The queue at round-robin position `cursor`, skipping queues of the broker
 * groups in `avoid` when another group is routed; when every routed group is
 * to be avoided, the queue at `cursor` anyway (there is nowhere else to go).
 */
export function pickQueue<Q extends RoutedQueue>(queues: readonly Q[], cursor: number, avoid: ReadonlySet<string>): Q {
  const n = queues.length;
  if (n === 0) throw new RangeError('pickQueue needs at least one queue');
  const first = queues[cursor % n]!;
  if (avoid.size === 0) return first;
  for (let k = 0; k < n; k++) {
    const q = queues[(cursor + k) % n]!;
    if (!avoid.has(q.brokerName)) return q;
  }
  return first;
}

const MAX_DOUBLINGS = 30;

/** Broker groups a sender should stay away from for a while, after an attempt to them failed. */
export class BrokerAvoidance {
  readonly #until = new Map<string, number>();
  /** The groups avoided now (empty on the no-failure path: the picker then costs nothing). */
  readonly avoided = new Set<string>();

  failed(brokerName: string, nowMs: number): void {
    this.#until.set(brokerName, nowMs + BROKER_AVOID_MS);
    this.avoided.add(brokerName);
  }

  /** A SEND_OK from the group: it is fine again. */
  succeeded(brokerName: string): void {
    if (this.avoided.size === 0) return;
    this.#until.delete(brokerName);
    this.avoided.delete(brokerName);
  }

  /** Forgets the groups whose time is up. */
  expire(nowMs: number): void {
    if (this.avoided.size === 0) return;
    for (const [name, until] of this.#until) {
      if (until <= nowMs) {
        this.#until.delete(name);
        this.avoided.delete(name);
      }
    }
  }
}

/** An attempt's outcome as counted: the send status, or ERROR for a rejected send (connection, timeout). */
export type AttemptOutcome = 'ok' | 'slaveTimeout' | 'slaveNotAvailable' | 'otherStatus' | 'error';

export function attemptOutcome(status: string | undefined): AttemptOutcome {
  switch (status) {
    case 'SEND_OK':
      return 'ok';
    case 'SLAVE_TIMEOUT':
      return 'slaveTimeout';
    case 'SLAVE_NOT_AVAILABLE':
      return 'slaveNotAvailable';
    case undefined:
      return 'error';
    default:
      return 'otherStatus';
  }
}

/**
 * A batch that failed is re-sent for at least this long, even past the run's
 * retry time: a generator running late (its schedule ran minutes behind
 * under overload) still gives every claim a fair chance.
 */
export const MIN_RETRY_US = 10_000_000;

/**
 * Whether a message still unacknowledged is given up now: the run was
 * aborted, or the run's retry time is over and the batch has been re-sent
 * for at least MIN_RETRY_US since its first failure.
 */
export function givenUp(nowUs: number, giveUpAtUs: number, aborted: boolean, firstFailureUs = -Infinity): boolean {
  return aborted || nowUs >= Math.max(giveUpAtUs, firstFailureUs + MIN_RETRY_US);
}
