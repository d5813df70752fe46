// Keeps CommitLog segments ready before the writer needs them: a pool of
// "spare" files of the segment size whose blocks are already allocated, so
// that appends never land on fresh blocks (on this kind of disk an
// fdatasync of appends into a sparse file costs several times one into
// allocated blocks: docs/BENCHMARKS.md). A spare is either
//  - zero-filled here (`<n>.zeroed`), in the background and only while the
//    store has been quiet for a while (no write, no flush cycle): a fill's writeback beside the
//    acknowledging fdatasyncs of a sync flush stalled them by tens to hundreds
//    of ms; or
//  - recycled (`<oldBase>.recycled`): a segment that retention freed, renamed
//    instead of deleted (as PostgreSQL recycles WAL segments). Its old bytes
//    stay. They can never pass for records at the new place: every record
//    carries its own log offset, which recovery and the entry check compare
//    with where it lies, and a recycled file is only ever reused at a base
//    above its old one (take()), so every stale offset is off by a whole
//    number of segments. Stale bytes past the end are wiped at open as any
//    torn tail is (CommitLog.truncate wipes until zeros).
// The roll renames a spare to the segment's name (CommitLog); with no spare
// ready it creates a plain (sparse) segment, which is slower per fdatasync but
// never stalls. Fills in progress are `<n>.prealloc` and are thrown away at
// open (a crash mid-fill).
import fs from 'node:fs';
import path from 'node:path';
import { syncDirectoryAsync } from '../file-io.js';

export const PREALLOC_SUFFIX = '.prealloc';
const ZEROED_SUFFIX = '.zeroed';
const RECYCLED_SUFFIX = '.recycled';
const SPARE_NAME = /^(\d{20})\.(zeroed|recycled)$/;
const ZERO_CHUNK = 4 << 20;
/**
 * The background fill writes and fdatasyncs one chunk at a time, so that when
 * appends resume they wait behind at most one chunk's writeback (a few ms),
 * never behind a large flush of the fill.
 */
const FILL_BYTES_PER_SEC = 256e6;
const MS_PER_SEC = 1000;
/**
 * A background fill step runs only when the store took no write and ran no
 * flush cycle for this long (MessageStore wires the test): a store under load
 * is left alone, and the fill runs before the load and in its pauses.
 */
export const SPARE_FILL_QUIET_MS = 50;
/** How often a waiting fill looks again whether the store is quiet. */
const POLL_MS = 10;
const NAME_DIGITS = 20;

interface Spare {
  path: string;
  /** Recycled: the base it had (it may only be reused above it); zero-filled: -1. */
  oldBase: number;
}

export class SegmentPreallocator {
  readonly #dir: string;
  readonly #size: number;
  readonly #target: number;
  readonly #spares: Spare[] = [];
  #fillSeq = 0;
  #filling: Promise<void> | undefined;
  #stopped = false;
  #started = false;
  /** True while a background fill must wait (the store is not quiet). */
  #busy: () => boolean = () => false;
  /** Spares zero-filled, and segments recycled, for diagnostics and tests. */
  completed = 0;
  recycled = 0;

  /** `spares`: how many ready segments to keep beyond the one being written. */
  constructor(dir: string, segmentSize: number, spares: number) {
    this.#dir = dir;
    this.#size = segmentSize;
    this.#target = spares;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (name.endsWith(PREALLOC_SUFFIX)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const m = SPARE_NAME.exec(name);
      if (m === null) continue;
      // A spare of another segment size (the store was reconfigured) is of no use.
      if (fs.statSync(file).size !== segmentSize || this.#spares.length >= Math.max(1, spares)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      this.#spares.push({ path: file, oldBase: m[2] === 'recycled' ? Number(m[1]) : -1 });
      this.#fillSeq = Math.max(this.#fillSeq, Number(m[1]) + 1);
    }
  }

  /** Spares ready now. */
  get ready(): number {
    return this.#spares.length;
  }

  /** Background fills wait while `busy()` is true (see SPARE_FILL_QUIET_MS). */
  yieldTo(busy: () => boolean): void {
    this.#busy = busy;
  }

  /** Makes one spare flat out if none is ready (at open: the first segment is fast too). */
  async ensureOne(): Promise<void> {
    if (this.#spares.length > 0) return;
    await this.#filling;
    if (this.#spares.length === 0) await this.#fillOne(false);
  }

  /** Starts keeping `spares` segments ready in the background. */
  start(): void {
    this.#started = true;
    this.#kick();
  }

  /**
   * A spare to become the segment at `base`, or undefined (then the writer
   * makes a plain one). The caller renames it; it is no longer the pool's.
   */
  take(base: number): string | undefined {
    // Recycled first: they cost nothing, a zero-filled one cost a fill (and may be kept for longer).
    let i = this.#spares.findIndex((s) => s.oldBase >= 0 && s.oldBase < base);
    if (i < 0) i = this.#spares.findIndex((s) => s.oldBase < 0);
    if (i < 0) return undefined;
    const [spare] = this.#spares.splice(i, 1);
    this.#kick();
    return spare!.path;
  }

  /**
   * Retention freed the segment file `file` (closed) that was at `base`: kept
   * as a spare if the pool is short, else deleted. Returns true if kept.
   */
  recycle(file: string, base: number): boolean {
    if (this.#stopped || this.#spares.length >= this.#target) {
      fs.rmSync(file, { force: true });
      return false;
    }
    const spare = path.join(this.#dir, `${String(base).padStart(NAME_DIGITS, '0')}${RECYCLED_SUFFIX}`);
    fs.renameSync(file, spare);
    this.#spares.push({ path: spare, oldBase: base });
    this.recycled++;
    return true;
  }

  /**
   * Recycled spares that held offsets at or above `offset` are deleted: the
   * log restarts lower (a replica reset), and their stale records could then
   * land back at their old offsets.
   */
  dropRecycledFrom(offset: number): void {
    for (let i = this.#spares.length - 1; i >= 0; i--) {
      const s = this.#spares[i]!;
      if (s.oldBase >= 0 && s.oldBase + this.#size > offset) {
        fs.rmSync(s.path, { force: true });
        this.#spares.splice(i, 1);
      }
    }
  }

  /** Stops background fills and waits for the one in flight (its file is removed). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#filling;
  }

  #kick(): void {
    if (!this.#started || this.#stopped || this.#filling !== undefined || this.#spares.length >= this.#target) return;
    this.#filling = this.#fillOne(true)
      .catch(() => {
        // A failed fill only costs speed: the writer makes plain segments.
        this.#stopped = true;
      })
      .finally(() => {
        this.#filling = undefined;
        this.#kick();
      });
  }

  async #waitQuiet(): Promise<void> {
    while (!this.#stopped && this.#busy()) await new Promise((r) => setTimeout(r, POLL_MS));
  }

  async #fillOne(background: boolean): Promise<void> {
    const seq = this.#fillSeq++;
    const name = String(seq).padStart(NAME_DIGITS, '0');
    const tmp = path.join(this.#dir, name + PREALLOC_SUFFIX);
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, this.#size));
    const handle = await fs.promises.open(tmp, 'w', 0o644);
    let complete = false;
    try {
      // Pacing counts from the last resume, so that a fill back from waiting does not rush to catch up.
      let started = performance.now();
      let pacedFrom = 0;
      for (let pos = 0; pos < this.#size; pos += zeros.length) {
        if (background && this.#busy()) {
          await this.#waitQuiet();
          started = performance.now();
          pacedFrom = pos;
        }
        if (background && this.#stopped) break;
        await handle.write(zeros, 0, Math.min(zeros.length, this.#size - pos), pos);
        await handle.datasync();
        const ahead = ((pos + zeros.length - pacedFrom) / FILL_BYTES_PER_SEC) * MS_PER_SEC - (performance.now() - started);
        if (background && ahead > 1) await new Promise((r) => setTimeout(r, ahead));
      }
      complete = !(background && this.#stopped);
    } finally {
      await handle.close();
      if (!complete) fs.rmSync(tmp, { force: true });
    }
    if (!complete) return;
    const spare = path.join(this.#dir, name + ZEROED_SUFFIX);
    await fs.promises.rename(tmp, spare);
    // Not needed for safety (a spare lost to a crash is only refilled); off the event loop.
    await syncDirectoryAsync(this.#dir);
    this.#spares.push({ path: spare, oldBase: -1 });
    this.completed++;
  }
}
