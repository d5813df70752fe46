// The store's housekeeping on timers (RocketMQ's CleanCommitLogService and
// the checkpoint flush): periodic checkpoints, the disk-space mark that makes
// the store refuse writes above its high-water ratio, and retention, which
// deletes expired CommitLog segments with the index entries pointing into them.
import fs from 'node:fs';
import type { CheckpointService } from './checkpoint-service.js';
import type { CommitLog } from './commitlog/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { KeyIndex } from './key-index/index.js';
import type { StoreGate } from './store-gate.js';
import type { ResolvedStoreConfig } from './store-config.js';
import type { TopicTable } from './topic-table.js';

/** Scratch for one ConsumeQueue entry read. */
const ENTRY_SCRATCH_BYTES = 64;

export class Maintenance {
  readonly #config: ResolvedStoreConfig;
  readonly #log: CommitLog;
  readonly #topics: TopicTable;
  readonly #keys: KeyIndex;
  readonly #dispatcher: Dispatcher;
  readonly #gate: StoreGate;
  readonly #checkpoints: CheckpointService;
  readonly #scratch = Buffer.allocUnsafe(ENTRY_SCRATCH_BYTES);
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    config: ResolvedStoreConfig,
    log: CommitLog,
    topics: TopicTable,
    keys: KeyIndex,
    dispatcher: Dispatcher,
    gate: StoreGate,
    checkpoints: CheckpointService,
  ) {
    this.#config = config;
    this.#log = log;
    this.#topics = topics;
    this.#keys = keys;
    this.#dispatcher = dispatcher;
    this.#gate = gate;
    this.#checkpoints = checkpoints;
  }

  start(): void {
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#config.checkpointIntervalMs, () => {
      if (!this.#checkpoints.running && !this.#gate.closed) void this.#checkpoints.checkpoint().catch(() => undefined);
    });
    every(this.#config.diskCheckIntervalMs, () => void this.checkDisk());
    if (this.#config.retentionCheckIntervalMs > 0) {
      every(this.#config.retentionCheckIntervalMs, () => {
        try {
          this.deleteExpiredSegments();
        } catch {
          // An IO error deleting a file: the next round tries again.
        }
      });
    }
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
  }

  /** Re-measures disk use and sets the gate's disk-full mark. */
  async checkDisk(): Promise<void> {
    try {
      const s = await fs.promises.statfs(this.#config.dir);
      const used = 1 - s.bavail / s.blocks;
      this.#gate.diskFull = used > this.#config.diskHighWaterRatio;
    } catch {
      // statfs unsupported: do not refuse writes on a guess.
      this.#gate.diskFull = false;
    }
  }

  /**
   * Deletes CommitLog segments whose last write is older than the retention
   * time, oldest first (never the one being written), and the index entries
   * pointing into them. Returns how many segments were deleted.
   */
  deleteExpiredSegments(now = Date.now()): number {
    let deleted = 0;
    for (;;) {
      const oldest = this.#log.segments[0];
      if (oldest === undefined || this.#log.segments.length <= 1) break;
      // Only whole segments that readers and the flusher are done with.
      if (oldest.endOffset > this.#dispatcher.dispatchedOffset || oldest.endOffset > this.#log.flushedOffset) break;
      if (now - oldest.mtimeMs() < this.#config.retentionMs) break;
      this.#log.deleteOldestSegment();
      deleted++;
    }
    if (deleted > 0) {
      const min = this.#log.minOffset;
      for (const t of this.#topics.all()) for (const cq of t.queues) cq.dropBelowPhysical(min, this.#scratch);
      this.#keys.dropBelowPhysical(min);
    }
    return deleted;
  }
}
