// `metaq bench batching`: what the producer's send batching does for many
// callers each sending one message at a time (the activity service's
// pattern). A broker (no slave; async flush by default) and a producer each
// run in a worker thread, the name server in the coordinating thread, over
// TCP on 127.0.0.1. For each variant (batching off, or on with a given
// lingerMs; a fresh topic each) `callers` concurrent callers each send one
// message, await its answer, and send the next (closed loop), for a warm-up
// then a measured window: acknowledged msg/s, the latency each caller saw
// (p50/p99/max), the producer's and the broker's CPU (thread utime + stime)
// per message, and the mean batch size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NameServer } from '../namesrv/index.js';
import { BROKER_DEFAULTS } from '../broker/index.js';
import { writeRunCredentials, type Credential } from '../security/index.js';
import { decodeHistogram, startBenchWorker, type BenchWorker } from './bench-worker.js';
import { percentileMs, threadCpuUs } from '../load/index.js';
import type { BatchingReport, BatchingRole } from './batching-worker.js';

export interface BatchingBenchOptions {
  durationMs: number;
  warmupMs: number;
  bodySize: number;
  queues: number;
  /** Concurrent callers, each with one send outstanding. */
  callers: number;
  /** Variants: undefined = batching off, else its lingerMs. */
  lingers: readonly (number | undefined)[];
  /** maxMessages of every batching variant. */
  maxMessages: number;
  flush: 'sync' | 'async';
  dir: string;
}

export const BATCHING_BENCH_DEFAULTS: BatchingBenchOptions = {
  durationMs: 10_000,
  warmupMs: 2000,
  bodySize: 128,
  queues: 8,
  callers: 256,
  lingers: [undefined, 0, 1],
  maxMessages: 128,
  flush: 'async',
  dir: os.tmpdir(),
};

type Handle = BenchWorker<BatchingReport>;

interface CpuReading {
  broker: number | undefined;
  producer: number | undefined;
}

async function runVariant(o: BatchingBenchOptions, ns: string, credential: Credential, brokerTid: number | undefined, topic: string, linger: number | undefined): Promise<object> {
  let producerTid: number | undefined;
  let start: CpuReading | undefined;
  let end: CpuReading | undefined;
  const read = (): CpuReading => ({ broker: brokerTid === undefined ? undefined : threadCpuUs(brokerTid), producer: producerTid === undefined ? undefined : threadCpuUs(producerTid) });
  const job: BatchingRole = {
    role: 'producer',
    namesrv: ns,
    credential,
    topic,
    bodySize: o.bodySize,
    callers: o.callers,
    batching: linger === undefined ? undefined : { lingerMs: linger, maxMessages: o.maxMessages },
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
  };
  const producer: Handle = startBenchWorker<BatchingReport>(new URL('./batching-worker.js', import.meta.url), job, 'batching producer', (r) => {
    if (r.type !== 'window') return false;
    if (r.edge === 'start') start = read();
    else end = read();
    return true;
  });
  producerTid = (await producer.next('ready')).tid;
  producer.send('go');
  const p = await producer.next('produced');
  await producer.exited;
  const h = decodeHistogram(p.latency);
  const perMessage = (role: keyof CpuReading): number | null => {
    const a = start?.[role];
    const b = end?.[role];
    return a === undefined || b === undefined || p.acked === 0 ? null : Math.round(((b - a) / p.acked) * 100) / 100;
  };
  return {
    batching: linger === undefined ? 'off' : { lingerMs: linger, maxMessages: o.maxMessages },
    ackedMsgsPerSec: Math.round(p.acked / (p.windowUs / 1e6)),
    acked: p.acked,
    failed: p.failed,
    callerLatencyP50Ms: percentileMs(h, 50),
    callerLatencyP99Ms: percentileMs(h, 99),
    callerLatencyMaxMs: percentileMs(h, 100),
    producerCpuUsPerMessage: perMessage('producer'),
    brokerCpuUsPerMessage: perMessage('broker'),
    meanBatchSize: p.batches === 0 ? null : Math.round((p.batchedMessages / p.batches) * 10) / 10,
  };
}

export async function runBatchingBench(options: Partial<BatchingBenchOptions> = {}): Promise<object> {
  const o = { ...BATCHING_BENCH_DEFAULTS, ...options };
  const dir = fs.mkdtempSync(path.join(o.dir, 'metaq-batching-'));
  // Every link authenticates: fresh accounts per run beside the store (0600).
  const creds = writeRunCredentials(dir, [BROKER_DEFAULTS.brokerName]);
  const ns = await NameServer.start({ port: 0, credentialsFile: creds.credentialsFile });
  const topics = Object.fromEntries(o.lingers.map((_, i) => [`bench_batching_${i}`, o.queues]));
  const broker: Handle = startBenchWorker<BatchingReport>(new URL('./batching-worker.js', import.meta.url), { role: 'broker', dir: path.join(dir, 'store'), namesrv: ns.addr, topics, flush: o.flush, credentialsFile: creds.credentialsFile, credential: creds.byRole.broker } satisfies BatchingRole, 'batching broker');
  try {
    const { tid } = await broker.next('broker-ready');
    const runs: object[] = [];
    for (const [i, linger] of o.lingers.entries()) {
      console.error(`batching: ${linger === undefined ? 'off' : `lingerMs ${linger}`}, ${o.callers} callers, ${o.durationMs / 1000} s ...`);
      runs.push(await runVariant(o, ns.addr, creds.byRole.producer, tid, `bench_batching_${i}`, linger));
    }
    return {
      bench: 'batching',
      params: {
        durationSec: o.durationMs / 1000,
        warmupSec: o.warmupMs / 1000,
        bodySize: o.bodySize,
        queues: o.queues,
        callers: o.callers,
        flush: o.flush,
        replication: 'none',
        topology: 'namesrv in the coordinator thread; broker and producer each in a worker thread; TCP over 127.0.0.1; closed loop: each caller sends one message, awaits it, sends the next',
      },
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      runs,
    };
  } finally {
    broker.send('stop');
    await broker.next('stopped');
    await broker.exited;
    await ns.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
