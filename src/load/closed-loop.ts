// A closed-loop load generator: `concurrency` lanes, each starting its next
// send as soon as its previous one is answered, so exactly that many sends are
// in flight until the loop is stopped. It measures what the system can carry
// (its throughput at that depth), not latency under a given offered rate: the
// open loop does that. Used by the benchmarks' max-rate phases and by the
// replication tests' background load.

export interface ClosedLoopOptions {
  /** Sends in flight at once (one per lane). */
  concurrency: number;
  /**
   * Starts one send; the promise settles once it is answered and accounted
   * for. A rejection ends nothing: the lane goes on (the caller counts failures).
   */
  send(): Promise<unknown>;
  /** Checked before every send: once true, no send starts any more. */
  stopped(): boolean;
}

export interface ClosedLoop {
  /** Resolves when the first lane finds the loop stopped (no send starts after that). */
  sendingEnded: Promise<void>;
  /** Resolves once every lane has ended: every send answered. */
  settled: Promise<void>;
}

/** Starts the lanes now; each calls `send` for the first time synchronously, lane 0 first. */
export function startClosedLoop(o: ClosedLoopOptions): ClosedLoop {
  let endSending!: () => void;
  const sendingEnded = new Promise<void>((resolve) => (endSending = resolve));
  const lane = async (): Promise<void> => {
    while (!o.stopped()) {
      try {
        await o.send();
      } catch {
        // The caller accounts for failed sends in `send` itself; the lane keeps the depth.
      }
    }
    endSending();
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < o.concurrency; i++) lanes.push(lane());
  if (o.concurrency <= 0) endSending();
  return { sendingEnded, settled: Promise.all(lanes).then(() => undefined) };
}
