// Cuts a worker's measurements into the run's seconds: second k is [k, k+1) s
// after the run's start on the shared clock. The callback runs just after each
// boundary (timers re-aimed at the boundary every time, so they do not drift),
// and once more on stop for the partial last second.
import { nowUs } from '../../load/index.js';

export class IntervalClock {
  #timer: NodeJS.Timeout | undefined;
  #next: number;
  readonly #startUs: number;
  readonly #cut: (second: number) => void;

  constructor(startUs: number, cut: (second: number) => void) {
    this.#startUs = startUs;
    this.#cut = cut;
    this.#next = Math.max(0, Math.floor((nowUs() - startUs) / 1e6));
    this.#arm();
  }

  #arm(): void {
    const boundaryUs = this.#startUs + (this.#next + 1) * 1e6;
    this.#timer = setTimeout(() => {
      this.#cut(this.#next++);
      this.#arm();
    }, Math.max(0, (boundaryUs - nowUs()) / 1000));
  }

  /** Reports the current (partial) second and stops. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#cut(this.#next);
  }
}
