// Flushes the CommitLog to disk. In `sync` mode this is group commit: a cycle
// takes everything written so far as its target, runs one fdatasync per
// segment involved (on the libuv thread pool, never on the event loop), then
// reports the target as flushed; the next cycle starts as soon as the last one
// returns if more was written meanwhile. In `async` mode the same cycle runs on
// an interval instead of on demand.
import { FlushError } from '../../common/index.js';
import type { CommitLog } from './commit-log.js';
import { fdatasync } from '../file-io.js';
import type { FlushMode } from '../types.js';
import { SyncLatency } from './sync-latency.js';

const NS_PER_US = 1000;

export interface FlushListener {
  /** Everything below `offset` is on disk. */
  flushed(offset: number): void;
  /** A flush failed: nothing past the last reported offset may be acknowledged. */
  failed(error: FlushError): void;
}

export class FlushService {
  readonly #log: CommitLog;
  readonly #mode: FlushMode;
  readonly #intervalMs: number;
  readonly #listener: FlushListener;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failed = false;
  /** When the last cycle ended (performance.now()). */
  #lastActive = -Infinity;
  /** Completed fdatasync cycles, for diagnostics and benchmarks. */
  cycles = 0;
  /** How long each cycle took and how much it covered (timed once per cycle). */
  readonly latency = new SyncLatency();

  constructor(log: CommitLog, mode: FlushMode, intervalMs: number, listener: FlushListener) {
    this.#log = log;
    this.#mode = mode;
    this.#intervalMs = intervalMs;
    this.#listener = listener;
  }

  start(): void {
    if (this.#mode === 'async' && this.#timer === undefined) {
      this.#timer = setInterval(() => this.request(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** A sync-flush cycle is under way: acknowledgements wait on the disk. */
  get syncing(): boolean {
    return this.#mode === 'sync' && this.#running !== undefined;
  }

  /** A cycle is running or ended less than `ms` ago (background zero-fills wait for quiet). */
  activeWithin(ms: number): boolean {
    return this.#running !== undefined || performance.now() - this.#lastActive < ms;
  }

  /** Starts a cycle unless one is running (which will loop to cover new writes). */
  request(): void {
    if (this.#running !== undefined || this.#failed) return;
    if (this.#log.writtenOffset <= this.#log.flushedOffset) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      this.#lastActive = performance.now();
    });
  }

  /** Flushes everything written so far; for shutdown and checkpoints. */
  async flushAll(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    this.request();
    while (this.#running !== undefined) await this.#running;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #loop(): Promise<void> {
    const log = this.#log;
    while (!this.#failed && log.writtenOffset > log.flushedOffset) {
      const from = log.flushedOffset;
      const target = log.writtenOffset;
      let what = 'fdatasync of';
      let reached: number;
      let startedNs = 0n;
      try {
        const segments = log.segmentsBetween(from, target);
        startedNs = process.hrtime.bigint();
        await Promise.all(segments.map((s) => fdatasync(s.fd)));
        // A failed write may have rolled positions back below the target meanwhile;
        // what the sync covered is only what is still written.
        reached = Math.max(log.flushedOffset, Math.min(target, log.writtenOffset));
        // Recorded before anyone is told (a sync record must never say less than an acknowledgement relied on).
        what = 'recording the sync of';
        log.durableListener?.(reached);
      } catch (err) {
        this.#failed = true;
        this.#listener.failed(new FlushError(`${what} the commit log [${from}, ${target}) failed`, { cause: err }));
        return;
      }
      this.cycles++;
      this.latency.record(Number(process.hrtime.bigint() - startedNs) / NS_PER_US, reached - from);
      log.flushedOffset = reached;
      this.#listener.flushed(reached);
      if (this.#mode === 'async') return;
    }
  }
}
