// `metaq bench store --rate N`: the store alone in sync flush at a fixed
// offered rate (the project's open-loop generator, latency from each batch's
// intended time), across segment rolls, printing per second the put->ack p99
// and max and the CommitLog fdatasync p99 and max (from the store's own
// fdatasync latency buckets: each figure is the upper bound of its bucket):
// the view that shows a disk stall (a zero-fill or a roll beside the
// acknowledging fdatasyncs) without the rest of the broker. Before the load
// it waits (up to --settle seconds) for the store's spare segments to be
// ready, as a broker has quiet time before a sale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constantRateSchedule, nowUs, runOpenLoop } from '../load/index.js';
import { MessageStore, syncLatencyQuantileUs, type StoreMessage } from '../store/index.js';

export interface StoreRateBenchOptions {
  rate: number;
  durationMs: number;
  bodySize: number;
  queues: number;
  /** Largest put: what is due each tick is sent in batches of up to this many. */
  batchSize: number;
  tickMs: number;
  segmentSize: number;
  preallocate: boolean;
  spareSegments: number;
  /** Longest wait for the spares before the load starts. */
  settleMs: number;
  dir: string;
}

const TOPIC = 'LOTTERY_CLAIM';
const SETTLE_POLL_MS = 100;
const DRAIN_MS = 500;
const MS_PER_SEC = 1000;

interface Second {
  latencies: number[];
  /** The store's fdatasync bucket counts when the second began (its first tick). */
  syncBuckets: readonly number[] | undefined;
  acked: number;
  segments: number;
  spares: number;
}

const US_PER_MS = 1000;
const US_PER_SEC = 1e6;

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** A quantile (ms) of the fdatasyncs counted between two bucket readings; 0 without any, null without a first reading. */
function syncQuantileMs(from: readonly number[] | undefined, to: readonly number[], q: number): number | null {
  if (from === undefined) return null;
  const diff = to.map((c, i) => c - from[i]!);
  return round1((syncLatencyQuantileUs(diff, q) ?? 0) / US_PER_MS);
}

export async function runStoreRateBench(o: StoreRateBenchOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(o.dir, 'metaq-bench-rate-'));
  const seconds: Second[] = [];
  const second = (s: number): Second => (seconds[s] ??= { latencies: [], syncBuckets: undefined, acked: 0, segments: 0, spares: 0 });
  try {
    const store = await MessageStore.open({
      dir: root,
      flushMode: 'sync',
      segmentSize: o.segmentSize,
      preallocateSegments: o.preallocate,
      spareSegments: o.spareSegments,
      retentionCheckIntervalMs: 0,
    });
    store.createTopic(TOPIC, o.queues);
    const settleEnd = performance.now() + o.settleMs;
    while (o.preallocate && store.stats().spareSegments < o.spareSegments && performance.now() < settleEnd) {
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
    const sparesAtStart = store.stats().spareSegments;
    const body = Buffer.alloc(o.bodySize, 1);
    const batches = new Map<number, StoreMessage[]>();
    const batchOf = (n: number): StoreMessage[] => {
      let b = batches.get(n);
      if (b === undefined) batches.set(n, (b = Array.from({ length: n }, () => ({ body }))));
      return b;
    };
    const total = Math.floor((o.rate * o.durationMs) / MS_PER_SEC);
    let sent = 0;
    let acked = 0;
    let failed: unknown;
    let queue = 0;
    const syncAtStart = store.syncLatency();
    const cpu0 = process.cpuUsage();
    const startUs = nowUs();
    const secondOf = (us: number): number => Math.floor((us - startUs) / US_PER_SEC);
    await runOpenLoop({
      schedule: constantRateSchedule(o.rate, total),
      startUs,
      tickMs: o.tickMs,
      batchMax: o.batchSize,
      stopped: () => failed !== undefined,
      // Once per tick: where the store stands in this second.
      onLag: () => {
        const s = second(secondOf(nowUs()));
        const st = store.stats();
        s.segments = st.segments;
        s.spares = st.spareSegments;
        s.syncBuckets ??= store.syncLatency().buckets;
      },
      send: (_first, count, _firstUs, lastUs) => {
        sent += count;
        store.put(TOPIC, queue++ % o.queues, batchOf(count)).then(
          () => {
            const at = second(secondOf(lastUs));
            at.latencies.push((nowUs() - lastUs) / US_PER_MS);
            at.acked += count;
            acked += count;
          },
          (err: unknown) => (failed = err),
        );
      },
    });
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    const cpu = process.cpuUsage(cpu0);
    const syncAtEnd = store.syncLatency();
    const stats = store.stats();
    await store.close();
    if (failed !== undefined) throw failed;
    const all = seconds.flatMap((s) => s.latencies).sort((a, b) => a - b);
    return {
      bench: 'store-rate',
      params: { ...o, dir: undefined },
      machine: { cpus: os.cpus().length, node: process.version },
      sparesAtStart,
      offered: sent,
      acked,
      segments: stats.segments,
      fdatasyncs: syncAtEnd.cycles - syncAtStart.cycles,
      cpuUsPerMessage: round1((cpu.user + cpu.system) / Math.max(1, acked)),
      putAckMs: { p50: round1(quantile(all, 0.5)), p99: round1(quantile(all, 0.99)), max: round1(quantile(all, 1)) },
      fdatasyncMs: {
        p50: syncQuantileMs(syncAtStart.buckets, syncAtEnd.buckets, 0.5),
        p99: syncQuantileMs(syncAtStart.buckets, syncAtEnd.buckets, 0.99),
        max: syncQuantileMs(syncAtStart.buckets, syncAtEnd.buckets, 1),
      },
      perSecond: seconds.map((s, i) => {
        s.latencies.sort((a, b) => a - b);
        // The second ends where the next began (the last one: at the end); a
        // second without a tick of its own (a stalled event loop) has no reading: null.
        const until = seconds.slice(i + 1).find((n) => n?.syncBuckets !== undefined)?.syncBuckets ?? syncAtEnd.buckets;
        return {
          second: i,
          acked: s.acked,
          p99Ms: round1(quantile(s.latencies, 0.99)),
          maxMs: round1(quantile(s.latencies, 1)),
          fdatasyncP99Ms: syncQuantileMs(s.syncBuckets, until, 0.99),
          fdatasyncMaxMs: syncQuantileMs(s.syncBuckets, until, 1),
          segments: s.segments,
          spares: s.spares,
        };
      }),
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
