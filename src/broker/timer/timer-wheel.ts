// The timer wheel: one slot per second of the coming maxDelayMs (plus a
// margin), each naming the first and last waiting message of that second by
// its offset in TIMER_TOPIC. Three typed arrays, whatever the number of
// waiting messages: the messages of one slot are chained on disk
// (timer-links.ts), never held as objects. Rebuilt at every start from
// TIMER_TOPIC, so it is never written to disk.

/** An empty slot. */
const NONE = -1;

export class TimerWheel {
  readonly size: number;
  /** Which second each slot holds now (NONE: empty). */
  readonly #sec: Float64Array;
  readonly #first: Float64Array;
  readonly #last: Float64Array;
  #live = 0;

  constructor(size: number) {
    this.size = size;
    this.#sec = new Float64Array(size).fill(NONE);
    this.#first = new Float64Array(size);
    this.#last = new Float64Array(size);
  }

  /** Slots holding messages. */
  get liveSlots(): number {
    return this.#live;
  }

  /** Adds the message at `offset` (offsets only grow) to second `sec`; returns the previous last of that second, or -1. */
  add(sec: number, offset: number): number {
    const i = sec % this.size;
    if (this.#sec[i] !== sec) {
      this.#sec[i] = sec;
      this.#first[i] = offset;
      this.#last[i] = offset;
      this.#live++;
      return NONE;
    }
    const prev = this.#last[i]!;
    this.#last[i] = offset;
    return prev;
  }

  /** The last message of second `sec`, or -1 if it has none. */
  last(sec: number): number {
    const i = sec % this.size;
    return this.#sec[i] === sec ? this.#last[i]! : NONE;
  }

  /** Forgets second `sec` (all its messages delivered). */
  clear(sec: number): void {
    const i = sec % this.size;
    if (this.#sec[i] !== sec) return;
    this.#sec[i] = NONE;
    this.#live--;
  }

  /** The smallest offset any slot still holds, or `otherwise` if none does. */
  minFirst(otherwise: number): number {
    if (this.#live === 0) return otherwise;
    let min = otherwise;
    const sec = this.#sec;
    const first = this.#first;
    for (let i = 0; i < this.size; i++) if (sec[i] !== NONE && first[i]! < min) min = first[i]!;
    return min;
  }
}
