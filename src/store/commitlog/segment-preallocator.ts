// Prepares the next CommitLog segment in the background: writes zeros over
// its whole length and fdatasyncs it, so that appends later land on
// allocated blocks. On this kind of disk an O_DSYNC write to allocated blocks
// runs ~4x faster than to a fresh or sparse file (1.3 GB/s vs 0.3 GB/s), and
// overwriting cached pages is ~2x faster than filling a sparse file.
//
// The zeros go to `<name>.prealloc` and the file takes its final name only
// when complete, in one synchronous rename on the event loop: the writer
// never shares an inode with a zero-fill in flight. If the writer needs the
// segment before it is ready, it creates a plain one and the half-made file
// is thrown away.
import fs from 'node:fs';
import path from 'node:path';
import { offsetFileName } from '../../common/index.js';
import { syncDirectory } from '../file-io.js';

export const PREALLOC_SUFFIX = '.prealloc';
const ZERO_CHUNK = 4 << 20;
/**
 * The fill is paced, and synced piece by piece, so that its writeback does
 * not crowd out the fdatasyncs of sync-flush appends (unpaced, a 1 GiB fill
 * doubled their latency in the store bench). At this rate a 1 GiB segment is
 * ready in ~4 s, well before a writer at 150 MB/s uses up the 3/4 of the
 * current segment that remain when the fill starts.
 */
const FILL_BYTES_PER_SEC = 256e6;
const SYNC_EVERY_BYTES = 64 << 20;
const MS_PER_SEC = 1000;
/** How long a paced fill waits before looking again whether sync flushes still run. */
const YIELD_MS = 5;

interface Job {
  base: number;
  cancelled: boolean;
  promise: Promise<void>;
}

export class SegmentPreallocator {
  readonly #dir: string;
  readonly #size: number;
  #job: Job | undefined;
  /**
   * True while acknowledgements wait on an fdatasync (sync flush under load):
   * a paced fill then stands aside. Even paced, the fill's writeback made
   * those fdatasyncs ~20x slower (p50 0.5 -> 10 ms in the replication
   * benchmark) and cut sync/sync throughput in half; a segment that is not
   * ready in time is simply made plain, which costs far less.
   */
  #yieldTo: () => boolean = () => false;
  /** Segments made ready, for diagnostics. */
  completed = 0;

  constructor(dir: string, segmentSize: number) {
    this.#dir = dir;
    this.#size = segmentSize;
    for (const name of fs.readdirSync(dir)) {
      if (name.endsWith(PREALLOC_SUFFIX)) fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  /**
   * Starts preparing the segment at `base` unless it exists or is under way.
   * `paced`: at FILL_BYTES_PER_SEC (in the background), or flat out (at open).
   */
  prepare(base: number, paced = true): Promise<void> {
    if (this.#job?.base === base) return this.#job.promise;
    this.cancel();
    const finalPath = path.join(this.#dir, offsetFileName(base));
    if (fs.existsSync(finalPath)) return Promise.resolve();
    const job: Job = { base, cancelled: false, promise: Promise.resolve() };
    job.promise = this.#fill(job, finalPath, paced).catch(() => {
      // A failed zero-fill only costs speed: the writer makes a plain segment.
      fs.rmSync(finalPath + PREALLOC_SUFFIX, { force: true });
    });
    this.#job = job;
    return job.promise;
  }

  /** Paced fills pause while `busy()` is true (see #yieldTo). */
  yieldTo(busy: () => boolean): void {
    this.#yieldTo = busy;
  }

  /** The writer is about to create `base` itself: a fill in flight for it must not land. */
  claim(base: number): void {
    if (this.#job?.base === base) this.cancel();
  }

  cancel(): void {
    if (this.#job !== undefined) this.#job.cancelled = true;
    this.#job = undefined;
  }

  /** Cancels and waits for the fill in flight to stop (shutdown). */
  async stop(): Promise<void> {
    const job = this.#job;
    this.cancel();
    if (job !== undefined) await job.promise;
  }

  async #fill(job: Job, finalPath: string, paced: boolean): Promise<void> {
    const tmp = finalPath + PREALLOC_SUFFIX;
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, this.#size));
    const handle = await fs.promises.open(tmp, 'w', 0o644);
    try {
      // Pacing counts from the last resume, so that a fill back from yielding does not rush to catch up.
      let started = performance.now();
      let pacedFrom = 0;
      for (let pos = 0; pos < this.#size && !job.cancelled; pos += zeros.length) {
        if (paced && this.#yieldTo()) {
          while (!job.cancelled && this.#yieldTo()) await new Promise((r) => setTimeout(r, YIELD_MS));
          started = performance.now();
          pacedFrom = pos;
          if (job.cancelled) break;
        }
        await handle.write(zeros, 0, Math.min(zeros.length, this.#size - pos), pos);
        if ((pos + zeros.length) % SYNC_EVERY_BYTES === 0) await handle.datasync();
        const ahead = ((pos + zeros.length - pacedFrom) / FILL_BYTES_PER_SEC) * MS_PER_SEC - (performance.now() - started);
        if (paced && ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      }
      if (!job.cancelled) await handle.datasync();
    } finally {
      await handle.close();
    }
    // Synchronous from the check to the rename: the writer cannot slip in between.
    if (job.cancelled || fs.existsSync(finalPath)) {
      fs.rmSync(tmp, { force: true });
      return;
    }
    fs.renameSync(tmp, finalPath);
    syncDirectory(this.#dir);
    this.completed++;
    if (this.#job === job) this.#job = undefined;
  }
}
