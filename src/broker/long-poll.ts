// Long polling: a pull at the end of a queue is parked here and answered as
// soon as the dispatcher reports new messages in that queue (store.onArrival),
// or when its poll timeout passes. No timer loop re-checks queues. Held pulls
// are bounded per connection and in total (a pull past a bound is refused
// with LimitExceeded: a consumer backs off and pulls again, losing nothing),
// and those of a connection that closes are dropped at once.
import { checkInteger, LimitExceededError, type RefusalCounters } from '../common/index.js';
import type { RequestContext } from '../net/index.js';

export interface HeldPull {
  topic: string;
  queueId: number;
  /** The offset the pull waits beyond. */
  offset: number;
  ctx: RequestContext;
  /** Re-runs the read and answers. Called once, never after the connection closed. */
  wake: () => void;
}

export interface HeldPullLimits {
  /** Pulls one connection may have held at once. */
  maxHeldPullsPerConnection: number;
  /** Pulls the broker holds at once, all connections together. */
  maxHeldPulls: number;
}

export const HELD_PULL_DEFAULTS: Readonly<HeldPullLimits> = {
  // A consumer holds one pull per queue it owns on the broker: far above any real assignment.
  maxHeldPullsPerConnection: 10_000,
  // About 100 MB of held pulls (~1 KB each: entry, timer, promise, request).
  maxHeldPulls: 100_000,
};

/** Counter names (and LimitExceededError.limit) of the two bounds. */
export const HELD_PULL_LIMIT = { perConnection: 'heldPullsPerConnection', total: 'heldPulls' } as const;

export function checkHeldPullLimits(c: HeldPullLimits): void {
  checkInteger('maxHeldPullsPerConnection', c.maxHeldPullsPerConnection);
  checkInteger('maxHeldPulls', c.maxHeldPulls);
}

interface Entry {
  pull: HeldPull;
  timer: NodeJS.Timeout;
  /** The queue's set (in #byQueue under `key`) and the connection's. */
  key: string;
  queue: Set<Entry>;
  conn: Set<Entry>;
}

export class LongPolls {
  readonly #limits: HeldPullLimits;
  readonly #refusals: RefusalCounters;
  readonly #byQueue = new Map<string, Set<Entry>>();
  /** Every connection that held a pull since it opened (one close hook each), with what it holds now. */
  readonly #byConnection = new Map<RequestContext, Set<Entry>>();
  #held = 0;

  constructor(limits: HeldPullLimits, refusals: RefusalCounters) {
    this.#limits = limits;
    this.#refusals = refusals;
  }

  get held(): number {
    return this.#held;
  }

  /** Parks a pull; throws LimitExceededError past a bound. A pull of a closed connection is dropped. */
  hold(pull: HeldPull, timeoutMs: number): void {
    const ctx = pull.ctx;
    if (ctx.closed) return;
    if (this.#held >= this.#limits.maxHeldPulls) {
      this.#refusals.count(HELD_PULL_LIMIT.total);
      throw new LimitExceededError(
        HELD_PULL_LIMIT.total,
        `this broker holds ${this.#held} pulls waiting for messages (maxHeldPulls): pull again later (a consumer backs off and retries)`,
      );
    }
    let conn = this.#byConnection.get(ctx);
    if (conn === undefined) {
      conn = new Set();
      this.#byConnection.set(ctx, conn);
      ctx.onClose(() => this.#connectionClosed(ctx));
    } else if (conn.size >= this.#limits.maxHeldPullsPerConnection) {
      this.#refusals.count(HELD_PULL_LIMIT.perConnection);
      throw new LimitExceededError(
        HELD_PULL_LIMIT.perConnection,
        `this connection has ${conn.size} pulls held waiting for messages (maxHeldPullsPerConnection): pull again once one is answered, or spread the queues over more connections`,
      );
    }
    const key = `${pull.topic}:${pull.queueId}`;
    let queue = this.#byQueue.get(key);
    if (queue === undefined) {
      queue = new Set();
      this.#byQueue.set(key, queue);
    }
    const entry: Entry = {
      pull,
      timer: setTimeout(() => {
        if (entry.queue.delete(entry)) this.#release(entry);
      }, timeoutMs),
      key,
      queue,
      conn,
    };
    queue.add(entry);
    conn.add(entry);
    this.#held++;
  }

  /** New messages up to `maxOffset` are visible in the queue: answer the pulls waiting for them. */
  arrived(topic: string, queueId: number, maxOffset: number): void {
    const set = this.#byQueue.get(`${topic}:${queueId}`);
    if (set === undefined) return;
    for (const entry of set) {
      if (entry.pull.offset < maxOffset) {
        set.delete(entry);
        clearTimeout(entry.timer);
        this.#release(entry);
      }
    }
  }

  /** Answers everything now (shutdown). */
  releaseAll(): void {
    for (const set of this.#byQueue.values()) {
      for (const entry of set) {
        set.delete(entry);
        clearTimeout(entry.timer);
        this.#release(entry);
      }
    }
  }

  /** Nobody is left to answer: the connection's pulls go at once (timers, memory and their place in the totals). */
  #connectionClosed(ctx: RequestContext): void {
    const conn = this.#byConnection.get(ctx);
    this.#byConnection.delete(ctx);
    if (conn === undefined) return;
    for (const entry of conn) {
      clearTimeout(entry.timer);
      if (entry.queue.delete(entry)) this.#forget(entry);
    }
    conn.clear();
  }

  /** Takes an entry (already out of its queue's set) out of the totals and its connection's set. */
  #forget(entry: Entry): void {
    this.#held--;
    if (entry.queue.size === 0) this.#byQueue.delete(entry.key);
    entry.conn.delete(entry);
  }

  #release(entry: Entry): void {
    this.#forget(entry);
    if (!entry.pull.ctx.closed) entry.pull.wake();
  }
}
