// topics.json, the durable list of topics, written two ways:
//  - now (`writeNow`): synchronous, on the caller's turn (opening, the
//    dispatcher re-creating a topic from the log): the old behaviour;
//  - coalesced (`durable`): the caller's change is in memory at once and the
//    promise settles when a topics.json holding it is durable. One write
//    (temp file, fdatasync, rename, directory fsync; the syncs on the thread
//    pool) covers every change made before it started, so a burst of N
//    creations costs a few writes, not N synchronous fsyncs on the event loop.
//
// Every change bumps a generation. The file on disk only ever moves forward:
// the coalesced writer renames its temp file into place synchronously, and
// only if what it wrote is newer than what a synchronous write put there
// meanwhile. Each writer has its own temp file, so neither truncates the other's.
import fs from 'node:fs';
import path from 'node:path';
import { FlushError } from '../common/index.js';
import { syncDirectoryAsync, writeFileAtomic } from './file-io.js';

interface Waiter {
  generation: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class TopicFile {
  readonly #file: string;
  readonly #dir: string;
  readonly #coalescedTemp: string;
  readonly #content: () => string;
  /** Bumped on every change of the table. */
  #generation = 0;
  /** Generation of the content renamed into place last. */
  #onDisk = 0;
  /** Generation known durable (renamed and its directory synced). */
  #durable = 0;
  #waiters: Waiter[] = [];
  #running: Promise<void> | undefined;
  /** Coalesced writes done (for tests and stats: a burst costs few). */
  writes = 0;

  /** `content`: the table as it is now, serialized. */
  constructor(file: string, content: () => string) {
    this.#file = file;
    this.#dir = path.dirname(file);
    this.#coalescedTemp = `${file}.tmp-coalesced`;
    this.#content = content;
  }

  /** The table changed in memory. */
  changed(): void {
    this.#generation++;
  }

  /** Whether every change so far is in a durable topics.json. */
  get isDurable(): boolean {
    return this.#durable >= this.#generation;
  }

  /** Writes the table now, synchronously (fdatasync and directory fsync on this thread). */
  writeNow(): void {
    const generation = this.#generation;
    writeFileAtomic(this.#file, this.#content(), this.#dir);
    this.#onDisk = Math.max(this.#onDisk, generation);
    this.#markDurable(generation);
  }

  /** Settles once every change made so far is durable (a coalesced write, off the event loop). */
  durable(): Promise<void> {
    if (this.isDurable) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.#waiters.push({ generation: this.#generation, resolve, reject }));
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return p;
  }

  /** Waits for a coalesced write in progress (closing). */
  async settle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#waiters.length > 0) {
      const generation = this.#generation;
      try {
        await this.#writeTemp(Buffer.from(this.#content()));
        // Synchronous, so that no write now can slip between the check and the rename.
        if (generation > this.#onDisk) {
          fs.renameSync(this.#coalescedTemp, this.#file);
          this.#onDisk = generation;
        } else {
          fs.rmSync(this.#coalescedTemp, { force: true });
        }
        await syncDirectoryAsync(this.#dir);
        this.writes++;
        this.#markDurable(generation);
      } catch (err) {
        const error = new FlushError(`writing ${this.#file} failed; the topic is not durably created (try again)`, { cause: err });
        // Those waiting for this write fail; a later change or call tries again.
        const failed = this.#waiters.filter((w) => w.generation <= generation);
        this.#waiters = this.#waiters.filter((w) => w.generation > generation);
        for (const w of failed) w.reject(error);
      }
    }
  }

  async #writeTemp(data: Buffer): Promise<void> {
    const handle = await fs.promises.open(this.#coalescedTemp, 'w', 0o644);
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  #markDurable(generation: number): void {
    this.#durable = Math.max(this.#durable, generation);
    if (this.#waiters.length === 0) return;
    const done = this.#waiters.filter((w) => w.generation <= this.#durable);
    this.#waiters = this.#waiters.filter((w) => w.generation > this.#durable);
    for (const w of done) w.resolve();
  }
}
