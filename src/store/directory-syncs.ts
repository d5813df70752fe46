// Directories that got a new entry (a file or subdirectory created, a file
// renamed in) and are not yet fsynced. A new file's data can be fdatasynced
// and still vanish in a power cut if its directory entry was never made
// durable; so every creation is noted here, and the checkpoint fsyncs the
// noted directories (on the thread pool) before it vouches for what is in them.
import fs from 'node:fs';
import path from 'node:path';

/** Directory fsyncs in flight at once: a journal commit can then cover several. */
const SYNC_CONCURRENCY = 8;

export class DirectorySyncs {
  readonly #pending = new Set<string>();
  /** Directories fsynced so far, for stats and tests. */
  synced = 0;

  /** `dir` got a new entry. */
  add(dir: string): void {
    this.#pending.add(dir);
  }

  /**
   * `mkdirSync(leaf, { recursive: true })` created `first` and everything
   * below it down to `leaf`: each of those and the parent of `first` got a new entry.
   */
  addCreated(first: string, leaf: string): void {
    this.#pending.add(path.dirname(first));
    for (let d = leaf; ; d = path.dirname(d)) {
      this.#pending.add(d);
      if (d === first || path.dirname(d) === d) break;
    }
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Fsyncs every noted directory; one that fails stays noted and the error is thrown. */
  async syncAll(): Promise<void> {
    const dirs = [...this.#pending];
    this.#pending.clear();
    let failure: unknown;
    const syncOne = async (dir: string): Promise<void> => {
      try {
        const handle = await fs.promises.open(dir, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        this.synced++;
      } catch (err) {
        // A directory removed meanwhile (retention, a cut queue) has nothing left to make durable.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        this.#pending.add(dir);
        failure ??= err;
      }
    };
    for (let i = 0; i < dirs.length; i += SYNC_CONCURRENCY) await Promise.all(dirs.slice(i, i + SYNC_CONCURRENCY).map(syncOne));
    if (failure !== undefined) throw failure;
  }
}
