// `metaq bench e2e`: producer, broker and consumer each in their own worker
// thread, talking over 127.0.0.1 with the real protocol (async flush, no
// replication). Two phases on fresh topics:
//  - maxRate: the producer keeps `inFlight` batches outstanding; the consumer
//    must keep up (it drains within a grace period after the producer stops).
//  - fixedRate: an open-loop producer offers `rate` msg/s; send and
//    end-to-end latencies are measured from each message's intended send time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NameServer } from '../namesrv/index.js';
import { BROKER_DEFAULTS } from '../broker/index.js';
import { writeRunCredentials, type RunCredentials } from '../security/index.js';
import { decodeHistogram, startBenchWorker, type BenchWorker } from './bench-worker.js';
import { percentileMs } from '../load/index.js';
import type { E2eReport, E2eRole } from './e2e-worker.js';

export interface E2eBenchOptions {
  /** Producing time of each phase. */
  durationMs: number;
  /** Offered rate of the fixed-rate phase. */
  rate: number;
  /** Fixed-rate phase: sent at the rate before `durationMs`, not measured (JIT warm-up, connections). */
  warmupMs: number;
  bodySize: number;
  queues: number;
  /** Messages per send in the max-rate phase (the fixed-rate phase sends what is due each tick, up to this). */
  batchSize: number;
  /** Batches outstanding in the max-rate phase. */
  inFlight: number;
  pullBatchSize: number;
  /** How long the consumer may take to drain after the producer stopped. */
  drainTimeoutMs: number;
  dir: string;
  /** Which phases to run (both by default). */
  phases: readonly ('max' | 'fixed')[];
}

export const E2E_BENCH_DEFAULTS: E2eBenchOptions = {
  durationMs: 10_000,
  rate: 100_000,
  warmupMs: 2000,
  bodySize: 128,
  queues: 8,
  batchSize: 128,
  inFlight: 16,
  pullBatchSize: 512,
  drainTimeoutMs: 30_000,
  dir: os.tmpdir(),
  phases: ['max', 'fixed'],
};

const NS_PER_S = 1e9;

interface RoleHandle extends BenchWorker<E2eReport> {
  /** Messages the role reported done so far (producer: acknowledged; consumer: consumed). */
  progress: number;
}

function startRole(job: E2eRole): RoleHandle {
  let progress = 0;
  const w = startBenchWorker<E2eReport>(new URL('./e2e-worker.js', import.meta.url), job, `e2e ${job.role}`, (r) => {
    if (r.type !== 'progress') return false;
    progress = r.count;
    return true;
  });
  return {
    ...w,
    get progress() {
      return progress;
    },
  };
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

interface PhaseResult {
  produced: Extract<E2eReport, { type: 'produced' }>;
  consumed: Extract<E2eReport, { type: 'consumed' }>;
  drained: boolean;
  drainMs: number;
}

async function runPhase(namesrv: string, creds: RunCredentials, topic: string, o: E2eBenchOptions, rate: number): Promise<PhaseResult> {
  const consumer = startRole({ role: 'consumer', namesrv, credential: creds.byRole.consumer, topic, group: `bench_${topic}`, pullBatchSize: o.pullBatchSize });
  await consumer.next('ready');
  const producer = startRole({ role: 'producer', namesrv, credential: creds.byRole.producer, topic, bodySize: o.bodySize, batchSize: o.batchSize, rate, inFlight: o.inFlight, durationMs: o.durationMs, warmupMs: o.warmupMs });
  await producer.next('ready');
  producer.send('go');
  const produced = (await producer.next('produced')) as PhaseResult['produced'];
  await producer.exited;
  const drainStart = Date.now();
  const drained = await waitUntil(() => consumer.progress >= produced.acked, o.drainTimeoutMs);
  const drainMs = Date.now() - drainStart;
  consumer.send('stop');
  const consumed = (await consumer.next('consumed')) as PhaseResult['consumed'];
  await consumer.exited;
  return { produced, consumed, drained, drainMs };
}

function maxRateReport(max: PhaseResult): object {
  const seconds = (max.produced.endNs - max.produced.startNs) / NS_PER_S;
  const consumeSeconds = (max.consumed.lastNs - max.produced.startNs) / NS_PER_S;
  return {
    ackedMsgsPerSec: Math.round(max.produced.acked / seconds),
    consumedMsgsPerSec: Math.round(max.consumed.count / consumeSeconds),
    acked: max.produced.acked,
    consumed: max.consumed.count,
    failed: max.produced.failed,
    consumerKeptUp: max.drained,
    drainAfterProducerStopMs: max.drainMs,
  };
}

function fixedRateReport(fixed: PhaseResult, rate: number): object {
  const seconds = (fixed.produced.endNs - fixed.produced.startNs) / NS_PER_S;
  const send = decodeHistogram(fixed.produced.send);
  const lag = decodeHistogram(fixed.produced.lag);
  const e2e = decodeHistogram(fixed.consumed.e2e);
  return {
    offeredMsgsPerSec: rate,
    ackedMsgsPerSec: Math.round(fixed.produced.acked / seconds),
    acked: fixed.produced.acked,
    consumed: fixed.consumed.count,
    failed: fixed.produced.failed,
    sendP50Ms: percentileMs(send, 50),
    sendP99Ms: percentileMs(send, 99),
    sendMaxMs: percentileMs(send, 100),
    e2eP50Ms: percentileMs(e2e, 50),
    e2eP99Ms: percentileMs(e2e, 99),
    e2eP999Ms: percentileMs(e2e, 99.9),
    e2eMaxMs: percentileMs(e2e, 100),
    e2eP99PerSecondMs: fixed.consumed.p99PerSecondMs,
    generatorLagP99Ms: percentileMs(lag, 99),
    generatorLagMaxMs: percentileMs(lag, 100),
  };
}

export async function runE2eBench(options: Partial<E2eBenchOptions> = {}): Promise<object> {
  const o = { ...E2E_BENCH_DEFAULTS, ...options };
  const dir = fs.mkdtempSync(path.join(o.dir, 'metaq-e2e-'));
  // Every link authenticates: fresh accounts per run beside the store (0600).
  const creds = writeRunCredentials(dir, [BROKER_DEFAULTS.brokerName]);
  const ns = await NameServer.start({ port: 0, credentialsFile: creds.credentialsFile });
  const broker = startRole({ role: 'broker', dir: path.join(dir, 'store'), namesrv: ns.addr, topics: { bench_max: o.queues, bench_fixed: o.queues }, credentialsFile: creds.credentialsFile, credential: creds.byRole.broker });
  try {
    await broker.next('broker-ready');
    const report: Record<string, unknown> = {
      bench: 'e2e',
      params: {
        durationSec: o.durationMs / 1000,
        fixedRateWarmupSec: o.warmupMs / 1000,
        bodySize: o.bodySize,
        queues: o.queues,
        batchSize: o.batchSize,
        inFlight: o.inFlight,
        pullBatchSize: o.pullBatchSize,
        flush: 'async',
        replication: 'none',
        topology: 'namesrv in the coordinator thread; broker, producer and consumer each in a worker thread; TCP over 127.0.0.1',
      },
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    };
    if (o.phases.includes('max')) {
      console.error(`e2e: max rate for ${o.durationMs / 1000} s ...`);
      report.maxRate = maxRateReport(await runPhase(ns.addr, creds, 'bench_max', o, 0));
    }
    if (o.phases.includes('fixed')) {
      console.error(`e2e: fixed rate ${o.rate} msg/s for ${o.durationMs / 1000} s ...`);
      report.fixedRate = fixedRateReport(await runPhase(ns.addr, creds, 'bench_fixed', o, o.rate), o.rate);
    }
    return report;
  } finally {
    broker.send('stop');
    await broker.exited;
    await ns.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
