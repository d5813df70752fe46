// How many times each limit or security check refused something, by name:
// the refusals block of BROKER_STATS (and the name server's stats). One
// instance per server; whoever refuses calls `count` with the limit's name
// (the `limit` of the LimitExceededError it throws, or a security check's).
export class RefusalCounters {
  readonly #counts = new Map<string, number>();

  count(name: string, n = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Every counter so far, as a plain object (stats). */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
