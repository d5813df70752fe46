// The lottery system's business step for one received claim: record the
// reception (a second one is a duplicate: at-least-once delivery and the
// producers' re-sends both make them), then issue the user's ticket through
// the idempotency record. The ledger plays the lottery database's unique
// constraint on the user id: a user's first claim sets it and gets the
// ticket; any later claim of the user finds it set and issues nothing. The
// deliberate fault --inject-double-issue N handles the first N claims a
// second time with that check skipped (as a redelivery that bypassed it
// would), so their users hold two tickets and the verifier must count them.
import { type Claim, USER_ID_BASE } from './claim.js';
import {
  CONTROL_DOUBLE_ISSUE_LEFT,
  CONTROL_DOUBLE_ISSUED,
  CONTROL_DROP_LEFT,
  CONTROL_DROPPED,
  CONTROL_FOREIGN,
  ISSUED_SATURATED,
  RECEIVED_SATURATED,
  type SharedRunState,
} from './shared-state.js';

/** What became of one received body. */
export type Reception = 'foreign' | 'dropped' | 'first' | 'duplicate';

export class Lottery {
  readonly #control: Int32Array;
  readonly #received: Uint8Array;
  readonly #ledger: Uint8Array;
  readonly #issued: Uint8Array;
  readonly #producers: number;

  /** `producers`: producer workers (a claim's message index is seq * producers + producer). */
  constructor(shared: SharedRunState, producers: number) {
    this.#control = new Int32Array(shared.control);
    this.#received = new Uint8Array(shared.received);
    this.#ledger = new Uint8Array(shared.ledger);
    this.#issued = new Uint8Array(shared.issued);
    this.#producers = producers;
  }

  /** One received claim (undefined: the body was not one of this run's claims). */
  receive(claim: Claim | undefined): Reception {
    const control = this.#control;
    if (claim === undefined || claim.producer >= this.#producers || claim.seq * this.#producers + claim.producer >= this.#received.length) {
      Atomics.add(control, CONTROL_FOREIGN, 1);
      return 'foreign';
    }
    if (Atomics.load(control, CONTROL_DROP_LEFT) > 0 && Atomics.sub(control, CONTROL_DROP_LEFT, 1) > 0) {
      // The deliberate fault: handled as far as the broker can tell, and nothing recorded.
      Atomics.add(control, CONTROL_DROPPED, 1);
      return 'dropped';
    }
    const i = claim.seq * this.#producers + claim.producer;
    const before = this.#received[i]! < RECEIVED_SATURATED ? Atomics.add(this.#received, i, 1) : RECEIVED_SATURATED;
    const user = claim.userId - USER_ID_BASE;
    this.#issueOnce(user);
    if (Atomics.load(control, CONTROL_DOUBLE_ISSUE_LEFT) > 0 && Atomics.sub(control, CONTROL_DOUBLE_ISSUE_LEFT, 1) > 0) {
      // The deliberate fault: the same claim once more, past the idempotency check.
      Atomics.add(control, CONTROL_DOUBLE_ISSUED, 1);
      this.#issue(user);
    }
    return before === 0 ? 'first' : 'duplicate';
  }

  /** The idempotent path: the record is checked (and set) first; only a user's first claim gets a ticket. */
  #issueOnce(user: number): boolean {
    if (Atomics.compareExchange(this.#ledger, user, 0, 1) !== 0) return false;
    this.#issue(user);
    return true;
  }

  /** Issues a ticket: what the verifier counts (more than one per user is a double issue). */
  #issue(user: number): void {
    if (this.#issued[user]! < ISSUED_SATURATED) Atomics.add(this.#issued, user, 1);
  }
}
