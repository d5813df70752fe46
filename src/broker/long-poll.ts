// Long polling: a pull at the end of a queue is parked here and answered as
// soon as the dispatcher reports new messages in that queue (store.onArrival),
// or when its poll timeout passes. No timer loop re-checks queues.
import type { RequestContext } from '../net/index.js';

export interface HeldPull {
  topic: string;
  queueId: number;
  /** The offset the pull waits beyond. */
  offset: number;
  ctx: RequestContext;
  /** Re-runs the read and answers. Called once. */
  wake: () => void;
}

interface Entry {
  pull: HeldPull;
  timer: NodeJS.Timeout;
}

export class LongPolls {
  readonly #byQueue = new Map<string, Set<Entry>>();
  #held = 0;

  get held(): number {
    return this.#held;
  }

  hold(pull: HeldPull, timeoutMs: number): void {
    const k = `${pull.topic}:${pull.queueId}`;
    let set = this.#byQueue.get(k);
    if (set === undefined) {
      set = new Set();
      this.#byQueue.set(k, set);
    }
    const s = set;
    const entry: Entry = {
      pull,
      timer: setTimeout(() => {
        if (s.delete(entry)) this.#release(k, s, entry);
      }, timeoutMs),
    };
    s.add(entry);
    this.#held++;
  }

  /** New messages up to `maxOffset` are visible in the queue: answer the pulls waiting for them. */
  arrived(topic: string, queueId: number, maxOffset: number): void {
    const k = `${topic}:${queueId}`;
    const set = this.#byQueue.get(k);
    if (set === undefined) return;
    for (const entry of set) {
      if (entry.pull.offset < maxOffset) {
        set.delete(entry);
        clearTimeout(entry.timer);
        this.#release(k, set, entry);
      }
    }
  }

  /** Answers everything now (shutdown). */
  releaseAll(): void {
    for (const [k, set] of this.#byQueue) {
      for (const entry of set) {
        set.delete(entry);
        clearTimeout(entry.timer);
        this.#release(k, set, entry);
      }
    }
  }

  #release(k: string, set: Set<Entry>, entry: Entry): void {
    this.#held--;
    if (set.size === 0) this.#byQueue.delete(k);
    if (!entry.pull.ctx.closed) entry.pull.wake();
  }
}
