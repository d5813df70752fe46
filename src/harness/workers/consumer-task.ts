// The lottery system, as a piscina task: consumer worker k joins the
// clustering group, and for every claim it receives records the reception in
// the shared `received` array (a second reception is a duplicate), measures
// end-to-end latency from the claim's intended send time, and issues the
// user's ticket idempotently (lottery.ts). Its capacity is bounded: each
// message costs 1 / capacityPerSec seconds of simulated work (waited, not
// burnt, so the brokers keep the CPU). `--inject-drop` makes it skip messages
// silently. Told to die (the kill-consumer fault), it ends its thread at once
// as a crashed process would: no unregister, no offset commit; its sockets
// close with the thread, so the brokers drop it from the group.
import { threadId, type MessagePort } from 'node:worker_threads';
import type * as hdr from 'hdr-histogram-js';
import { Consumer, type ReceivedMessage } from '../../client/index.js';
import type { Credential } from '../../security/index.js';
import { createLatencyHistogram, encodeHistogram, nowUs, ownThreadTid, sleep } from '../../load/index.js';
import { decodeClaim } from './claim.js';
import { IntervalClock } from './interval-clock.js';
import { Lottery } from './lottery.js';
import { phaseAt, type Phase } from '../scenario/index.js';
import type { SharedRunState } from './shared-state.js';
import type { ConsumerOutcome, WorkerCommand, WorkerEvent } from './worker-reports.js';

export interface ConsumerTask {
  worker: number;
  namesrv: string;
  /** The run's consumer account (undefined: the servers are open). */
  credential?: Credential;
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
/** The exit code of a consumer thread told to die (piscina reports it; the pools expect it). */
export const DIED_EXIT_CODE = 70;

export default async function consume(task: ConsumerTask): Promise<ConsumerOutcome> {
  const { port, worker } = task;
  const post = (e: WorkerEvent): void => port.postMessage(e);
  const lottery = new Lottery(task.shared, task.producers);
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
  let fromSlave = 0;
  let total = 0;

  const handle = (messages: ReceivedMessage[]): Promise<void> | undefined => {
    const now = nowUs();
    const p = phaseNames.indexOf(phaseAt(task.phases, (now - runStartUs) / 1e6));
    for (const m of messages) {
      const claim = decodeClaim(m.body, task.nonce);
      const r = lottery.receive(claim);
      if (r === 'foreign' || r === 'dropped') continue;
      const v = Math.max(0, Math.round(now - claim!.intendedUs));
      e2e.recordValue(v);
      phaseHist[p]!.recordValue(v);
      total++;
      if (m.fromSlave) fromSlave++;
      if (r === 'first') {
        consumed++;
        phaseCount[p]!++;
      } else duplicates++;
    }
    // The lottery's work: this worker does capacityPerSec messages a second at most.
    busyUntilUs = Math.max(busyUntilUs, now) + messages.length * costUs;
    const waitUs = busyUntilUs - nowUs();
    return waitUs >= MIN_SLEEP_US ? sleep(waitUs / 1000) : undefined;
  };

  const consumer = new Consumer({
    namesrv: task.namesrv,
    ...(task.credential !== undefined ? { credential: task.credential } : {}),
    group: task.group,
    clientId: `lottery-${worker}-${process.pid}`,
    consumeFrom: 'first',
    batchSize: 64,
    pullBatchSize: 512,
    pollTimeoutMs: 1000,
    rebalanceIntervalMs: 2000,
  });
  consumer.subscribe(task.topic);
  // Commands come in any order from here on: a die may come before the start.
  let waiting: ((c: WorkerCommand) => void) | undefined;
  const commands: WorkerCommand[] = [];
  const next = (): Promise<WorkerCommand> => (commands.length > 0 ? Promise.resolve(commands.shift()!) : new Promise((resolve) => (waiting = resolve)));
  let intervals: IntervalClock | undefined;
  const outcome = (): ConsumerOutcome => ({
    worker,
    received: total,
    phases: phaseHist.map((h, i) => ({ count: phaseCount[i]!, latency: encodeHistogram(h) })),
    errors: consumer.errors.slice(0, MAX_ERRORS_KEPT).map((e) => e.message),
  });
  port.on('message', (c: WorkerCommand) => {
    if (c.kind === 'die') {
      // What it measured is the harness's, not the crashed system's: the partial second and the outcome go out first.
      intervals?.stop();
      post({ kind: 'consumer-died', worker, outcome: outcome() });
      process.exit(DIED_EXIT_CODE);
    }
    const wake = waiting;
    waiting = undefined;
    if (wake !== undefined) wake(c);
    else commands.push(c);
  });
  await consumer.start(handle);
  post({ kind: 'ready', worker, threadId, tid: ownThreadTid() });
  const start = await next();
  if (start.kind !== 'start') throw new Error(`consumer ${worker}: expected start, got ${start.kind}`);
  runStartUs = start.runStartUs;
  intervals = new IntervalClock(runStartUs, (second) => {
    post({ kind: 'consumer-interval', worker, second, consumed, duplicates, fromSlave, e2e: encodeHistogram(e2e) });
    consumed = 0;
    duplicates = 0;
    fromSlave = 0;
    e2e.reset();
  });
  let stop = await next();
  while (stop.kind === 'fault') stop = await next();
  if (stop.kind !== 'stop') throw new Error(`consumer ${worker}: expected stop, got ${stop.kind}`);
  await consumer.shutdown();
  intervals.stop();
  const out = outcome();
  for (const h of [...phaseHist, e2e]) h.destroy();
  port.close();
  return out;
}
