// One role of the end-to-end benchmark, run in its own worker thread: the
// broker, the producer or the consumer. The coordinator (e2e-bench.ts) tells
// each what to do through workerData and messages; producers and consumers
// send back counts and compressed HDR histograms (microseconds).
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Broker } from '../broker/index.js';
import { Consumer, Producer, type Message } from '../client/index.js';
import type { Credential } from '../security/index.js';
import { constantRateSchedule, createLatencyHistogram, nowUs, percentileMs, runOpenLoop, startClosedLoop } from '../load/index.js';

export type E2eRole =
  | { role: 'broker'; dir: string; namesrv: string; topics: Record<string, number>; credentialsFile: string; credential: Credential }
  | {
      role: 'producer';
      namesrv: string;
      credential: Credential;
      topic: string;
      bodySize: number;
      batchSize: number;
      /** Offered rate (msg/s); 0 = as fast as `inFlight` batches allow. */
      rate: number;
      inFlight: number;
      durationMs: number;
      /** Open loop only: the first `warmupMs` are sent but not measured (JIT, connection set-up). */
      warmupMs: number;
    }
  | { role: 'consumer'; namesrv: string; credential: Credential; topic: string; group: string; pullBatchSize: number };

/** Producer/consumer reports to the coordinator. */
export type E2eReport =
  | { type: 'ready' }
  | { type: 'broker-ready'; addr: string }
  | { type: 'progress'; count: number }
  | { type: 'produced'; acked: number; failed: number; firstAckNs: number; lastAckNs: number; startNs: number; endNs: number; send: string; lag: string }
  | { type: 'consumed'; count: number; firstNs: number; lastNs: number; e2e: string; p99PerSecondMs: number[] };

/** Offset of the intended send time (µs of the shared monotonic clock, float64) in each body. */
const BODY_INTENDED_AT = 0;
/** Offset of a byte that is 1 when the message counts in the latency histograms (not warm-up). */
const BODY_MEASURED_AT = 8;
const PROGRESS_MS = 200;
const TICK_MS = 1;

const port = parentPort!;
const job = workerData as E2eRole;

function post(r: E2eReport): void {
  port.postMessage(r);
}

async function runBroker(j: Extract<E2eRole, { role: 'broker' }>): Promise<void> {
  const broker = await Broker.start({ port: 0, namesrvAddrs: [j.namesrv], topics: j.topics, registerIntervalMs: 1000, credentialsFile: j.credentialsFile, credential: j.credential, store: { dir: j.dir, flushMode: 'async' } });
  post({ type: 'broker-ready', addr: broker.addr });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  await broker.close();
  port.close();
}

async function runProducer(j: Extract<E2eRole, { role: 'producer' }>): Promise<void> {
  const producer = new Producer({ namesrv: j.namesrv, requestTimeoutMs: 10_000, credential: j.credential });
  const queues = await producer.queues(j.topic);
  const send = await createLatencyHistogram();
  const lag = await createLatencyHistogram();
  const template = Buffer.alloc(j.bodySize, 0x61);
  let acked = 0;
  let failed = 0;
  let firstAckNs = 0;
  let lastAckNs = 0;
  let inFlight = 0;
  let rr = 0;
  let wake: (() => void) | undefined;

  let measureFromUs = Infinity;
  const sendBatch = (count: number, intendedUs: (i: number) => number): Promise<void> => {
    const batch: Message[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const body = Buffer.allocUnsafe(j.bodySize);
      template.copy(body);
      const intended = intendedUs(i);
      body.writeDoubleBE(intended, BODY_INTENDED_AT);
      body[BODY_MEASURED_AT] = intended >= measureFromUs ? 1 : 0;
      batch[i] = { body };
    }
    const intended0 = intendedUs(0);
    const intendedLast = intendedUs(count - 1);
    inFlight++;
    return producer.sendToQueue(queues[rr++ % queues.length]!, batch).then(
      () => {
        const t = nowUs();
        if (firstAckNs === 0) firstAckNs = t;
        lastAckNs = t;
        acked += count;
        if (intendedLast < measureFromUs) return;
        // Latency of every message of the batch, from its own intended time.
        if (count === 1) send.recordValue(Math.max(1, t - intended0));
        else for (let i = 0; i < count; i++) send.recordValue(Math.max(1, t - (intended0 + ((intendedLast - intended0) * i) / (count - 1))));
      },
      () => {
        failed += count;
      },
    ).finally(() => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    });
  };

  post({ type: 'ready' });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  const progress = setInterval(() => post({ type: 'progress', count: acked }), PROGRESS_MS);
  const startUs = nowUs();
  const endUs = startUs + j.durationMs * 1000;
  measureFromUs = j.rate === 0 ? startUs : startUs + j.warmupMs * 1000;
  if (j.rate === 0) {
    // Closed loop: keep `inFlight` batches outstanding; the window ends when sending does.
    await startClosedLoop({
      concurrency: j.inFlight,
      stopped: () => nowUs() >= endUs,
      send: () => {
        const t = nowUs();
        return sendBatch(j.batchSize, () => t);
      },
    }).sendingEnded;
  } else {
    // Open loop: message k is due at start + k / rate, whatever the broker does.
    const total = Math.floor((j.rate * (j.warmupMs + j.durationMs)) / 1000);
    await runOpenLoop({
      schedule: constantRateSchedule(j.rate, total),
      startUs,
      tickMs: TICK_MS,
      batchMax: j.batchSize,
      send: (_first, count, firstUs, lastUs) => {
        const step = count > 1 ? (lastUs - firstUs) / (count - 1) : 0;
        void sendBatch(count, (i) => firstUs + i * step);
      },
      onLag: (us) => lag.recordValue(Math.max(1, us)),
    });
  }
  const stopUs = nowUs();
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  clearInterval(progress);
  post({
    type: 'produced',
    acked,
    failed,
    firstAckNs: firstAckNs * 1000,
    lastAckNs: lastAckNs * 1000,
    startNs: startUs * 1000,
    endNs: stopUs * 1000,
    send: hdr.encodeIntoCompressedBase64(send),
    lag: hdr.encodeIntoCompressedBase64(lag),
  });
  send.destroy();
  lag.destroy();
  producer.shutdown();
  port.close();
}

async function runConsumer(j: Extract<E2eRole, { role: 'consumer' }>): Promise<void> {
  const e2e = await createLatencyHistogram();
  const window = await createLatencyHistogram();
  const p99PerSecondMs: number[] = [];
  let count = 0;
  let firstUs = 0;
  let lastUs = 0;
  const consumer = new Consumer({ namesrv: j.namesrv, credential: j.credential, group: j.group, pullBatchSize: j.pullBatchSize, batchSize: j.pullBatchSize, concurrency: 8, pollTimeoutMs: 2000 });
  consumer.subscribe(j.topic);
  await consumer.start((messages) => {
    const t = nowUs();
    if (firstUs === 0) firstUs = t;
    lastUs = t;
    for (const m of messages) {
      const body = m.body;
      if (body[BODY_MEASURED_AT] !== 1) continue;
      const intended = body.readDoubleBE(BODY_INTENDED_AT);
      const v = Math.max(1, t - intended);
      e2e.recordValue(v);
      window.recordValue(v);
    }
    count += messages.length;
  });
  const progress = setInterval(() => post({ type: 'progress', count }), PROGRESS_MS);
  const perSecond = setInterval(() => {
    if (window.totalCount === 0) return;
    p99PerSecondMs.push(percentileMs(window, 99));
    window.reset();
  }, 1000);
  post({ type: 'ready' });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  clearInterval(progress);
  clearInterval(perSecond);
  await consumer.shutdown();
  post({ type: 'consumed', count, firstNs: firstUs * 1000, lastNs: lastUs * 1000, e2e: hdr.encodeIntoCompressedBase64(e2e), p99PerSecondMs });
  e2e.destroy();
  window.destroy();
  port.close();
}

const run = job.role === 'broker' ? runBroker(job) : job.role === 'producer' ? runProducer(job) : runConsumer(job);
run.catch((err: unknown) => {
  console.error(`metaq bench e2e ${job.role}:`, err);
  process.exit(1);
});
