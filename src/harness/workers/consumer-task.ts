// The lottery system, as a piscina task: consumer worker k joins the
// clustering group, and for every claim it receives records the reception in
// the shared `received` array (a second reception is a duplicate), measures
// end-to-end latency from the claim's intended send time, and issues the
// user's ticket idempotently (the shared ledger plays the lottery database's
// unique constraint). Its capacity is bounded: each message costs
// 1 / capacityPerSec seconds of simulated work (waited, not burnt, so the
// brokers keep the CPU). `--inject-drop` makes it skip messages silently.
import type { MessagePort } from 'node:worker_threads';
import type * as hdr from 'hdr-histogram-js';
import { Consumer, type ReceivedMessage } from '../../client/index.js';
import { createLatencyHistogram, encodeHistogram, nowUs, sleep } from '../../load/index.js';
import { decodeClaim, USER_ID_BASE } from './claim.js';
import { IntervalClock } from './interval-clock.js';
import { phaseAt, type Phase } from '../scenario/index.js';
import { CONTROL_DROP_LEFT, CONTROL_DROPPED, CONTROL_FOREIGN, RECEIVED_SATURATED, type SharedRunState } from './shared-state.js';
import type { ConsumerOutcome, WorkerCommand, WorkerEvent } from './worker-reports.js';

export interface ConsumerTask {
  worker: number;
  namesrv: string;
  topic: string;
  group: string;
  /** Producer workers (a claim's message index is seq * producers + producer). */
  producers: number;
  /** This worker's share of the lottery capacity (msg/s). */
  capacityPerSec: number;
  phases: Phase[];
  nonce: number;
  shared: SharedRunState;
  port: MessagePort;
}

/** Shorter simulated waits are carried over rather than slept (timers are ~1 ms coarse). */
const MIN_SLEEP_US = 1000;
const MAX_ERRORS_KEPT = 5;

export default async function consume(task: ConsumerTask): Promise<ConsumerOutcome> {
  const { port, worker } = task;
  const post = (e: WorkerEvent): void => port.postMessage(e);
  const control = new Int32Array(task.shared.control);
  const received = new Uint8Array(task.shared.received);
  const ledger = new Uint8Array(task.shared.ledger);
  const issued = new Uint8Array(task.shared.issued);
  const phaseNames = [...task.phases.map((p) => p.name), 'drain'];
  const phaseHist: hdr.Histogram[] = [];
  for (let p = 0; p < phaseNames.length; p++) phaseHist.push(await createLatencyHistogram());
  const phaseCount = new Array<number>(phaseNames.length).fill(0);
  const e2e = await createLatencyHistogram();
  const costUs = 1e6 / task.capacityPerSec;
  let runStartUs = Infinity;
  let busyUntilUs = 0;
  let consumed = 0;
  let duplicates = 0;
  let total = 0;

  const handle = (messages: ReceivedMessage[]): Promise<void> | undefined => {
    const now = nowUs();
    const p = phaseNames.indexOf(phaseAt(task.phases, (now - runStartUs) / 1e6));
    for (const m of messages) {
      const claim = decodeClaim(m.body, task.nonce);
      if (claim === undefined || claim.producer >= task.producers || claim.seq * task.producers + claim.producer >= received.length) {
        Atomics.add(control, CONTROL_FOREIGN, 1);
        continue;
      }
      if (Atomics.load(control, CONTROL_DROP_LEFT) > 0 && Atomics.sub(control, CONTROL_DROP_LEFT, 1) > 0) {
        // The deliberate fault: handled as far as the broker can tell, and nothing recorded.
        Atomics.add(control, CONTROL_DROPPED, 1);
        continue;
      }
      const i = claim.seq * task.producers + claim.producer;
      const before = received[i]! < RECEIVED_SATURATED ? Atomics.add(received, i, 1) : RECEIVED_SATURATED;
      const v = Math.max(0, Math.round(now - claim.intendedUs));
      e2e.recordValue(v);
      phaseHist[p]!.recordValue(v);
      total++;
      if (before === 0) {
        consumed++;
        phaseCount[p]!++;
      } else duplicates++;
      const user = claim.userId - USER_ID_BASE;
      if (Atomics.compareExchange(ledger, user, 0, 1) === 0) Atomics.add(issued, user, 1);
    }
    // The lottery's work: this worker does capacityPerSec messages a second at most.
    busyUntilUs = Math.max(busyUntilUs, now) + messages.length * costUs;
    const waitUs = busyUntilUs - nowUs();
    return waitUs >= MIN_SLEEP_US ? sleep(waitUs / 1000) : undefined;
  };

  const consumer = new Consumer({
    namesrv: task.namesrv,
    group: task.group,
    clientId: `lottery-${worker}-${process.pid}`,
    consumeFrom: 'first',
    batchSize: 64,
    pullBatchSize: 512,
    pollTimeoutMs: 1000,
    rebalanceIntervalMs: 2000,
  });
  consumer.subscribe(task.topic);
  await consumer.start(handle);
  post({ kind: 'ready', worker });
  const start = await new Promise<WorkerCommand>((resolve) => port.once('message', resolve));
  if (start.kind !== 'start') throw new Error(`consumer ${worker}: expected start, got ${start.kind}`);
  runStartUs = start.runStartUs;
  const intervals = new IntervalClock(runStartUs, (second) => {
    post({ kind: 'consumer-interval', worker, second, consumed, duplicates, fromSlave: 0, e2e: encodeHistogram(e2e) });
    consumed = 0;
    duplicates = 0;
    e2e.reset();
  });
  const stop = await new Promise<WorkerCommand>((resolve) => port.once('message', resolve));
  if (stop.kind !== 'stop') throw new Error(`consumer ${worker}: expected stop, got ${stop.kind}`);
  await consumer.shutdown();
  intervals.stop();
  const out: ConsumerOutcome = {
    worker,
    received: total,
    phases: phaseHist.map((h, i) => ({ count: phaseCount[i]!, latency: encodeHistogram(h) })),
    errors: consumer.errors.slice(0, MAX_ERRORS_KEPT).map((e) => e.message),
  };
  for (const h of [...phaseHist, e2e]) h.destroy();
  port.close();
  return out;
}
