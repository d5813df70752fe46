// The activity system, as a piscina task: producer worker k of P offers its
// share of the scenario's rate curve (messages i with i % P == k) open loop,
// one claim per message, keyed by the claiming user's id. It does not give up
// on a claim: a batch whose attempt failed (a status other than SEND_OK, an
// error, a timeout) is sent again, the same messages, after a bounded backoff
// and a route refresh, to another broker group when the route has one, until
// acknowledged or the run's retry time is over (then it is given up). It
// marks every message's final outcome in the shared `acked` array (ACK_OK for
// SEND_OK, that is the ticket allocation confirmed; ACK_FAILED when given
// up) and reports each second's counts and send-latency histogram (intended
// send time -> final outcome) over its MessagePort.
import { threadId, type MessagePort } from 'node:worker_threads';
import type * as hdr from 'hdr-histogram-js';
import { Producer, SendRequestBuilder, SendRequestTemplate, type MessageQueue, type SendResult } from '../../client/index.js';
import type { Credential } from '../../security/index.js';
import { createLatencyHistogram, encodeHistogram, nowUs, ownThreadTid, runOpenLoop, type OpenLoopSchedule } from '../../load/index.js';
import { claimTemplate, USER_ID_BASE, userIndexOf, writeClaimHeader } from './claim.js';
import { messagesDueAt, phaseAt, timeOfMessage, type Phase } from '../scenario/index.js';
import { ACK_FAILED, ACK_OK, CONTROL_ABORT, type SharedRunState } from './shared-state.js';
import { attemptOutcome, BrokerAvoidance, givenUp, pickQueue, retryBackoffMs } from './send-retry.js';
import type { ProducerOutcome, WorkerCommand, WorkerEvent } from './worker-reports.js';
import { IntervalClock } from './interval-clock.js';

export interface ProducerTask {
  worker: number;
  workers: number;
  namesrv: string;
  /** The run's producer account (undefined: the servers are open). */
  credential?: Credential;
  topic: string;
  activity: string;
  bodySize: number;
  phases: Phase[];
  /** Messages of the whole curve over all producers (the shared arrays' length). */
  totalMessages: number;
  userMultiplier: number;
  nonce: number;
  tickMs: number;
  batchMax: number;
  /** Timeout of one send attempt (a timed-out attempt is retried like a failed one). */
  sendTimeoutMs: number;
  /** Seconds after the run's start when a message still unacknowledged is given up (the producing phases' end plus a grace). */
  giveUpAfterSec: number;
  /** Messages sent and not yet finally answered (waiting for a retry included), at most (see OpenLoopOptions.room). */
  maxInFlight: number;
  shared: SharedRunState;
  port: MessagePort;
}

const MAX_ERRORS_KEPT = 5;
const US_PER_MS = 1000;

/** One batch of claims until its final outcome: the same messages go out on every attempt. */
interface Batch {
  first: number;
  count: number;
  firstUs: number;
  /** µs between two messages' intended times. */
  step: number;
  /** The encoded request (each attempt patches in its queue id). */
  request: SendRequestTemplate;
  /** Re-sends so far. */
  retries: number;
  /** The current attempt: where it went and when it started (shared clock). */
  mq: MessageQueue;
  startUs: number;
  /** When its first attempt failed (shared clock); it is re-sent for at least MIN_RETRY_US from then. */
  firstFailureUs?: number;
}

/** Messages i < n with i % workers == worker. */
function shareOf(n: number, worker: number, workers: number): number {
  return n > worker ? Math.floor((n - 1 - worker) / workers) + 1 : 0;
}

export default async function produce(task: ProducerTask): Promise<ProducerOutcome> {
  const { port, worker, workers, phases } = task;
  const post = (e: WorkerEvent): void => port.postMessage(e);
  const acked = new Uint8Array(task.shared.acked);
  const control = new Int32Array(task.shared.control);
  const producer = new Producer({ namesrv: task.namesrv, requestTimeoutMs: task.sendTimeoutMs, ...(task.credential !== undefined ? { credential: task.credential } : {}) });
  let queues: MessageQueue[] = await producer.queues(task.topic);
  const phaseNames = [...phases.map((p) => p.name), 'drain'];
  const phaseIndex = (tSec: number): number => phaseNames.indexOf(phaseAt(phases, tSec));
  const phaseHist: hdr.Histogram[] = [];
  for (let p = 0; p < phaseNames.length; p++) phaseHist.push(await createLatencyHistogram());
  const phaseCount = new Array<number>(phaseNames.length).fill(0);
  const sendHist = await createLatencyHistogram();
  const lagHist = await createLatencyHistogram();
  const out: ProducerOutcome = { worker, attempted: 0, acked: 0, failed: 0, retried: 0, attempts: { ok: 0, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }, firstAckAfterFaultUs: [], errors: [], phases: [], lastAnswerUs: 0 };
  let ackedInSecond = 0;
  let failedInSecond = 0;
  let retriedInSecond = 0;
  const avoidance = new BrokerAvoidance();
  /** Shared-clock µs of each fault the coordinator reported, and how many still wait for their first SEND_OK. */
  const faultAtUs: number[] = [];
  let faultsWaiting = 0;

  const schedule: OpenLoopSchedule = {
    total: shareOf(task.totalMessages, worker, workers),
    dueAt: (t) => shareOf(Math.min(task.totalMessages, messagesDueAt(phases, t)), worker, workers),
    intendedSec: (seq) => timeOfMessage(phases, seq * workers + worker),
  };

  // Fault marks may come at any time after the ready (even before the start): only the start is waited for.
  let started!: (runStartUs: number) => void;
  const startedAt = new Promise<number>((resolve) => (started = resolve));
  port.on('message', (c: WorkerCommand) => {
    if (c.kind === 'start') started(c.runStartUs);
    else if (c.kind === 'fault') {
      faultAtUs.push(c.atUs);
      out.firstAckAfterFaultUs.push(null);
      faultsWaiting++;
    }
  });
  post({ kind: 'ready', worker, threadId, tid: ownThreadTid() });
  const runStartUs = await startedAt;
  const giveUpAtUs = runStartUs + task.giveUpAfterSec * 1e6;
  const aborted = (): boolean => Atomics.load(control, CONTROL_ABORT) !== 0;

  const template = claimTemplate(task.bodySize, task.activity);
  let inFlight = 0;
  let inFlightMessages = 0;
  let allSent = false;
  let settled!: () => void;
  const allAnswered = new Promise<void>((resolve) => (settled = resolve));
  let rr = worker;

  /** The batch's final outcome: acknowledged, or given up. Its latency counts from each message's intended time to now. */
  const finish = (b: Batch, t: number, ok: boolean): void => {
    const p = phaseIndex((t - runStartUs) / 1e6);
    for (let j = 0; j < b.count; j++) {
      acked[(b.first + j) * workers + worker] = ok ? ACK_OK : ACK_FAILED;
      const v = Math.max(0, Math.round(t - (b.firstUs + j * b.step)));
      sendHist.recordValue(v);
      phaseHist[p]!.recordValue(v);
    }
    if (ok) {
      out.acked += b.count;
      ackedInSecond += b.count;
      phaseCount[p]! += b.count;
    } else out.failed += b.count;
    inFlightMessages -= b.count;
    if (--inFlight === 0 && allSent) settled();
  };

  const firstAckAfterFaults = (startUs: number, t: number): void => {
    for (let k = 0; k < faultAtUs.length; k++) {
      if (out.firstAckAfterFaultUs[k] === null && startUs >= faultAtUs[k]!) {
        out.firstAckAfterFaultUs[k] = t;
        faultsWaiting--;
      }
    }
  };

  const attempt = (b: Batch): void => {
    b.startUs = nowUs();
    producer.sendTemplateToQueue(b.mq, b.request, task.sendTimeoutMs).then(
      (r) => answered(b, r.status),
      (err: unknown) => {
        if (out.errors.length < MAX_ERRORS_KEPT) out.errors.push(err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err));
        answered(b, undefined);
      },
    );
  };

  const answered = (b: Batch, status: SendResult['status'] | undefined): void => {
    const t = nowUs();
    out.lastAnswerUs = t;
    const outcome = attemptOutcome(status);
    out.attempts[outcome] += b.count;
    if (outcome === 'ok') {
      avoidance.succeeded(b.mq.brokerName);
      if (faultsWaiting > 0) firstAckAfterFaults(b.startUs, t);
      finish(b, t, true);
      return;
    }
    failedInSecond += b.count;
    avoidance.failed(b.mq.brokerName, t / US_PER_MS);
    b.firstFailureUs ??= t;
    if (givenUp(t, giveUpAtUs, aborted(), b.firstFailureUs)) finish(b, t, false);
    else setTimeout(() => void resend(b), retryBackoffMs(++b.retries));
  };

  /** After the backoff: the route as the name servers give it now, another broker group when there is one, the same messages. */
  const resend = async (b: Batch): Promise<void> => {
    try {
      const fresh = await producer.refreshQueues(task.topic);
      if (fresh.length > 0) queues = fresh;
    } catch {
      // No route now (every broker expired, no name server): the queues known so far are tried again.
    }
    const t = nowUs();
    if (givenUp(t, giveUpAtUs, aborted(), b.firstFailureUs)) {
      finish(b, t, false);
      return;
    }
    avoidance.expire(t / US_PER_MS);
    const avoid = new Set(avoidance.avoided).add(b.mq.brokerName);
    b.mq = pickQueue(queues, rr++, avoid);
    out.retried += b.count;
    retriedInSecond += b.count;
    attempt(b);
  };

  const send = (first: number, count: number, firstUs: number, lastUs: number): void => {
    const step = count > 1 ? (lastUs - firstUs) / (count - 1) : 0;
    // The request is written claim by claim into one buffer: no object, string or view per message.
    const builder = new SendRequestBuilder(task.topic, count, task.bodySize);
    const bytes = builder.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bornMs = Date.now();
    for (let j = 0; j < count; j++) {
      const seq = first + j;
      const i = seq * workers + worker;
      const userId = USER_ID_BASE + userIndexOf(i, task.totalMessages, task.userMultiplier);
      const at = builder.add(bornMs, task.bodySize, userId);
      bytes.set(template, at);
      writeClaimHeader(view, at, task.nonce, worker, seq, userId, Math.round(firstUs + j * step));
    }
    const request = new SendRequestTemplate(task.topic, builder);
    out.attempted += count;
    inFlight++;
    inFlightMessages += count;
    if (avoidance.avoided.size > 0) avoidance.expire(nowUs() / US_PER_MS);
    attempt({ first, count, firstUs, step, request, retries: 0, mq: pickQueue(queues, rr++, avoidance.avoided), startUs: 0 });
  };

  const intervals = new IntervalClock(runStartUs, (second) => {
    post({
      kind: 'producer-interval',
      worker,
      second,
      // What the schedule made due in this second (what went out may be less, if held back).
      offered: schedule.dueAt(second + 1) - schedule.dueAt(second),
      acked: ackedInSecond,
      failed: failedInSecond,
      retried: retriedInSecond,
      send: encodeHistogram(sendHist),
      lag: encodeHistogram(lagHist),
    });
    ackedInSecond = 0;
    failedInSecond = 0;
    retriedInSecond = 0;
    sendHist.reset();
    lagHist.reset();
    // The client refreshes routes in the background: a broker group that came back (or left) shows here within its refresh period.
    void producer.queues(task.topic).then(
      (q) => {
        if (q.length > 0) queues = q;
      },
      () => undefined,
    );
  });

  await runOpenLoop({
    schedule,
    startUs: runStartUs,
    tickMs: task.tickMs,
    batchMax: task.batchMax,
    send,
    onLag: (us) => lagHist.recordValue(Math.round(us)),
    room: () => task.maxInFlight - inFlightMessages,
    stopped: aborted,
  });
  allSent = true;
  if (inFlight === 0) settled();
  await allAnswered;
  intervals.stop();
  producer.shutdown();
  out.phases = phaseHist.map((h, p) => ({ count: phaseCount[p]!, latency: encodeHistogram(h) }));
  for (const h of [...phaseHist, sendHist, lagHist]) h.destroy();
  port.close();
  return out;
}
