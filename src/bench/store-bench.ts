// `metaq bench store`: append and read throughput of the MessageStore on a
// real directory, the figures docs/BENCHMARKS.md records. Async append,
// sync append (group commit, many batches in flight) and reads are measured
// on separate stores so that each phase starts from the same state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageStore } from '../store/index.js';
import type { StoreMessage } from '../store/index.js';
import { createLatencyHistogram, percentileMs } from '../load/index.js';

export interface StoreBenchOptions {
  /** Messages appended in the async phase (and read back). */
  messages: number;
  /** Messages appended in the sync phase. */
  syncMessages: number;
  bodySize: number;
  topics: number;
  queuesPerTopic: number;
  batchSize: number;
  /** Batches in flight at once. */
  concurrency: number;
  /** Messages per read. */
  readBatch: number;
  segmentSize: number;
  /** Parent directory for the bench stores (a temp dir is made inside and removed). */
  dir: string;
  keep: boolean;
}

export const STORE_BENCH_DEFAULTS: StoreBenchOptions = {
  messages: 2_000_000,
  syncMessages: 1_000_000,
  bodySize: 128,
  topics: 16,
  queuesPerTopic: 8,
  batchSize: 64,
  concurrency: 64,
  readBatch: 64,
  segmentSize: 1 << 30,
  dir: os.tmpdir(),
  keep: false,
};

const MB = 1e6;
const RSS_SAMPLE_MS = 100;

function makeBatch(size: number, bodySize: number): StoreMessage[] {
  return Array.from({ length: size }, (_, i) => ({ body: Buffer.alloc(bodySize, i & 0xff) }));
}

/** Samples resident memory while `fn` runs; returns fn's result and the peak. */
async function withRssPeak<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMb: Math.round(peak / MB) };
  } finally {
    clearInterval(timer);
  }
}

/** Appends `total` messages with `concurrency` batches in flight; calls `onBatch` with each batch's latency. */
async function appendAll(store: MessageStore, o: StoreBenchOptions, total: number, onBatch?: (us: number) => void): Promise<number> {
  const batch = makeBatch(o.batchSize, o.bodySize);
  const queues = o.topics * o.queuesPerTopic;
  const batches = Math.ceil(total / o.batchSize);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches) {
      const b = next++;
      const q = b % queues;
      const started = onBatch === undefined ? 0 : performance.now();
      await store.put(`bench-${Math.floor(q / o.queuesPerTopic)}`, q % o.queuesPerTopic, batch);
      if (onBatch !== undefined) onBatch((performance.now() - started) * 1000);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return batches * o.batchSize;
}

async function openStore(dir: string, o: StoreBenchOptions, flushMode: 'sync' | 'async'): Promise<MessageStore> {
  const store = await MessageStore.open({ dir, flushMode, segmentSize: o.segmentSize, retentionCheckIntervalMs: 0 });
  for (let t = 0; t < o.topics; t++) store.createTopic(`bench-${t}`, o.queuesPerTopic);
  return store;
}

export async function runStoreBench(o: StoreBenchOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(o.dir, 'metaq-bench-'));
  try {
    // Async append: resolves once in the page cache.
    const asyncStore = await openStore(path.join(root, 'async'), o, 'async');
    const t0 = performance.now();
    const { result: appended, peakRssMb } = await withRssPeak(() => appendAll(asyncStore, o, o.messages));
    const asyncSec = (performance.now() - t0) / 1000;
    const stats = asyncStore.stats();
    await asyncStore.checkpoint();

    // Reads: ConsumeQueue lookup + CommitLog read of everything just written
    // (in the page cache), queue by queue.
    await new Promise((r) => setImmediate(r));
    const r0 = performance.now();
    let read = 0;
    let readBytes = 0;
    for (let t = 0; t < o.topics; t++) {
      for (let q = 0; q < o.queuesPerTopic; q++) {
        const topic = `bench-${t}`;
        let offset = asyncStore.minOffset(topic, q);
        for (;;) {
          const r = asyncStore.getMessages(topic, q, offset, o.readBatch, 1 << 20);
          if (r.status !== 'FOUND') break;
          read += r.count;
          readBytes += r.records.length;
          offset = r.nextOffset;
        }
      }
    }
    const readSec = (performance.now() - r0) / 1000;
    await asyncStore.close();

    // Sync append: group commit with `concurrency` batches in flight.
    const syncStore = await openStore(path.join(root, 'sync'), o, 'sync');
    const h = await createLatencyHistogram();
    const s0 = performance.now();
    const synced = await appendAll(syncStore, o, o.syncMessages, (us) => h.recordValue(Math.max(1, Math.round(us))));
    const syncSec = (performance.now() - s0) / 1000;
    const flushCycles = syncStore.stats().flushCycles;
    await syncStore.close();
    const syncAppend = {
      messages: synced,
      msgsPerSec: Math.round(synced / syncSec),
      p50Ms: percentileMs(h, 50),
      p99Ms: percentileMs(h, 99),
      maxMs: percentileMs(h, 100),
      fdatasyncs: flushCycles,
      messagesPerFdatasync: Math.round(synced / Math.max(1, flushCycles)),
    };
    h.destroy();

    return {
      bench: 'store',
      params: {
        messages: o.messages,
        syncMessages: o.syncMessages,
        bodySize: o.bodySize,
        topics: o.topics,
        queuesPerTopic: o.queuesPerTopic,
        batchSize: o.batchSize,
        concurrency: o.concurrency,
        readBatch: o.readBatch,
        segmentSize: o.segmentSize,
      },
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      asyncAppend: {
        messages: appended,
        msgsPerSec: Math.round(appended / asyncSec),
        mbPerSec: Math.round(stats.appendOffset / MB / asyncSec),
        logBytes: stats.appendOffset,
        peakRssMb,
      },
      syncAppend,
      read: { messages: read, msgsPerSec: Math.round(read / readSec), mbPerSec: Math.round(readBytes / MB / readSec) },
    };
  } finally {
    if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
  }
}
