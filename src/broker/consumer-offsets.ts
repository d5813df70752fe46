// Committed consumer offsets: group -> (topic, queue) -> next offset to
// consume. Kept in memory, written to one file atomically (temp file, fsync,
// rename) when changed, so they survive a broker restart. Losing the last
// interval's commits on a crash only means re-delivery (at-least-once).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CorruptStoreError } from '../common/index.js';

export const OFFSETS_FILE = 'consumerOffsets.json';

interface OffsetsFile {
  version: 1;
  /** group -> "topic:queueId" -> offset */
  offsets: Record<string, Record<string, number>>;
}

function key(topic: string, queueId: number): string {
  return `${topic}:${queueId}`;
}

export class ConsumerOffsets {
  readonly #path: string;
  readonly #groups = new Map<string, Map<string, number>>();
  #dirty = false;
  #writing: Promise<void> | undefined;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.#path = join(dir, OFFSETS_FILE);
    if (existsSync(this.#path)) {
      let parsed: OffsetsFile;
      try {
        parsed = JSON.parse(readFileSync(this.#path, 'utf8')) as OffsetsFile;
      } catch (err) {
        throw new CorruptStoreError(`${this.#path} is not valid JSON`, { cause: err });
      }
      for (const [group, entries] of Object.entries(parsed.offsets ?? {})) {
        this.#groups.set(group, new Map(Object.entries(entries)));
      }
    }
  }

  /** Commits; an offset never moves backwards through a commit (a late commit from a previous owner). */
  commit(group: string, topic: string, queueId: number, offset: number): void {
    let g = this.#groups.get(group);
    if (g === undefined) {
      g = new Map();
      this.#groups.set(group, g);
    }
    const k = key(topic, queueId);
    const prev = g.get(k);
    if (prev !== undefined && prev >= offset) return;
    g.set(k, offset);
    this.#dirty = true;
  }

  /** Sets an offset even backwards (an admin reset). */
  reset(group: string, topic: string, queueId: number, offset: number): void {
    let g = this.#groups.get(group);
    if (g === undefined) {
      g = new Map();
      this.#groups.set(group, g);
    }
    g.set(key(topic, queueId), offset);
    this.#dirty = true;
  }

  get(group: string, topic: string, queueId: number): number | undefined {
    return this.#groups.get(group)?.get(key(topic, queueId));
  }

  /** Every committed offset: group -> "topic:queueId" -> offset (replicated to a slave). */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [g, entries] of this.#groups) out[g] = Object.fromEntries(entries);
    return out;
  }

  /** Takes a master's offsets: each moves forward only (a consumer may have committed here since). */
  apply(snapshot: Record<string, Record<string, number>>): void {
    for (const [group, entries] of Object.entries(snapshot)) {
      for (const [k, offset] of Object.entries(entries)) {
        const sep = k.lastIndexOf(':');
        this.commit(group, k.slice(0, sep), Number(k.slice(sep + 1)), offset);
      }
    }
  }

  /** Writes the file if anything changed since the last write. */
  async persist(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#writing = this.#write().finally(() => {
      this.#writing = undefined;
    });
    try {
      await this.#writing;
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
  }

  async #write(): Promise<void> {
    const file: OffsetsFile = { version: 1, offsets: this.snapshot() };
    const tmp = `${this.#path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(file));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#path);
    // The rename itself must survive a power cut: fsync the directory holding the entry.
    const dir = await open(dirname(this.#path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
