// `metaq bench store --rate N`: the store alone in sync flush at a fixed
// offered rate (open loop, latency from each batch's intended time), across
// segment rolls, printing per second the put->ack p99 and max and the
// CommitLog fdatasync p99 and max: the view that shows a disk stall (a
// zero-fill or a roll beside the acknowledging fdatasyncs) without the rest
// of the broker. Before the load it waits (up to --settle seconds) for the
// store's spare segments to be ready, as a broker has quiet time before a sale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageStore, type StoreMessage } from '../store/index.js';

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
  fdatasyncs: number[];
  acked: number;
  segments: number;
  spares: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export async function runStoreRateBench(o: StoreRateBenchOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(o.dir, 'metaq-bench-rate-'));
  const seconds: Second[] = [];
  const second = (s: number): Second => (seconds[s] ??= { latencies: [], fdatasyncs: [], acked: 0, segments: 0, spares: 0 });
  // Each CommitLog fdatasync timed where the store calls it (file-io.ts uses fs.fdatasync).
  const original = fs.fdatasync;
  let t0 = 0;
  fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    const started = performance.now();
    original(fd, (err) => {
      if (t0 > 0) second(Math.floor((started - t0) / MS_PER_SEC)).fdatasyncs.push(performance.now() - started);
      cb(err);
    });
  }) as typeof fs.fdatasync;
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
    let sent = 0;
    let acked = 0;
    let failed: unknown;
    let queue = 0;
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (now - t0 >= o.durationMs || failed !== undefined) return resolve();
        const s = second(Math.floor((now - t0) / MS_PER_SEC));
        const st = store.stats();
        s.segments = st.segments;
        s.spares = st.spareSegments;
        const due = Math.floor((o.rate * (now - t0)) / MS_PER_SEC);
        while (sent < due) {
          const n = Math.min(o.batchSize, due - sent);
          const intended = t0 + ((sent + n) / o.rate) * MS_PER_SEC;
          sent += n;
          store.put(TOPIC, queue++ % o.queues, batchOf(n)).then(
            () => {
              const at = second(Math.floor((intended - t0) / MS_PER_SEC));
              at.latencies.push(performance.now() - intended);
              at.acked += n;
              acked += n;
            },
            (err: unknown) => (failed = err),
          );
        }
        setTimeout(tick, o.tickMs);
      };
      tick();
    });
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    const cpu = process.cpuUsage(cpu0);
    const stats = store.stats();
    await store.close();
    if (failed !== undefined) throw failed;
    const all = seconds.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const syncs = seconds.flatMap((s) => s.fdatasyncs).sort((a, b) => a - b);
    return {
      bench: 'store-rate',
      params: { ...o, dir: undefined },
      machine: { cpus: os.cpus().length, node: process.version },
      sparesAtStart,
      offered: sent,
      acked,
      segments: stats.segments,
      fdatasyncs: syncs.length,
      cpuUsPerMessage: round1((cpu.user + cpu.system) / Math.max(1, acked)),
      putAckMs: { p50: round1(quantile(all, 0.5)), p99: round1(quantile(all, 0.99)), max: round1(quantile(all, 1)) },
      fdatasyncMs: { p50: round1(quantile(syncs, 0.5)), p99: round1(quantile(syncs, 0.99)), max: round1(quantile(syncs, 1)) },
      perSecond: seconds.map((s, i) => {
        s.latencies.sort((a, b) => a - b);
        s.fdatasyncs.sort((a, b) => a - b);
        return {
          second: i,
          acked: s.acked,
          p99Ms: round1(quantile(s.latencies, 0.99)),
          maxMs: round1(quantile(s.latencies, 1)),
          fdatasyncP99Ms: round1(quantile(s.fdatasyncs, 0.99)),
          fdatasyncMaxMs: round1(quantile(s.fdatasyncs, 1)),
          segments: s.segments,
          spares: s.spares,
        };
      }),
    };
  } finally {
    fs.fdatasync = original;
    fs.rmSync(root, { recursive: true, force: true });
  }
}
