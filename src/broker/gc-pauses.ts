// The garbage collector's pauses in this broker's isolate (its worker thread,
// or its process), from PerformanceObserver 'gc' entries: a count and a
// summed pause for BROKER_STATS, so that a stall can be told from GC. One
// callback per batch of GC events, never per message.
import { PerformanceObserver } from 'node:perf_hooks';

const US_PER_MS = 1000;

export class GcPauses {
  #count = 0;
  #pauseUs = 0;
  readonly #observer: PerformanceObserver;

  constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.#count++;
        this.#pauseUs += e.duration * US_PER_MS;
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Collections so far, and their summed pause (µs). */
  get count(): number {
    return this.#count;
  }

  get pauseUs(): number {
    return Math.round(this.#pauseUs);
  }

  stop(): void {
    this.#observer.disconnect();
  }
}
