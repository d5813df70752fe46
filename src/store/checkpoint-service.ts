// The checkpoint service (RocketMQ's StoreCheckpoint and the index flushes):
// writes the ConsumeQueue tails, fdatasyncs the index files written since the
// last checkpoint and the directories that got new files, and records the
// offset below which everything is durable and how long each index then was
// (checkpoint.ts), which is where recovery starts next time. Also knows what
// a power cut would leave of each file (durableImage), and keeps the sync
// record up to date with it when there is one (sync-record.ts).
//
// A failed fdatasync here is never retried into a checkpoint: the kernel may
// have dropped the dirty pages, so the store is told (it then refuses writes
// until reopened) and no checkpoint is written again in this process.
import fs from 'node:fs';
import path from 'node:path';
import { FlushError } from '../common/index.js';
import { writeCheckpoint, writeCheckpointAsync, type IndexTails, type QueueTail } from './checkpoint.js';
import type { CommitLog } from './commitlog/index.js';
import type { DirectorySyncs } from './directory-syncs.js';
import type { Dispatcher } from './dispatcher.js';
import type { FdCache } from './fd-cache.js';
import { fdatasync } from './file-io.js';
import type { KeyIndex } from './key-index/index.js';
import type { StoreGate } from './store-gate.js';
import type { DurableImage, SyncRecord } from './sync-record.js';
import type { TopicTable } from './topic-table.js';

/** Concurrent fdatasyncs of ConsumeQueue files at a checkpoint. */
const CHECKPOINT_SYNC_CONCURRENCY = 8;

/** What the checkpoint service needs besides the store's parts. */
export interface CheckpointContext {
  dirSyncs: DirectorySyncs;
  gate: StoreGate;
  /** An fdatasync (or directory fsync) failed: nothing it covered can be vouched for. */
  failed: (error: FlushError) => void;
  /** For fault injection: told the index files' durable lengths before each checkpoint relies on them. */
  record?: SyncRecord;
}

export class CheckpointService {
  readonly #dir: string;
  readonly #context: CheckpointContext;
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #keys: KeyIndex;
  readonly #fds: FdCache;
  readonly #dispatcher: Dispatcher;
  /** ConsumeQueue / index files written since the last checkpoint (the dispatcher adds to it). */
  readonly #dirtyFiles: Set<string>;
  /** Durable length of each ConsumeQueue file, as of its last fdatasync. */
  readonly #syncedLengths = new Map<string, number>();
  /** Checkpoint bookkeeping: see Checkpoint.verifyFrom. */
  #lastSafe = 0;
  #verifyFrom = 0;
  #running: Promise<void> | undefined;

  constructor(
    dir: string,
    log: CommitLog,
    topics: TopicTable,
    keys: KeyIndex,
    fds: FdCache,
    dispatcher: Dispatcher,
    dirtyFiles: Set<string>,
    context: CheckpointContext,
  ) {
    this.#dir = dir;
    this.#context = context;
    this.#log = log;
    this.#topics = topics;
    this.#keys = keys;
    this.#fds = fds;
    this.#dispatcher = dispatcher;
    this.#dirtyFiles = dirtyFiles;
  }

  /** A checkpoint is being written. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Runs a checkpoint now (indexes synced, checkpoint file rewritten), after any running one. */
  async checkpoint(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
    this.#running = this.#write().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  /** Waits until no checkpoint is running. */
  async settle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /**
   * Recovery verified the log from `verifyFrom` to `safe` and rebuilt the
   * indexes from there (queue tails written): make all of it durable (the
   * verified tail may only be in the page cache after a process crash) before
   * a checkpoint vouches for it.
   */
  async commitRecovery(verifyFrom: number, safe: number): Promise<void> {
    for (const s of this.#log.segmentsBetween(verifyFrom, safe)) fs.fdatasyncSync(s.fd);
    // The checkpoint below vouches for every queue's and key file's tail, also
    // those an earlier run wrote (maybe never synced): a sync record must then know them all.
    if (this.#context.record !== undefined) {
      for (const file of listIndexFiles(path.join(this.#dir, 'consumequeue'))) this.#dirtyFiles.add(file);
      this.#keys.syncAllNow();
    }
    for (const file of this.#dirtyFiles) {
      const fd = this.#fds.pin(file);
      try {
        const length = fs.fstatSync(fd).size;
        fs.fdatasyncSync(fd);
        this.#syncedLengths.set(file, length);
      } finally {
        this.#fds.unpin(file);
      }
    }
    this.#dirtyFiles.clear();
    const tails = this.#tails();
    await this.#keys.sync();
    await this.#context.dirSyncs.syncAll();
    this.#lastSafe = safe;
    this.#verifyFrom = verifyFrom;
    this.#context.record?.filesDurableSync(this.#durableFiles());
    writeCheckpoint(this.#dir, { safeOffset: safe, verifyFrom, timestamp: Date.now(), tails });
  }

  /** The log was cut at `offset`: the next checkpoint must not vouch for anything past it. */
  lowerTo(offset: number): void {
    this.#lastSafe = Math.min(this.#lastSafe, offset);
    this.#verifyFrom = Math.min(this.#verifyFrom, offset);
  }

  /** Writes every ConsumeQueue's in-memory tail to its files. */
  writeQueueTails(): void {
    for (const t of this.#topics.all()) for (const cq of t.queues) if (cq.unwritten) cq.writeTail(this.#dirtyFiles);
  }

  /**
   * For fault-injection tests: what each file would hold after a power cut now,
   * i.e. what the last completed fdatasync of each covered.
   */
  durableImage(): DurableImage {
    const files = new Map<string, number>();
    for (const [file, length] of this.#durableFiles()) files.set(path.relative(this.#dir, file), length);
    return { logOffset: this.#log.flushedOffset, files };
  }

  /** Durable length of every index file synced in this process (absolute paths; a key file's own note wins). */
  #durableFiles(): Map<string, number> {
    return new Map([...this.#syncedLengths, ...this.#keys.syncedLengths]);
  }

  /** How long every index is now (taken right after the queue tails were written, before the syncs). */
  #tails(): IndexTails {
    const queues = new Map<string, QueueTail[]>();
    for (const t of this.#topics.all()) queues.set(t.name, t.queues.map((cq) => ({ min: cq.minOffset, count: cq.maxOffset })));
    return { logMinOffset: this.#log.minOffset, queues, keyFiles: this.#keys.tails() };
  }

  async #write(): Promise<void> {
    const gate = this.#context.gate;
    // After a failed fdatasync nothing more is vouched for until the store is reopened.
    if (gate.unavailable !== undefined) return;
    // Recovery finds topics in topics.json: vouch only for records of topics it holds (checked right before `safe` is taken).
    while (!this.#topics.isDurable) await this.#topics.durable();
    const safe = Math.min(this.#dispatcher.dispatchedOffset, this.#log.flushedOffset);
    // Every entry below `safe` is published; put them all in their files first.
    this.writeQueueTails();
    const tails = this.#tails();
    const files = [...this.#dirtyFiles];
    this.#dirtyFiles.clear();
    const failures: unknown[] = [];
    for (let i = 0; i < files.length; i += CHECKPOINT_SYNC_CONCURRENCY) {
      await Promise.all(
        files.slice(i, i + CHECKPOINT_SYNC_CONCURRENCY).map(async (file) => {
          // Retention may have deleted the file since it was written: pin()
          // would recreate it empty (and an empty first file hides the queue).
          if (!fs.existsSync(file)) return;
          const fd = this.#fds.pin(file);
          try {
            const length = fs.fstatSync(fd).size;
            await fdatasync(fd);
            this.#syncedLengths.set(file, length);
          } catch (err) {
            failures.push(err);
            this.#dirtyFiles.add(file);
          } finally {
            this.#fds.unpin(file);
          }
        }),
      );
    }
    try {
      await this.#keys.sync();
      await this.#context.dirSyncs.syncAll();
    } catch (err) {
      failures.push(err);
    }
    if (failures.length === 0 && gate.unavailable === undefined) {
      if (safe !== this.#lastSafe) {
        this.#verifyFrom = this.#lastSafe;
        this.#lastSafe = safe;
      }
      try {
        await this.#context.record?.filesDurable(this.#durableFiles());
        await writeCheckpointAsync(this.#dir, { safeOffset: safe, verifyFrom: this.#verifyFrom, timestamp: Date.now(), tails });
        return;
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length === 0) return; // the store failed elsewhere meanwhile: the old checkpoint stays, still true
    // The old checkpoint stays (it is still true); a retry could succeed on
    // pages the kernel already dropped, so there is none.
    const error = new FlushError(`fdatasync at a checkpoint failed (${failures.length} file(s)); the store refuses writes until reopened`, { cause: failures[0] });
    this.#context.failed(error);
    throw error;
  }
}

/** Every file below a ConsumeQueue directory (topic/queue/file). */
function listIndexFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}
