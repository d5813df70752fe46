// A bounded LRU of open file descriptors. One store may hold tens of thousands
// of ConsumeQueue files; keeping one fd per file open would exhaust the
// process' limit, so files are opened on use and the least recently used are
// closed. A descriptor in use by an async operation is pinned so that it is
// never closed (and its number reused) under that operation. A file the
// cache creates is reported (its directory entry must be fsynced).
import fs from 'node:fs';

interface Entry {
  fd: number;
  pins: number;
}

export class FdCache {
  readonly #max: number;
  // Map iteration order is insertion order: re-inserting on use makes it an LRU.
  readonly #open = new Map<string, Entry>();
  readonly #created: ((path: string) => void) | undefined;

  /** `created` is called with the path of every file get() had to create. */
  constructor(maxOpen: number, created?: (path: string) => void) {
    this.#max = Math.max(1, maxOpen);
    this.#created = created;
  }

  get size(): number {
    return this.#open.size;
  }

  /** The fd of `path`, opened read-write (created if missing). */
  get(path: string): number {
    const hit = this.#open.get(path);
    if (hit !== undefined) {
      this.#open.delete(path);
      this.#open.set(path, hit);
      return hit.fd;
    }
    this.#evictDownTo(this.#max - 1);
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
      this.#created?.(path);
    }
    this.#open.set(path, { fd, pins: 0 });
    return fd;
  }

  /** Like get(), but the fd stays open until unpin(). */
  pin(path: string): number {
    const fd = this.get(path);
    this.#open.get(path)!.pins++;
    return fd;
  }

  unpin(path: string): void {
    const e = this.#open.get(path);
    if (e !== undefined && e.pins > 0) e.pins--;
    if (this.#open.size > this.#max) this.#evictDownTo(this.#max);
  }

  /** Closes `path` if open (before deleting or renaming the file). */
  close(path: string): void {
    const e = this.#open.get(path);
    if (e === undefined) return;
    this.#open.delete(path);
    fs.closeSync(e.fd);
  }

  closeAll(): void {
    for (const e of this.#open.values()) fs.closeSync(e.fd);
    this.#open.clear();
  }

  #evictDownTo(target: number): void {
    if (this.#open.size <= target) return;
    for (const [path, e] of this.#open) {
      if (this.#open.size <= target) break;
      if (e.pins > 0) continue;
      this.#open.delete(path);
      fs.closeSync(e.fd);
    }
  }
}
