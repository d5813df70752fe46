// One role of the replication benchmark, run in its own worker thread: the
// master broker, the slave broker or the producer. The coordinator
// (ha-bench.ts) tells each what to do through workerData and messages. The
// master posts its replication stats every `statsIntervalMs` (the slave lag
// is sampled from them); the producer sends back counts per send status and
// a compressed HDR histogram of send latencies (microseconds). Each says its
// kernel thread id when ready, so that the coordinator can read its CPU time.
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Broker, type BrokerLogger } from '../broker/index.js';
import { Producer, type Message, type SendResult } from '../client/index.js';
import type { HaMasterStats } from '../ha/index.js';
import type { Credential } from '../security/index.js';
import { constantRateSchedule, createLatencyHistogram, nowUs, ownThreadTid, percentileMs, runOpenLoop, startClosedLoop } from '../load/index.js';

type Flush = 'sync' | 'async';
/** `bench ha --tls`: the self-signed certificate every link uses (and every client trusts). */
type BenchTls = { certFile: string; keyFile: string } | undefined;

/** What a broker of the bench authenticates with: the run's accounts file, its broker credential, a slave's replica credential. */
export interface BrokerSecurity {
  credentialsFile: string;
  credential: Credential;
  replicaCredential?: Credential;
}

export type HaRole =
  | { role: 'master'; dir: string; namesrv: string; topics: Record<string, number>; flush: Flush; replication: 'sync' | 'async'; segmentSize: number; statsIntervalMs: number; security: BrokerSecurity; tls: BenchTls }
  | { role: 'slave'; dir: string; namesrv: string; topics: Record<string, number>; flush: Flush; masterHaAddr: string; segmentSize: number; security: BrokerSecurity; tls: BenchTls }
  | {
      role: 'producer';
      namesrv: string;
      credential: Credential;
      tls: BenchTls;
      topic: string;
      bodySize: number;
      batchSize: number;
      /** Offered rate (msg/s); 0 = closed loop, as fast as `inFlight` batches allow. */
      rate: number;
      inFlight: number;
      durationMs: number;
      /** Sent before `durationMs`, not measured (JIT warm-up, connections, first flushes). */
      warmupMs: number;
      /** Open loop: how often the generator sends what is due (in batches of up to `batchSize`). */
      tickMs: number;
    };

export interface HaSample {
  /** process.hrtime in µs (shared by all threads). */
  atUs: number;
  ha: HaMasterStats;
  flushCycles: number;
}

export type HaReport =
  /** `tid`: the kernel's id of the role's thread, for its CPU time. */
  | { type: 'ready'; tid: number | undefined }
  | { type: 'broker-ready'; addr: string; haAddr: string | undefined; tid: number | undefined }
  | { type: 'ha-stats'; sample: HaSample }
  | {
      type: 'produced';
      /** SEND_OK messages: closed loop, acknowledged within the window; open loop, due within it. */
      acked: number;
      slaveTimeout: number;
      slaveNotAvailable: number;
      failed: number;
      /** The measured window (µs): closed loop, the producing time after warm-up; open loop, to the last acknowledgement. */
      fromUs: number;
      toUs: number;
      /** Send latency of every answered message sent in the window (any status). */
      send: string;
      /** Open loop only: how late the generator's ticks were. */
      lag: string;
      /** p99 send latency of the messages acknowledged in each second of the window (ms). */
      p99PerSecondMs: number[];
      /** SEND_OK messages acknowledged in each second of the window. */
      ackedPerSecond: number[];
    }
  | { type: 'stopped'; flushCycles: number; writtenOffset: number };


const port = parentPort!;
const job = workerData as HaRole;

function post(r: HaReport): void {
  port.postMessage(r);
}

function nextMessage(): Promise<unknown> {
  return new Promise((resolve) => port.once('message', resolve));
}

const log: BrokerLogger = {
  warn: (message, err) => console.error(`metaq bench ha ${job.role}: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
};

async function runBroker(j: Extract<HaRole, { role: 'master' | 'slave' }>): Promise<void> {
  const trust = j.tls === undefined ? undefined : { caFile: j.tls.certFile };
  const broker = await Broker.start(
    {
      port: 0,
      haPort: 0,
      namesrvAddrs: [j.namesrv],
      topics: j.topics,
      registerIntervalMs: 1000,
      role: j.role,
      ...(j.role === 'master' ? { replicationMode: j.replication, haTls: j.tls } : { masterHaAddr: j.masterHaAddr, masterTls: trust }),
      tls: j.tls,
      namesrvTls: trust,
      store: { dir: j.dir, flushMode: j.flush, segmentSize: j.segmentSize },
      ...j.security,
    },
    log,
  );
  post({ type: 'broker-ready', addr: broker.addr, haAddr: broker.haAddr, tid: ownThreadTid() });
  let timer: NodeJS.Timeout | undefined;
  if (j.role === 'master') {
    timer = setInterval(() => {
      const s = broker.stats();
      post({ type: 'ha-stats', sample: { atUs: nowUs(), ha: s.ha as HaMasterStats, flushCycles: s.store.flushCycles } });
    }, j.statsIntervalMs);
  }
  await nextMessage();
  clearInterval(timer);
  const s = broker.stats().store;
  await broker.close();
  post({ type: 'stopped', flushCycles: s.flushCycles, writtenOffset: s.writtenOffset });
  port.close();
}

async function runProducer(j: Extract<HaRole, { role: 'producer' }>): Promise<void> {
  const producer = new Producer({ namesrv: j.namesrv, requestTimeoutMs: 30_000, credential: j.credential, ...(j.tls === undefined ? {} : { tls: { caFile: j.tls.certFile } }) });
  const queues = await producer.queues(j.topic);
  const send = await createLatencyHistogram();
  const lag = await createLatencyHistogram();
  const window = await createLatencyHistogram();
  const p99PerSecondMs: number[] = [];
  const ackedPerSecond: number[] = [];
  let ackedThisSecond = 0;
  const body = Buffer.alloc(j.bodySize, 0x61);
  // Every message may share the body: nothing in the send path keeps or changes it.
  const template: Message[] = Array.from({ length: j.batchSize }, () => ({ body }));
  let acked = 0;
  let slaveTimeout = 0;
  let slaveNotAvailable = 0;
  let failed = 0;
  let inFlight = 0;
  let rr = 0;
  let wake: (() => void) | undefined;
  let fromUs = Infinity;
  let toUs = Infinity;
  let lastAckUs = 0;

  const closed = j.rate === 0;
  /** Sends `count` messages; message i was due at firstUs + i * usPerMessage (closed loop: 0, all sent now). */
  const sendBatch = (count: number, firstUs: number, usPerMessage: number): Promise<void> => {
    const batch = count === j.batchSize ? template : template.slice(0, count);
    inFlight++;
    return producer.sendToQueue(queues[rr++ % queues.length]!, batch).then(
      (r: SendResult) => {
        const t = nowUs();
        if (t > lastAckUs) lastAckUs = t;
        // Closed loop: throughput is what is acknowledged within the window. Open loop: what was due in it.
        if (closed ? t >= fromUs && t <= toUs : firstUs >= fromUs) {
          if (r.status === 'SEND_OK') {
            acked += count;
            ackedThisSecond += count;
          } else if (r.status === 'SLAVE_TIMEOUT') slaveTimeout += count;
          else slaveNotAvailable += count;
        }
        if (firstUs < fromUs) return;
        // Every message of the batch, from its own send (or intended send) time.
        if (usPerMessage === 0) {
          send.recordValueWithCount(Math.max(1, t - firstUs), count);
          window.recordValueWithCount(Math.max(1, t - firstUs), count);
        } else {
          for (let i = 0; i < count; i++) {
            const v = Math.max(1, t - (firstUs + i * usPerMessage));
            send.recordValue(v);
            window.recordValue(v);
          }
        }
      },
      () => {
        if (firstUs >= fromUs) failed += count;
      },
    ).finally(() => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    });
  };

  post({ type: 'ready', tid: ownThreadTid() });
  await nextMessage();
  const startUs = nowUs();
  fromUs = startUs + j.warmupMs * 1000;
  toUs = fromUs + j.durationMs * 1000;
  let perSecond: NodeJS.Timeout | undefined;
  const warm = setTimeout(() => {
    window.reset();
    perSecond = setInterval(() => {
      p99PerSecondMs.push(window.totalCount === 0 ? 0 : percentileMs(window, 99));
      ackedPerSecond.push(ackedThisSecond);
      window.reset();
      ackedThisSecond = 0;
    }, 1000);
  }, j.warmupMs);
  if (closed) {
    // Closed loop: keep `inFlight` batches outstanding.
    await startClosedLoop({ concurrency: j.inFlight, stopped: () => nowUs() >= toUs, send: () => sendBatch(j.batchSize, nowUs(), 0) }).sendingEnded;
  } else {
    // Open loop: message k is due at start + k / rate, whatever the broker does.
    const total = Math.floor((j.rate * (j.warmupMs + j.durationMs)) / 1000);
    await runOpenLoop({
      schedule: constantRateSchedule(j.rate, total),
      startUs,
      tickMs: j.tickMs,
      batchMax: j.batchSize,
      send: (_first, count, firstUs) => void sendBatch(count, firstUs, 1e6 / j.rate),
      // Lateness counts after the warm-up only, like the latencies.
      onLag: (us) => {
        if (nowUs() >= fromUs) lag.recordValue(Math.max(1, us));
      },
    });
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  clearTimeout(warm);
  clearInterval(perSecond);
  if (window.totalCount > 0) p99PerSecondMs.push(percentileMs(window, 99));
  post({
    type: 'produced',
    acked,
    slaveTimeout,
    slaveNotAvailable,
    failed,
    fromUs,
    // Open loop: a broker that falls behind stretches the window (and so lowers the rate).
    toUs: closed ? toUs : Math.max(toUs, lastAckUs),
    send: hdr.encodeIntoCompressedBase64(send),
    lag: hdr.encodeIntoCompressedBase64(lag),
    p99PerSecondMs,
    ackedPerSecond,
  });
  send.destroy();
  lag.destroy();
  window.destroy();
  producer.shutdown();
  port.close();
}

const run = job.role === 'producer' ? runProducer(job) : runBroker(job);
run.catch((err: unknown) => {
  console.error(`metaq bench ha ${job.role}:`, err);
  process.exit(1);
});
