// One queue a consumer owns: messages pulled but not yet handed to the
// handler, the batches in the handler, and from them the offset that is safe
// to commit (the lowest offset not yet processed). Pure bookkeeping: the
// consumer drives the pulling and the handler calls.
import type { ReceivedMessage } from '../received-message.js';
import type { MessageQueue } from '../topic-routes.js';

export interface Batch {
  pq: ProcessQueue;
  messages: ReceivedMessage[];
  firstOffset: number;
  /** Local attempts (ordered and broadcasting consumers retry in place). */
  attempts: number;
}

export class ProcessQueue {
  readonly mq: MessageQueue;
  /** Where the next pull starts. */
  nextPullOffset: number;
  /** Removed by a rebalance or shutdown: pull no more, hand out no more. */
  dropped = false;
  /** Ordered: held under a broker lock. */
  locked = false;
  /** Ordered: handler paused until this time after a failure. */
  suspendedUntil = 0;
  /** The offset last committed to the broker. */
  committed = -1;
  /** Where the last pull went (the master, or its slave): commits go there too. */
  readAddr: string | undefined;
  readonly #buffer: ReceivedMessage[] = [];
  #head = 0;
  readonly #inFlight = new Set<Batch>();
  /** A batch to run again (ordered retry in place) before anything else. */
  retryBatch: Batch | undefined;
  #waiters: (() => void)[] = [];

  constructor(mq: MessageQueue, startOffset: number) {
    this.mq = mq;
    this.nextPullOffset = startOffset;
  }

  get buffered(): number {
    return this.#buffer.length - this.#head;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Adds pulled messages (in offset order) and advances the pull position. */
  add(messages: readonly ReceivedMessage[], nextOffset: number): void {
    for (const m of messages) this.#buffer.push(m);
    this.nextPullOffset = nextOffset;
  }

  /** Takes up to `max` buffered messages as a batch now in the handler. */
  take(max: number): Batch | undefined {
    if (this.retryBatch !== undefined) {
      const b = this.retryBatch;
      this.retryBatch = undefined;
      this.#inFlight.add(b);
      return b;
    }
    if (this.buffered === 0) return undefined;
    const messages = this.#buffer.slice(this.#head, this.#head + max);
    this.#head += messages.length;
    // Let handed-out messages (and the frames they view) go: kept in the array
    // they would survive young-generation GCs and be copied to the old one.
    if (this.#head === this.#buffer.length) {
      this.#buffer.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer.splice(0, this.#head);
      this.#head = 0;
    }
    const b: Batch = { pq: this, messages, firstOffset: messages[0]!.queueOffset, attempts: 0 };
    this.#inFlight.add(b);
    this.#notify();
    return b;
  }

  /** The batch is processed (or handed to the broker's retry): its offsets may be committed. */
  done(b: Batch): void {
    this.#inFlight.delete(b);
    this.#notify();
  }

  /** The batch failed and runs again after a pause (ordered, broadcasting): it keeps its place. */
  retryLater(b: Batch): void {
    this.#inFlight.delete(b);
    b.attempts++;
    this.retryBatch = b;
    this.#notify();
  }

  /** The lowest offset not yet processed: committing it never skips a message. */
  consumedOffset(): number {
    let min = this.buffered > 0 ? this.#buffer[this.#head]!.queueOffset : this.nextPullOffset;
    for (const b of this.#inFlight) if (b.firstOffset < min) min = b.firstOffset;
    if (this.retryBatch !== undefined && this.retryBatch.firstOffset < min) min = this.retryBatch.firstOffset;
    return min;
  }

  /**
   * Drops messages not yet handed out (whoever owns the queue next pulls them
   * again). Batches in the handler finish and count; a batch waiting for a
   * local retry is not processed, so the commit point stays below it.
   */
  drop(): void {
    this.dropped = true;
    let next = this.buffered > 0 ? this.#buffer[this.#head]!.queueOffset : this.nextPullOffset;
    if (this.retryBatch !== undefined) {
      next = Math.min(next, this.retryBatch.firstOffset);
      this.retryBatch = undefined;
    }
    this.#buffer.length = 0;
    this.#head = 0;
    this.nextPullOffset = next;
    this.#notify();
  }

  /** Resolves when the pull loop may go on (the buffer drained below the limit, or the queue was dropped). */
  waitForRoom(limit: number): Promise<void> | undefined {
    if (this.buffered < limit || this.dropped) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(() => this.waitForRoom(limit));
  }

  /** Resolves when no batch of this queue is in the handler. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.retryBatch !== undefined) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #notify(): void {
    if (this.#waiters.length === 0) return;
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
