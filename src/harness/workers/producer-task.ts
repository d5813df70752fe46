// The activity system, as a piscina task: producer worker k of P offers its
// share of the scenario's rate curve (messages i with i % P == k) open loop,
// one claim per message, keyed by the claiming user's id. It marks every
// answered message in the shared `acked` array (ACK_OK for SEND_OK, that is
// the ticket allocation confirmed; ACK_FAILED otherwise) and reports each
// second's counts and send-latency histogram over its MessagePort.
import type { MessagePort } from 'node:worker_threads';
import type * as hdr from 'hdr-histogram-js';
import { Producer, type Message, type MessageQueue, type SendResult } from '../../client/index.js';
import { createLatencyHistogram, encodeHistogram, nowUs, runOpenLoop, type OpenLoopSchedule } from '../../load/index.js';
import { claimTemplate, encodeClaim, USER_ID_BASE, userIndexOf } from './claim.js';
import { messagesDueAt, phaseAt, timeOfMessage, type Phase } from '../scenario/index.js';
import { ACK_FAILED, ACK_OK, CONTROL_ABORT, type SharedRunState } from './shared-state.js';
import type { ProducerOutcome, WorkerCommand, WorkerEvent } from './worker-reports.js';
import { IntervalClock } from './interval-clock.js';

export interface ProducerTask {
  worker: number;
  workers: number;
  namesrv: string;
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
  sendTimeoutMs: number;
  /** Messages sent and not yet answered, at most (see OpenLoopOptions.room). */
  maxInFlight: number;
  shared: SharedRunState;
  port: MessagePort;
}

const MAX_ERRORS_KEPT = 5;

/** Messages i < n with i % workers == worker. */
function shareOf(n: number, worker: number, workers: number): number {
  return n > worker ? Math.floor((n - 1 - worker) / workers) + 1 : 0;
}

export default async function produce(task: ProducerTask): Promise<ProducerOutcome> {
  const { port, worker, workers, phases } = task;
  const post = (e: WorkerEvent): void => port.postMessage(e);
  const acked = new Uint8Array(task.shared.acked);
  const control = new Int32Array(task.shared.control);
  const producer = new Producer({ namesrv: task.namesrv, requestTimeoutMs: task.sendTimeoutMs });
  const queues: MessageQueue[] = await producer.queues(task.topic);
  const phaseNames = [...phases.map((p) => p.name), 'drain'];
  const phaseIndex = (tSec: number): number => phaseNames.indexOf(phaseAt(phases, tSec));
  const phaseHist: hdr.Histogram[] = [];
  for (let p = 0; p < phaseNames.length; p++) phaseHist.push(await createLatencyHistogram());
  const phaseCount = new Array<number>(phaseNames.length).fill(0);
  const sendHist = await createLatencyHistogram();
  const lagHist = await createLatencyHistogram();
  const out: ProducerOutcome = { worker, attempted: 0, acked: 0, failed: 0, retried: 0, attempts: { ok: 0, slaveTimeout: 0, slaveNotAvailable: 0, otherStatus: 0, error: 0 }, firstAckAfterFaultUs: [], slaveTimeout: 0, slaveNotAvailable: 0, errors: [], phases: [], lastAnswerUs: 0 };
  let ackedInSecond = 0;
  let failedInSecond = 0;

  const schedule: OpenLoopSchedule = {
    total: shareOf(task.totalMessages, worker, workers),
    dueAt: (t) => shareOf(Math.min(task.totalMessages, messagesDueAt(phases, t)), worker, workers),
    intendedSec: (seq) => timeOfMessage(phases, seq * workers + worker),
  };

  post({ kind: 'ready', worker });
  const start = await new Promise<WorkerCommand>((resolve) => port.once('message', resolve));
  if (start.kind !== 'start') throw new Error(`producer ${worker}: expected start, got ${start.kind}`);
  const runStartUs = start.runStartUs;

  const template = claimTemplate(task.bodySize, task.activity);
  let inFlight = 0;
  let inFlightMessages = 0;
  let allSent = false;
  let settled!: () => void;
  const allAnswered = new Promise<void>((resolve) => (settled = resolve));
  let rr = worker;

  const send = (first: number, count: number, firstUs: number, lastUs: number): void => {
    const step = count > 1 ? (lastUs - firstUs) / (count - 1) : 0;
    // One buffer per batch; each body is a view of it (the send path copies bodies into the frame).
    const bodies = Buffer.allocUnsafe(task.bodySize * count);
    const batch: Message[] = new Array<Message>(count);
    for (let j = 0; j < count; j++) {
      const seq = first + j;
      const i = seq * workers + worker;
      const userId = USER_ID_BASE + userIndexOf(i, task.totalMessages, task.userMultiplier);
      const at = j * task.bodySize;
      template.copy(bodies, at);
      encodeClaim(bodies, at, { nonce: task.nonce, producer: worker, seq, userId, intendedUs: Math.round(firstUs + j * step) });
      batch[j] = { body: bodies.subarray(at, at + task.bodySize), keys: String(userId) };
    }
    out.attempted += count;
    inFlight++;
    inFlightMessages += count;
    const mq = queues[rr++ % queues.length]!;
    const answered = (ok: boolean, status: SendResult['status'] | 'ERROR'): void => {
      const t = nowUs();
      out.lastAnswerUs = t;
      const p = phaseIndex((t - runStartUs) / 1e6);
      for (let j = 0; j < count; j++) {
        acked[(first + j) * workers + worker] = ok ? ACK_OK : ACK_FAILED;
        const v = Math.max(0, Math.round(t - (firstUs + j * step)));
        sendHist.recordValue(v);
        phaseHist[p]!.recordValue(v);
      }
      if (ok) {
        out.acked += count;
        ackedInSecond += count;
        phaseCount[p]! += count;
      } else {
        out.failed += count;
        failedInSecond += count;
        if (status === 'SLAVE_TIMEOUT') out.slaveTimeout += count;
        else if (status === 'SLAVE_NOT_AVAILABLE') out.slaveNotAvailable += count;
      }
      inFlightMessages -= count;
      if (--inFlight === 0 && allSent) settled();
    };
    producer.sendToQueue(mq, batch).then(
      (r) => answered(r.status === 'SEND_OK', r.status),
      (err: unknown) => {
        if (out.errors.length < MAX_ERRORS_KEPT) out.errors.push(err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err));
        answered(false, 'ERROR');
      },
    );
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
      retried: 0,
      send: encodeHistogram(sendHist),
      lag: encodeHistogram(lagHist),
    });
    ackedInSecond = 0;
    failedInSecond = 0;
    sendHist.reset();
    lagHist.reset();
  });

  await runOpenLoop({
    schedule,
    startUs: runStartUs,
    tickMs: task.tickMs,
    batchMax: task.batchMax,
    send,
    onLag: (us) => lagHist.recordValue(Math.round(us)),
    room: () => task.maxInFlight - inFlightMessages,
    stopped: () => Atomics.load(control, CONTROL_ABORT) !== 0,
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
