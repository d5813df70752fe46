// MessageStore: the facade a broker opens on a directory. It assembles the
// parts, as RocketMQ's DefaultMessageStore does, and answers for them:
//  - WritePath: put, one drain per turn, acknowledgements (write-path.ts);
//  - Visibility: how far readers see, dispatcher runs (visibility.ts);
//  - ReadPath: reads by queue offset, time, log offset, id, key (read-path.ts);
//  - StoreReplicaLog: what replication works on, as a ReplicaLog (replica-log.ts);
//  - recovery at open (recovery.ts) and CheckpointService (checkpoint-service.ts);
//  - Maintenance: checkpoint timer, disk-space mark, retention (maintenance.ts);
// over the CommitLog, FlushService, Dispatcher, ConsumeQueues and key index.
import fs from 'node:fs';
import path from 'node:path';
import { StoreClosedError, type MetaqError } from '../common/index.js';
import type { DecodedMessage, PlainMessageBatch } from '../message/index.js';
import { CheckpointService } from './checkpoint-service.js';
import { CommitLog, FlushService, SPARE_FILL_QUIET_MS, type SyncLatencyStats } from './commitlog/index.js';
import { DirectorySyncs } from './directory-syncs.js';
import { Dispatcher } from './dispatcher.js';
import { FdCache } from './fd-cache.js';
import { KeyIndex } from './key-index/index.js';
import { Maintenance } from './maintenance.js';
import { ReadPath } from './read-path.js';
import { recoverStore } from './recovery.js';
import { StoreReplicaLog, type ReplicaLog } from './replica-log.js';
import { acquireStoreLock, type StoreLock } from './store-lock.js';
import { maxRecordSizeFor, resolveStoreConfig, type MessageStoreConfig, type ResolvedStoreConfig } from './store-config.js';
import { StoreGate } from './store-gate.js';
import { SyncRecord, type DurableImage } from './sync-record.js';
import { TopicTable } from './topic-table.js';
import type { ArrivalListener, GetResult, KeyLookupStats, KeyQueryResult, PutResult, StoreMessage, StoreStats } from './types.js';
import { Visibility } from './visibility.js';
import { WritePath } from './write-path.js';

const STAGING_SIZE = 8 << 20;

export class MessageStore {
  readonly config: ResolvedStoreConfig;
  readonly #lock: StoreLock;
  readonly #gate: StoreGate;
  readonly #dirSyncs = new DirectorySyncs();
  readonly #fds: FdCache;
  readonly #topics: TopicTable;
  readonly #log: CommitLog;
  readonly #keys: KeyIndex;
  readonly #dispatcher: Dispatcher;
  readonly #flush: FlushService;
  readonly #visibility: Visibility;
  readonly #writes: WritePath;
  readonly #reads: ReadPath;
  readonly #replica: StoreReplicaLog;
  readonly #checkpoints: CheckpointService;
  readonly #maintenance: Maintenance;
  readonly #record: SyncRecord | undefined;
  #recovered = false;
  #truncatedTail = false;

  private constructor(config: ResolvedStoreConfig) {
    this.config = config;
    fs.mkdirSync(config.dir, { recursive: true });
    this.#lock = acquireStoreLock(config.dir);
    this.#gate = new StoreGate(config.dir, config.diskHighWaterRatio);
    /** ConsumeQueue / index files written since the last checkpoint: the dispatcher adds, checkpoints sync. */
    const dirtyFiles = new Set<string>();
    try {
      const dirSyncs = this.#dirSyncs;
      this.#fds = new FdCache(config.maxOpenFiles, (file) => dirSyncs.add(path.dirname(file)));
      this.#topics = new TopicTable(path.join(config.dir, 'config'), path.join(config.dir, 'consumequeue'), this.#fds, config.consumeQueueEntriesPerFile, dirSyncs);
      this.#topics.load();
      this.#log = new CommitLog({
        dir: path.join(config.dir, 'commitlog'),
        segmentSize: config.segmentSize,
        maxRecordSize: maxRecordSizeFor(config),
        stagingSize: STAGING_SIZE,
        preallocate: config.preallocateSegments,
        spareSegments: config.spareSegments,
      });
      this.#keys = new KeyIndex(path.join(config.dir, 'index'), config.indexSlotCount, config.indexMaxEntries, dirSyncs, (err) => this.#onFlushFailed(err));
      this.#dispatcher = new Dispatcher(this.#log, this.#topics, this.#keys, dirtyFiles);
      this.#flush = new FlushService(this.#log, config.flushMode, config.flushIntervalMs, {
        flushed: (offset) => this.#onFlushed(offset),
        failed: (err) => this.#onFlushFailed(err),
      });
      const flush = this.#flush;
      // Quiet: no flush cycle and no write into the log for SPARE_FILL_QUIET_MS (sampled by the
      // fill itself, before each step and while it waits: nothing added to the write path). The
      // writes count too because in async mode cycles are rare while writes go on.
      const commitLog = this.#log;
      let seenWritten = commitLog.writtenOffset;
      let writtenAt = -Infinity;
      this.#log.yieldPreallocationTo(() => {
        const now = performance.now();
        if (commitLog.writtenOffset !== seenWritten) {
          seenWritten = commitLog.writtenOffset;
          writtenAt = now;
        }
        return now - writtenAt < SPARE_FILL_QUIET_MS || flush.activeWithin(SPARE_FILL_QUIET_MS);
      });
      if (config.syncRecordFile !== '') {
        const record = SyncRecord.open(config.syncRecordFile, config.dir);
        this.#record = record;
        this.#log.durableListener = (offset) => record.logDurable(offset);
      }
    } catch (err) {
      this.#lock.release();
      throw err;
    }
    const log = this.#log;
    const topics = this.#topics;
    const keys = this.#keys;
    const dispatcher = this.#dispatcher;
    const gate = this.#gate;
    this.#checkpoints = new CheckpointService(config.dir, log, topics, keys, this.#fds, dispatcher, dirtyFiles, {
      dirSyncs: this.#dirSyncs,
      gate,
      failed: (err) => this.#onFlushFailed(err),
      record: this.#record,
    });
    this.#visibility = new Visibility(log, dispatcher, config.flushMode, gate);
    this.#writes = new WritePath(config, log, topics, this.#flush, gate, this.#visibility);
    this.#reads = new ReadPath(log, topics, keys, dispatcher);
    this.#replica = new StoreReplicaLog(config.flushMode, log, {
      topics,
      keys,
      dispatcher,
      gate,
      writes: this.#writes,
      visibility: this.#visibility,
      flush: this.#flush,
      checkpoints: this.#checkpoints,
      dirtyFiles,
    });
    this.#maintenance = new Maintenance(config, log, topics, keys, dispatcher, gate, this.#checkpoints);
  }

  /** Opens (creating if needed) the store in `config.dir`, recovering after an unclean stop. */
  static async open(config: MessageStoreConfig): Promise<MessageStore> {
    const store = new MessageStore(resolveStoreConfig(config));
    try {
      store.#recovered = store.#lock.wasStale;
      const outcome = await recoverStore({
        dir: store.config.dir,
        log: store.#log,
        topics: store.#topics,
        keys: store.#keys,
        dispatcher: store.#dispatcher,
        checkpoints: store.#checkpoints,
      });
      store.#truncatedTail = outcome.truncatedTail;
      if (outcome.rebuilt.length > 0) {
        process.emitWarning(`metaq store: rebuilt damaged indexes from the commit log: ${outcome.rebuilt.join(', ')}`, { code: 'METAQ_INDEX_REBUILT' });
      }
      await store.#log.prepareSegments();
      await store.#maintenance.checkDisk();
    } catch (err) {
      store.#closeFiles();
      throw err;
    }
    store.#flush.start();
    store.#maintenance.start();
    return store;
  }

  // ---- topics ----

  /** Creates a topic with `queueCount` queues (or grows an existing one); topics.json is rewritten before this returns. */
  createTopic(topic: string, queueCount: number): void {
    this.#gate.checkOpen();
    this.#topics.create(topic, queueCount);
  }

  /**
   * createTopic for creations requested while serving: the topic exists at
   * once; the promise settles when topics.json durably holds it. A burst of
   * creations shares one write, off the event loop.
   */
  createTopicDurably(topic: string, queueCount: number): Promise<void> {
    this.#gate.checkOpen();
    return this.#topics.createDurably(topic, queueCount);
  }

  /** How many topics the store holds (every kind: the broker's own included). */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** topics.json writes that covered coalesced creations (createTopicDurably), so far. */
  get topicFileWrites(): number {
    return this.#topics.coalescedWrites;
  }

  /** Queue count of a topic, or undefined if it does not exist. */
  queueCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.queueCount;
  }

  topicNames(): string[] {
    return [...this.#topics.all()].map((t) => t.name);
  }

  // ---- writes ----

  /**
   * Appends a batch of messages to one queue. Resolves once the batch is in the
   * page cache (async flush) or covered by an fdatasync (sync flush); rejects
   * with a typed error otherwise, and then nothing of the batch is acknowledged.
   */
  put(topic: string, queueId: number, messages: readonly StoreMessage[]): Promise<PutResult> {
    return this.#writes.put(topic, queueId, messages);
  }

  /**
   * put() for plain messages read in place from the bytes they arrived in
   * (a SEND request's body; see PlainMessageBatch): the same records, the
   * same validation, no object or string per message. The batch is read
   * before this returns; its bytes may be reused after that.
   */
  putPlain(topic: string, queueId: number, batch: PlainMessageBatch): Promise<PutResult> {
    return this.#writes.putPlain(topic, queueId, batch);
  }

  // ---- replication (src/ha) ----

  /** The log as replication sees it: all that HaMaster and HaSlave may do with this store. */
  get replicaLog(): ReplicaLog {
    return this.#replica;
  }

  /** End of the log in the page cache: the next append goes here. */
  get writtenOffset(): number {
    return this.#log.writtenOffset;
  }

  // ---- reads ----

  /**
   * Reads up to `maxCount` messages (and about `maxBytes`, at least one) of a
   * queue from `offset`. With `tags`, only messages carrying one of them (by
   * tag code; the client re-checks the tag text). Never throws for a bad
   * offset or queue: see GetStatus.
   */
  getMessages(topic: string, queueId: number, offset: number, maxCount: number, maxBytes: number, tags?: readonly string[]): GetResult {
    return this.#reads.getMessages(topic, queueId, offset, maxCount, maxBytes, tags);
  }

  minOffset(topic: string, queueId: number): number {
    return this.#reads.minOffset(topic, queueId);
  }

  /** Queue offset the next visible message will get (messages [min, max) are readable). */
  maxOffset(topic: string, queueId: number): number {
    return this.#reads.maxOffset(topic, queueId);
  }

  /**
   * The first queue offset whose message was stored at or after `timestamp`
   * (ms since epoch); maxOffset if none. For re-consuming from a point in time.
   */
  offsetForTimestamp(topic: string, queueId: number, timestamp: number): number {
    return this.#reads.offsetForTimestamp(topic, queueId, timestamp);
  }

  /** The message stored at CommitLog offset `physicalOffset`, if there is one. */
  getMessageByOffset(physicalOffset: number): DecodedMessage | undefined {
    return this.#reads.getMessageByOffset(physicalOffset);
  }

  /** Raw bytes of the record at `physicalOffset`, if it is a visible record. */
  readRecord(physicalOffset: number): Buffer | undefined {
    return this.#reads.readRecord(physicalOffset);
  }

  /** Looks a message up by its id (see encodeMessageId); throws InvalidMessageIdError on a malformed id. */
  getMessageById(id: string): DecodedMessage | undefined {
    return this.#reads.getMessageById(id);
  }

  /** Messages of `topic` carrying `key`, newest first (no bound on the index entries read: see queryKey). */
  queryByKey(topic: string, key: string, maxCount?: number): DecodedMessage[] {
    return this.#reads.queryByKey(topic, key, maxCount);
  }

  /**
   * Up to `maxCount` messages of `topic` carrying `key`, newest first, having
   * read at most `maxCandidates` index slots and entries; `truncated` says the
   * budget ran out first (older matches may exist).
   */
  queryKey(topic: string, key: string, maxCount: number, maxCandidates: number): KeyQueryResult {
    return this.#reads.queryKey(topic, key, maxCount, maxCandidates);
  }

  /** Lookups by key so far: how many, index reads, how many ran out of budget. */
  keyLookupStats(): KeyLookupStats {
    return this.#reads.keyLookupStats();
  }

  /** Calls `listener` whenever new messages of a queue become visible. Returns an unsubscribe. */
  onArrival(listener: ArrivalListener): () => void {
    return this.#visibility.onArrival(listener);
  }

  // ---- maintenance ----

  /**
   * Deletes CommitLog segments whose last write is older than the retention
   * time, oldest first (never the one being written), and the index entries
   * pointing into them. Returns how many segments were deleted.
   */
  deleteExpiredSegments(now = Date.now()): number {
    return this.#maintenance.deleteExpiredSegments(now);
  }

  /** Runs a checkpoint now (indexes synced, checkpoint file rewritten). */
  checkpoint(): Promise<void> {
    return this.#checkpoints.checkpoint();
  }

  /** Re-measures disk use now (normally done on a timer). */
  async checkDiskSpace(): Promise<boolean> {
    await this.#maintenance.checkDisk();
    return this.#gate.diskFull;
  }

  /** The CommitLog's fdatasync cycles so far: their count, time, bytes and latency buckets (counters: diff two readings). */
  syncLatency(): SyncLatencyStats {
    return this.#flush.latency.stats();
  }

  stats(): StoreStats {
    return {
      flushMode: this.config.flushMode,
      minOffset: this.#log.minOffset,
      appendOffset: this.#log.appendOffset,
      writtenOffset: this.#log.writtenOffset,
      flushedOffset: this.#log.flushedOffset,
      dispatchedOffset: this.#dispatcher.dispatchedOffset,
      segments: this.#log.segments.length,
      topics: this.#topics.size,
      flushCycles: this.#flush.cycles,
      spareSegments: this.#log.spareSegments,
      pendingPuts: this.#writes.pendingCount,
      openQueueFiles: this.#fds.size,
      diskFull: this.#gate.diskFull,
      unavailable: this.#gate.unavailable === undefined ? undefined : `${this.#gate.unavailable.code}: ${this.#gate.unavailable.message}`,
      dispatchError: this.#visibility.dispatchError?.message,
      recovered: this.#recovered,
      truncatedTail: this.#truncatedTail,
    };
  }

  /**
   * For fault-injection tests: what each file would hold after a power cut now,
   * i.e. what the last completed fdatasync of each covered (paths relative to
   * the store dir; cutToDurableImage applies it).
   */
  durableImage(): DurableImage {
    return this.#checkpoints.durableImage();
  }

  /**
   * Stops taking writes, waits for pending ones to be written and flushed,
   * dispatches everything, writes a final checkpoint and releases the directory.
   */
  async close(): Promise<void> {
    if (this.#gate.closed) return;
    this.#gate.closed = true;
    this.#maintenance.stop();
    this.#flush.stop();
    try {
      this.#writes.drainNow();
      await this.#flush.flushAll();
      await this.#log.stopPreallocation();
      this.#writes.ack(this.#visibility.confirmedOffset());
      this.#visibility.dispatchNow();
      await this.#checkpoints.settle();
      if (this.#gate.unavailable === undefined) await this.#checkpoints.checkpoint();
      await this.#topics.settle();
    } finally {
      this.#writes.rejectAll(new StoreClosedError('the store closed before this batch was stored'));
      this.#closeFiles();
    }
  }

  // ---- flush outcomes, shared by the write path and the replica log ----

  #onFlushed(offset: number): void {
    if (this.config.flushMode === 'sync') {
      // The replica log first: a slave hears "durable here" before any producer hears SEND_OK.
      this.#replica.releaseWaiters(offset);
      this.#writes.ack(offset);
      this.#visibility.schedule();
    }
  }

  #onFlushFailed(err: MetaqError): void {
    // After a failed fdatasync the kernel may have dropped the dirty pages:
    // nothing unflushed can be vouched for, so stop taking writes (and
    // checkpoints) until a reopen has verified the tail. The first failure is kept.
    this.#gate.unavailable ??= err;
    this.#replica.rejectWaiters(err);
    this.#writes.rejectUnflushed(err);
  }

  #closeFiles(): void {
    try {
      this.#keys.close();
      this.#fds.closeAll();
      this.#log.close();
      this.#record?.close();
    } finally {
      this.#lock.release();
    }
  }
}
