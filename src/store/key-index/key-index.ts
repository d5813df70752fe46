// The index by key: a sequence of IndexFiles (named by the 20-digit CommitLog
// offset of their first entry) mapping `topic#key` to CommitLog offsets.
// Fed by the dispatcher, queried newest file first; files whose entries all
// point below the CommitLog's first offset are deleted with it.
import fs from 'node:fs';
import path from 'node:path';
import { FlushError, offsetFileName } from '../../common/index.js';
import type { KeyFileTail } from '../checkpoint.js';
import type { DirectorySyncs } from '../directory-syncs.js';
import { IndexFile, type KeyScanBudget, type KeyScanEnd } from './index-file.js';
import { keyHash } from './key-hash.js';

const FILE_NAME = /^\d{20}$/;

export class KeyIndex {
  readonly #dir: string;
  readonly #slotCount: number;
  readonly #maxEntries: number;
  readonly #dirSyncs: DirectorySyncs;
  readonly #syncFailed: (error: FlushError) => void;
  readonly #files: IndexFile[] = [];
  /** Length of each file as of its last fdatasync in this process (for MessageStore.durableImage). */
  readonly #syncedLengths = new Map<string, number>();
  #dirty = false;

  /** `syncFailed`: sealing a file failed its fdatasync (the store then stops vouching for anything). */
  constructor(dir: string, slotCount: number, maxEntries: number, dirSyncs: DirectorySyncs, syncFailed: (error: FlushError) => void = () => undefined) {
    this.#dir = dir;
    this.#syncFailed = syncFailed;
    this.#slotCount = slotCount;
    this.#maxEntries = maxEntries;
    this.#dirSyncs = dirSyncs;
    const first = fs.mkdirSync(dir, { recursive: true });
    if (first !== undefined) dirSyncs.addCreated(first, dir);
    const names = fs.readdirSync(dir).filter((n) => FILE_NAME.test(n)).sort();
    names.forEach((name, i) => {
      const f = IndexFile.open(path.join(dir, name), i === names.length - 1);
      if (!f.sealed) f.setCapacity(maxEntries);
      this.#files.push(f);
    });
  }

  add(topic: string, key: string, physicalOffset: number, storeTimestamp: number): void {
    this.addHash(keyHash(topic, key), physicalOffset, storeTimestamp);
  }

  /** `add` with the hash already computed (the dispatcher hashes keys straight from the record's bytes). */
  addHash(hash: number, physicalOffset: number, storeTimestamp: number): void {
    let active = this.#files[this.#files.length - 1];
    if (active === undefined || active.sealed || active.full) {
      if (active !== undefined && !active.sealed) {
        try {
          active.seal();
        } catch (err) {
          const error = new FlushError(`sealing key index file ${active.path} failed`, { cause: err });
          this.#syncFailed(error);
          throw error;
        }
        this.#syncedLengths.set(active.path, fs.fstatSync(active.fd).size);
      }
      active = IndexFile.create(path.join(this.#dir, offsetFileName(physicalOffset)), this.#slotCount, this.#maxEntries);
      this.#dirSyncs.add(this.#dir);
      this.#syncedLengths.delete(active.path); // a new file under a name used before: nothing of it is synced yet
      this.#files.push(active);
    }
    active.add(hash, physicalOffset, storeTimestamp);
    this.#dirty = true;
  }

  /** Writes entries added since the last call (end of a dispatch pass). */
  writePending(): void {
    this.#files[this.#files.length - 1]?.writePending();
  }

  /**
   * Hands `visit` the candidate CommitLog offsets for `topic#key` (hash
   * matches: the caller verifies the record), newest file first, until it
   * returns false or `budget` (one unit per slot or entry read) is spent.
   */
  scan(topic: string, key: string, budget: KeyScanBudget, visit: (physicalOffset: number) => boolean): KeyScanEnd {
    const hash = keyHash(topic, key);
    for (let i = this.#files.length - 1; i >= 0; i--) {
      const end = this.#files[i]!.scan(hash, budget, visit);
      if (end !== 'done') return end;
    }
    return 'done';
  }

  async sync(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const active = this.#files[this.#files.length - 1];
    if (active !== undefined && !active.sealed) {
      const length = fs.fstatSync(active.fd).size;
      await active.sync();
      // Filled and sealed meanwhile: the seal synced it whole and noted that
      // length; this older, shorter one must not replace it.
      if (!active.sealed) this.#syncedLengths.set(active.path, length);
    }
  }

  /**
   * Fdatasyncs every file now and notes its length (at open, when a sync
   * record must vouch for files this process has not written yet).
   */
  syncAllNow(): void {
    for (const f of this.#files) {
      const length = fs.fstatSync(f.fd).size;
      fs.fdatasyncSync(f.fd);
      this.#syncedLengths.set(f.path, length);
    }
  }

  get syncedLengths(): ReadonlyMap<string, number> {
    return this.#syncedLengths;
  }

  /** Each file as it is now, oldest first (for the checkpoint: recovery compares against it). */
  tails(): KeyFileTail[] {
    return this.#files.map((f) => ({ base: Number(path.basename(f.path)), entries: f.entryCount, end: f.endPhysicalOffset }));
  }

  /**
   * Recovery: compares the files with what the last checkpoint saw (all of it
   * fdatasynced then). At the first file that is missing or holds fewer
   * entries, that file and every later one go, and the CommitLog offset from
   * which keys must be indexed again is returned; undefined if nothing is
   * missing. Files of records that retention deleted are not expected.
   */
  cutAtLoss(expected: readonly KeyFileTail[], logMinOffset: number): number | undefined {
    const byBase = new Map(this.#files.map((f) => [Number(path.basename(f.path)), f]));
    for (const t of expected) {
      if (t.entries === 0 || t.end < logMinOffset) continue;
      const f = byBase.get(t.base);
      if (f !== undefined && Math.min(f.entryCount, f.entriesOnDisk()) >= t.entries) continue;
      this.truncateFromPhysical(t.base);
      return t.base;
    }
    return undefined;
  }

  /** Recovery: forget entries for CommitLog offsets >= `physicalOffset`. */
  truncateFromPhysical(physicalOffset: number): void {
    // Files that hold nothing below the cut (or nothing at all) go entirely.
    for (let last = this.#files.at(-1); last !== undefined && (last.entryCount === 0 || last.beginPhysicalOffset >= physicalOffset); last = this.#files.at(-1)) {
      this.#files.pop()!.destroy();
    }
    const last = this.#files[this.#files.length - 1];
    if (last === undefined) return;
    if (last.sealed) {
      // Reopen as the active file so that its slots are rebuilt after the cut.
      this.#files.pop();
      last.close();
      const reopened = IndexFile.open(last.path, true);
      reopened.setCapacity(this.#maxEntries);
      this.#files.push(reopened);
    }
    this.#files[this.#files.length - 1]!.truncateFromPhysical(physicalOffset);
  }

  /** Retention: delete files whose every entry points below `minPhysicalOffset`. */
  dropBelowPhysical(minPhysicalOffset: number): void {
    while (this.#files.length > 1 && this.#files[0]!.sealed && this.#files[0]!.endPhysicalOffset < minPhysicalOffset) {
      this.#files.shift()!.destroy();
    }
  }

  close(): void {
    for (const f of this.#files) f.close();
    this.#files.length = 0;
  }
}
