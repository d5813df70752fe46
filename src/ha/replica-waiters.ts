// Sends waiting for the slave under sync replication. Appends end at growing
// log offsets, so the waiters form a FIFO queue: one slave report releases
// every send it covers at once (acknowledgements are pipelined; a send never
// waits for its own round trip), and one sweep timer times out the oldest.

export type ReplicaOutcome = 'confirmed' | 'timeout' | 'no-slave';

interface Waiter {
  end: number;
  deadline: number;
  resolve: (o: ReplicaOutcome) => void;
}

const SWEEP_MS = 10;

export class ReplicaWaiters {
  #queue: Waiter[] = [];
  #head = 0;
  /** Runs only while someone waits: an idle master (async replication, no slave) wakes for nothing. */
  #timer: NodeJS.Timeout | undefined;

  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** Resolves when a report covers `end`, or with 'timeout' after `timeoutMs`. */
  wait(end: number, timeoutMs: number): Promise<ReplicaOutcome> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#expire(Date.now()), SWEEP_MS);
      this.#timer.unref();
    }
    return new Promise((resolve) => this.#queue.push({ end, deadline: Date.now() + timeoutMs, resolve }));
  }

  /** The slave holds the log up to `offset`. */
  confirmed(offset: number): void {
    const q = this.#queue;
    let h = this.#head;
    while (h < q.length && q[h]!.end <= offset) q[h++]!.resolve('confirmed');
    this.#compact(h);
  }

  /** No slave any more: nobody waits for one. */
  failAll(outcome: ReplicaOutcome): void {
    const q = this.#queue;
    for (let h = this.#head; h < q.length; h++) q[h]!.resolve(outcome);
    this.#compact(q.length);
  }

  close(): void {
    this.failAll('no-slave');
  }

  #expire(now: number): void {
    const q = this.#queue;
    let h = this.#head;
    // Deadlines grow with the queue (same timeout, FIFO), so stop at the first live one.
    while (h < q.length && q[h]!.deadline <= now) q[h++]!.resolve('timeout');
    this.#compact(h);
  }

  #compact(h: number): void {
    if (h === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      if (this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    } else if (h > 1024 && h * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(h);
      this.#head = 0;
    } else {
      this.#head = h;
    }
  }
}
