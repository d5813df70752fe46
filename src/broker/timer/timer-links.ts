// The chains of the timer wheel, on disk: for each waiting message (by its
// offset in TIMER_TOPIC), the offset of the message before it in the same
// second, 8 bytes at a fixed position. Files of LINKS_PER_FILE entries, named
// by their first offset; a file whose every entry is delivered is deleted.
// Rebuilt at every start with the wheel, so it is written without fsync: a
// crash loses nothing that TIMER_TOPIC does not hold.
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const LINK_BYTES = 8;
const LINKS_PER_FILE = 1 << 20;
/** Reads of a chain go through a one-page cache: neighbours in a second are usually neighbours in the file. */
const PAGE_LINKS = 512;

export class TimerLinks {
  readonly #dir: string;
  readonly #fds = new Map<number, number>();
  readonly #page = Buffer.alloc(PAGE_LINKS * LINK_BYTES);
  /** First offset the cached page holds (-1: none). */
  #pageAt = -1;
  /** Links the cached page really holds (a page read near the end of a file is short). */
  #pageLen = 0;

  /** Starts empty: whatever an earlier run left is thrown away. */
  constructor(dir: string) {
    this.#dir = dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  /** Writes the links of consecutive offsets from `first`: `bytes` holds one float64 (LE) each. */
  write(first: number, bytes: Buffer): void {
    const count = bytes.length / LINK_BYTES;
    let done = 0;
    while (done < count) {
      const offset = first + done;
      const file = Math.floor(offset / LINKS_PER_FILE);
      const inFile = Math.min(count - done, (file + 1) * LINKS_PER_FILE - offset);
      const at = (offset - file * LINKS_PER_FILE) * LINK_BYTES;
      let written = 0;
      const part = bytes.subarray(done * LINK_BYTES, (done + inFile) * LINK_BYTES);
      while (written < part.length) written += writeSync(this.#fd(file), part, written, part.length - written, at + written);
      done += inFile;
    }
    if (this.#pageAt >= 0 && this.#pageAt < first + count && first < this.#pageAt + this.#pageLen) this.#pageAt = -1;
  }

  /** The link of `offset` (written before). */
  read(offset: number): number {
    if (this.#pageAt < 0 || offset < this.#pageAt || offset >= this.#pageAt + this.#pageLen) {
      const file = Math.floor(offset / LINKS_PER_FILE);
      const start = Math.max(file * LINKS_PER_FILE, offset - PAGE_LINKS + 1);
      const got = readSync(this.#fd(file), this.#page, 0, this.#page.length, (start - file * LINKS_PER_FILE) * LINK_BYTES);
      if (got < (offset - start + 1) * LINK_BYTES) throw new Error(`timer link of offset ${offset} was never written`);
      this.#pageAt = start;
      this.#pageLen = Math.floor(got / LINK_BYTES);
    }
    return this.#page.readDoubleLE((offset - this.#pageAt) * LINK_BYTES);
  }

  /** Deletes the files whose every offset is below `offset`. */
  dropBelow(offset: number): void {
    for (const name of readdirSync(this.#dir)) {
      const file = Number(name);
      if (!Number.isSafeInteger(file) || (file + 1) * LINKS_PER_FILE > offset) continue;
      const fd = this.#fds.get(file);
      if (fd !== undefined) closeSync(fd);
      this.#fds.delete(file);
      unlinkSync(join(this.#dir, name));
      if (this.#pageAt >= file * LINKS_PER_FILE && this.#pageAt < (file + 1) * LINKS_PER_FILE) this.#pageAt = -1;
    }
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }

  #fd(file: number): number {
    let fd = this.#fds.get(file);
    if (fd === undefined) {
      fd = openSync(join(this.#dir, String(file)), 'a+');
      closeSync(fd);
      fd = openSync(join(this.#dir, String(file)), 'r+');
      this.#fds.set(file, fd);
    }
    return fd;
  }
}
