// The allocation record of one service worker: per user, the claim that was
// acknowledged (SEND_OK) for them, or the send still in flight. A repeated
// scan finds the record and gets the same allocation without a new message;
// a concurrent scan joins the send in flight; a send that failed leaves no
// record, so the user's next scan tries again. Bounded: past `capacity`
// acknowledged users the oldest one is forgotten (its next scan would produce
// a second claim, which the lottery's own per-user idempotency absorbs).
// It lives in memory: a restart of the service forgets it (docs: README).

/** What the service answers 200 with: the user's allocation and where its claim message is. */
export interface Allocation {
  userId: number;
  activityId: string;
  /** The claim's sequence number (the caller's, or the service's own numbering). */
  seq: number;
  msgId: string;
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

export class AllocationRecord {
  readonly #capacity: number;
  readonly #done = new Map<number, Allocation>();
  readonly #pending = new Map<number, Promise<Allocation>>();

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`the record capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** Acknowledged users held. */
  get size(): number {
    return this.#done.size;
  }

  /** Sends in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * The user's allocation: the recorded one (`repeat` true), the one in
   * flight (joined: `repeat` true), or a new one made by `send` (`repeat`
   * false), recorded only when it resolves. A rejection records nothing.
   */
  claim(userId: number, send: () => Promise<Allocation>): { allocation: Promise<Allocation>; repeat: boolean } | { allocation: Allocation; repeat: true } {
    const done = this.#done.get(userId);
    if (done !== undefined) return { allocation: done, repeat: true };
    const inFlight = this.#pending.get(userId);
    if (inFlight !== undefined) return { allocation: inFlight, repeat: true };
    const p = send().then(
      (a) => {
        this.#pending.delete(userId);
        this.#remember(userId, a);
        return a;
      },
      (err: unknown) => {
        this.#pending.delete(userId);
        throw err;
      },
    );
    this.#pending.set(userId, p);
    return { allocation: p, repeat: false };
  }

  #remember(userId: number, a: Allocation): void {
    if (this.#done.size >= this.#capacity) {
      const oldest = this.#done.keys().next().value;
      if (oldest !== undefined) this.#done.delete(oldest);
    }
    this.#done.set(userId, a);
  }
}
