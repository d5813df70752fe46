// Configuration of a MessageStore: defaults, and validation that turns a typo
// or an impossible value into an InvalidConfigError before anything is opened.
import { checkInteger, InvalidConfigError } from '../common/index.js';
import { RECORD_OVERHEAD } from '../message/index.js';
import type { FlushMode } from './types.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
const HOUR_MS = 3_600_000;

export interface MessageStoreConfig {
  /** Directory holding the store (created if missing). */
  dir: string;
  /** `sync`: a put resolves once fdatasync covers it. `async`: once in the page cache. */
  flushMode?: FlushMode;
  /** CommitLog segment size in bytes (default 1 GiB). */
  segmentSize?: number;
  /** Largest message body in bytes (default 4 MiB). */
  maxMessageSize?: number;
  /**
   * Keep CommitLog segments ready before use: zero-filled (and fdatasynced)
   * while the store is quiet, or recycled from segments retention frees;
   * default true. Off: segments are created sparse and retention deletes.
   */
  preallocateSegments?: boolean;
  /**
   * With preallocateSegments: ready segments kept beyond the one being written
   * (default 2; each takes segmentSize of disk). Enough to cover a burst means
   * no zero-fill runs beside it.
   */
  spareSegments?: number;
  /** Async mode: how often the CommitLog is flushed (default 500 ms). */
  flushIntervalMs?: number;
  /** How often indexes are synced and the checkpoint rewritten (default 1000 ms). */
  checkpointIntervalMs?: number;
  /** Entries per ConsumeQueue file (default 300,000: 6 MB files). */
  consumeQueueEntriesPerFile?: number;
  /** Hash slots per key-index file (default 1,000,000). */
  indexSlotCount?: number;
  /** Entries per key-index file (default 4,000,000). */
  indexMaxEntries?: number;
  /** Bound on file descriptors kept open for ConsumeQueue files (default 256). */
  maxOpenFiles?: number;
  /** Segments whose last write is older than this are deleted (default 72 h). */
  retentionMs?: number;
  /** How often retention runs (default 10 s; 0 disables the timer). */
  retentionCheckIntervalMs?: number;
  /** Writes are refused while the disk is fuller than this ratio (default 0.90). */
  diskHighWaterRatio?: number;
  /** How often disk use is measured (default 1000 ms). */
  diskCheckIntervalMs?: number;
  /** Host and port written into message ids (the broker's address). */
  storeHost?: string;
  storePort?: number;
  /**
   * For fault-injection harnesses: keep in this file what each completed
   * fdatasync covered (sync-record.ts), so that a store killed with SIGKILL can
   * be cut to what a power cut would have left. Default '' (off, no cost).
   */
  syncRecordFile?: string;
}

export type ResolvedStoreConfig = Required<MessageStoreConfig>;

export const STORE_DEFAULTS: Omit<ResolvedStoreConfig, 'dir'> = {
  flushMode: 'async',
  segmentSize: GiB,
  preallocateSegments: true,
  spareSegments: 2,
  maxMessageSize: 4 * MiB,
  flushIntervalMs: 500,
  checkpointIntervalMs: 1000,
  consumeQueueEntriesPerFile: 300_000,
  indexSlotCount: 1_000_000,
  indexMaxEntries: 4_000_000,
  maxOpenFiles: 256,
  retentionMs: 72 * HOUR_MS,
  retentionCheckIntervalMs: 10_000,
  diskHighWaterRatio: 0.9,
  diskCheckIntervalMs: 1000,
  storeHost: '127.0.0.1',
  storePort: 0,
  syncRecordFile: '',
};

/** Room for topic and properties on top of the body when sizing a segment. */
const MAX_RECORD_EXTRA = RECORD_OVERHEAD + 255 + 0xffff;

export function resolveStoreConfig(config: MessageStoreConfig): ResolvedStoreConfig {
  if (config === null || typeof config !== 'object') throw new InvalidConfigError('store config must be an object');
  const known = new Set(['dir', ...Object.keys(STORE_DEFAULTS)]);
  for (const key of Object.keys(config)) {
    if (!known.has(key)) throw new InvalidConfigError(`unknown store config option ${JSON.stringify(key)}; known: ${[...known].join(', ')}`);
  }
  if (typeof config.dir !== 'string' || config.dir === '') throw new InvalidConfigError('store config dir must be a non-empty path');
  const defined = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const c = { ...STORE_DEFAULTS, ...defined } as ResolvedStoreConfig;
  if (c.flushMode !== 'sync' && c.flushMode !== 'async') {
    throw new InvalidConfigError(`store config flushMode must be "sync" or "async", got ${JSON.stringify(c.flushMode)}`);
  }
  if (typeof c.syncRecordFile !== 'string') throw new InvalidConfigError('store config syncRecordFile must be a path (or "" for none)');
  if (typeof c.preallocateSegments !== 'boolean') throw new InvalidConfigError('store config preallocateSegments must be a boolean');
  checkInteger('store config spareSegments', c.spareSegments, 0);
  checkInteger('store config maxMessageSize', c.maxMessageSize);
  checkInteger('store config segmentSize', c.segmentSize, 4096);
  if (c.segmentSize < c.maxMessageSize + MAX_RECORD_EXTRA) {
    throw new InvalidConfigError(`store config segmentSize (${c.segmentSize}) must hold the largest record (maxMessageSize + ${MAX_RECORD_EXTRA})`);
  }
  checkInteger('store config flushIntervalMs', c.flushIntervalMs);
  checkInteger('store config checkpointIntervalMs', c.checkpointIntervalMs);
  checkInteger('store config consumeQueueEntriesPerFile', c.consumeQueueEntriesPerFile);
  checkInteger('store config indexSlotCount', c.indexSlotCount);
  checkInteger('store config indexMaxEntries', c.indexMaxEntries);
  checkInteger('store config maxOpenFiles', c.maxOpenFiles, 8);
  checkInteger('store config retentionMs', c.retentionMs, 0);
  checkInteger('store config retentionCheckIntervalMs', c.retentionCheckIntervalMs, 0);
  checkInteger('store config diskCheckIntervalMs', c.diskCheckIntervalMs);
  checkInteger('store config storePort', c.storePort, 0);
  if (typeof c.diskHighWaterRatio !== 'number' || !(c.diskHighWaterRatio > 0 && c.diskHighWaterRatio <= 1)) {
    throw new InvalidConfigError(`store config diskHighWaterRatio must be in (0, 1], got ${JSON.stringify(c.diskHighWaterRatio)}`);
  }
  return c;
}

export function maxRecordSizeFor(c: ResolvedStoreConfig): number {
  return c.maxMessageSize + MAX_RECORD_EXTRA;
}
