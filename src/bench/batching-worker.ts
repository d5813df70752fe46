// One role of the producer-batching benchmark, in its own worker thread: the
// broker (no slave; async or sync flush), or the producer whose `callers`
// concurrent callers each send one message, await it, and send the next
// (closed loop), with or without the producer's send batching. The producer
// sends back its counts, the latency each caller saw (HDR, µs) over the
// measured window, and the batches it made.
import { parentPort, workerData } from 'node:worker_threads';
import { Broker } from '../broker/index.js';
import { Producer, type BatchingOptions } from '../client/index.js';
import type { Credential } from '../security/index.js';
import { createLatencyHistogram, encodeHistogram, nowUs, ownThreadTid, startClosedLoop } from '../load/index.js';

export type BatchingRole =
  | { role: 'broker'; dir: string; namesrv: string; topics: Record<string, number>; flush: 'sync' | 'async'; credentialsFile: string; credential: Credential }
  | {
      role: 'producer';
      namesrv: string;
      credential: Credential;
      topic: string;
      bodySize: number;
      callers: number;
      /** Undefined: batching off. */
      batching: BatchingOptions | undefined;
      warmupMs: number;
      durationMs: number;
    };

export type BatchingReport =
  | { type: 'broker-ready'; tid: number | undefined }
  | { type: 'ready'; tid: number | undefined }
  | { type: 'window'; edge: 'start' | 'end' }
  | { type: 'produced'; acked: number; failed: number; windowUs: number; latency: string; batches: number; batchedMessages: number }
  | { type: 'stopped' };

const port = parentPort!;
const job = workerData as BatchingRole;

function post(r: BatchingReport): void {
  port.postMessage(r);
}

function nextMessage(): Promise<void> {
  return new Promise<void>((resolve) => port.once('message', () => resolve()));
}

async function runBroker(j: Extract<BatchingRole, { role: 'broker' }>): Promise<void> {
  const broker = await Broker.start({ port: 0, namesrvAddrs: [j.namesrv], topics: j.topics, registerIntervalMs: 1000, credentialsFile: j.credentialsFile, credential: j.credential, store: { dir: j.dir, flushMode: j.flush } });
  post({ type: 'broker-ready', tid: ownThreadTid() });
  await nextMessage();
  await broker.close();
  post({ type: 'stopped' });
  port.close();
}

async function runProducer(j: Extract<BatchingRole, { role: 'producer' }>): Promise<void> {
  const producer = new Producer({ namesrv: j.namesrv, requestTimeoutMs: 10_000, credential: j.credential, batching: j.batching });
  await producer.queues(j.topic);
  const latency = await createLatencyHistogram();
  const body = Buffer.alloc(j.bodySize, 0x61);
  let acked = 0;
  let failed = 0;
  let measuring = false;
  post({ type: 'ready', tid: ownThreadTid() });
  await nextMessage();
  const startUs = nowUs();
  const measureFromUs = startUs + j.warmupMs * 1000;
  const endUs = measureFromUs + j.durationMs * 1000;
  let windowStartUs = 0;
  const windowTimer = setInterval(() => {
    if (!measuring && nowUs() >= measureFromUs) {
      measuring = true;
      windowStartUs = nowUs();
      post({ type: 'window', edge: 'start' });
    }
  }, 1);
  await startClosedLoop({
    concurrency: j.callers,
    stopped: () => nowUs() >= endUs,
    send: () => {
      const t = nowUs();
      return producer.send(j.topic, { body }).then(
        () => {
          if (!measuring) return;
          acked++;
          latency.recordValue(Math.max(1, nowUs() - t));
        },
        () => {
          if (measuring) failed++;
        },
      );
    },
  }).sendingEnded;
  const windowUs = nowUs() - windowStartUs;
  measuring = false;
  post({ type: 'window', edge: 'end' });
  clearInterval(windowTimer);
  await producer.flush();
  // Over the whole run (warm-up included): what the batches held on average.
  const s = producer.batchingStats();
  post({ type: 'produced', acked, failed, windowUs, latency: encodeHistogram(latency), batches: s?.batches ?? 0, batchedMessages: s?.messages ?? 0 });
  latency.destroy();
  producer.shutdown();
  port.close();
}

const run = job.role === 'broker' ? runBroker(job) : runProducer(job);
run.catch((err: unknown) => {
  console.error(`metaq bench batching ${job.role}:`, err);
  process.exit(1);
});
