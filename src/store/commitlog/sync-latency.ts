// How long the CommitLog's fdatasync cycles take, and how much each covers
// (the group commit's size): counted once per cycle, never per message, in a
// fixed array of latency buckets so that a reader can diff two readings and
// take a percentile of what happened in between (BROKER_STATS carries it).

/**
 * Upper bounds (µs, exclusive) of the latency buckets; one more bucket after
 * them holds everything slower. Fixed: BROKER_STATS sends the counts in this
 * order (docs/PROTOCOL.md), and readers of older counts rely on them.
 */
export const SYNC_LATENCY_BOUNDS_US: readonly number[] = [
  50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 50_000, 75_000, 100_000, 150_000, 200_000,
  300_000, 500_000, 1_000_000, 2_000_000, 5_000_000,
];

/** What the fdatasync cycles did so far: counters only ever grow (a reader diffs two readings). */
export interface SyncLatencyStats {
  /** Completed fdatasync cycles (a cycle syncs every segment it covers, at once). */
  cycles: number;
  /** Their summed duration (µs). */
  totalUs: number;
  /** CommitLog bytes they made durable. */
  bytes: number;
  /** Cycles per latency bucket (SYNC_LATENCY_BOUNDS_US, then the overflow bucket). */
  buckets: number[];
}

export class SyncLatency {
  #cycles = 0;
  #totalUs = 0;
  #bytes = 0;
  readonly #buckets = new Array<number>(SYNC_LATENCY_BOUNDS_US.length + 1).fill(0);

  /** One completed cycle that took `us` and made `bytes` durable. */
  record(us: number, bytes: number): void {
    this.#cycles++;
    this.#totalUs += us;
    this.#bytes += bytes;
    let i = 0;
    while (i < SYNC_LATENCY_BOUNDS_US.length && us >= SYNC_LATENCY_BOUNDS_US[i]!) i++;
    this.#buckets[i]!++;
  }

  stats(): SyncLatencyStats {
    return { cycles: this.#cycles, totalUs: Math.round(this.#totalUs), bytes: this.#bytes, buckets: [...this.#buckets] };
  }
}

/**
 * The latency (µs) under which a share `q` (0..1) of the counted cycles fell,
 * from bucket counts (or the difference of two readings): the upper bound of
 * the bucket holding that rank, so never less than the true value; the last
 * bound for the overflow bucket; undefined without cycles.
 */
export function syncLatencyQuantileUs(buckets: readonly number[], q: number): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return SYNC_LATENCY_BOUNDS_US[Math.min(i, SYNC_LATENCY_BOUNDS_US.length - 1)];
  }
  return SYNC_LATENCY_BOUNDS_US.at(-1);
}
