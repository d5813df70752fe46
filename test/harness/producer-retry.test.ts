// The activity system's producer task (the very function the harness runs in
// a worker thread, here in-process) against real brokers over TCP while a
// broker group goes away: it re-sends failed batches until they are
// acknowledged (the group restarted, or another group took them), counts
// every attempt and re-send, reports the first SEND_OK after a fault, and
// gives up what is still unacknowledged at its give-up time.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Admin } from '../../src/client/index.js';
import { nowUs } from '../../src/load/index.js';
import type { Phase } from '../../src/harness/scenario/index.js';
import {
  ACK_FAILED,
  ACK_OK,
  createSharedRunState,
  MIN_RETRY_US,
  PRODUCER_TASK_FILE,
  userPermutation,
  type ProducerInterval,
  type ProducerOutcome,
  type ProducerTask,
  type WorkerCommand,
  type WorkerEvent,
} from '../../src/harness/workers/index.js';
import { useCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/wait.js';

const TOPIC = 'CLAIMS';
const QUEUES = 4;
const RATE = 200;
const DURATION_SEC = 5;
const TOTAL = RATE * DURATION_SEC;
const REPORT_SETTLE_MS = 100;

const cluster = useCluster();

interface Running {
  outcome: Promise<ProducerOutcome>;
  intervals: ProducerInterval[];
  acked: Uint8Array;
  runStartUs: number;
  command(c: WorkerCommand): void;
}

async function startProducer(c: TestCluster, giveUpAfterSec: number): Promise<Running> {
  const { default: produce } = (await import(PRODUCER_TASK_FILE)) as { default: (t: ProducerTask) => Promise<ProducerOutcome> };
  const phases: Phase[] = [{ name: 'steady', durationSec: DURATION_SEC, startRate: RATE, endRate: RATE }];
  const shared = createSharedRunState(TOTAL, 0);
  const ch = new MessageChannel();
  const intervals: ProducerInterval[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  ch.port1.on('message', (e: WorkerEvent) => {
    if (e.kind === 'ready') ready();
    else if (e.kind === 'producer-interval') intervals.push(e);
  });
  const outcome = produce({
    worker: 0,
    workers: 1,
    namesrv: c.ns,
    topic: TOPIC,
    activity: 'retry-test',
    bodySize: 64,
    phases,
    totalMessages: TOTAL,
    userMultiplier: userPermutation(TOTAL).multiplier,
    nonce: 1,
    tickMs: 5,
    batchMax: 16,
    sendTimeoutMs: 2000,
    giveUpAfterSec,
    maxInFlight: 10_000,
    shared,
    port: ch.port2,
  });
  await isReady;
  const runStartUs = nowUs() + 50_000;
  ch.port1.postMessage({ kind: 'start', runStartUs } satisfies WorkerCommand);
  await sleep(50);
  return {
    // The last second's report is posted just before the task returns: let it arrive.
    outcome: outcome.then(async (o) => {
      await sleep(REPORT_SETTLE_MS);
      ch.port1.close();
      return o;
    }),
    intervals,
    acked: new Uint8Array(shared.acked),
    runStartUs,
    command: (cmd) => ch.port1.postMessage(cmd),
  };
}

/** Messages stored on every routed queue of the topic (what the broker holds). */
async function stored(ns: string): Promise<number> {
  const admin = new Admin({ namesrv: ns });
  try {
    let n = 0;
    for (const mq of await admin.queues(TOPIC)) n += (await admin.queueOffsets(mq)).maxOffset;
    return n;
  } finally {
    admin.close();
  }
}

function count(a: Uint8Array, v: number): number {
  return a.reduce((n, x) => n + (x === v ? 1 : 0), 0);
}

function sum(intervals: readonly ProducerInterval[], f: (i: ProducerInterval) => number): number {
  return intervals.reduce((n, i) => n + f(i), 0);
}

describe('the producer task under a broker outage', () => {
  it('one broker group, stopped then restarted: every claim is re-sent until acknowledged; attempts, re-sends and the recovery time are counted', async () => {
    const c = await cluster({ topics: { [TOPIC]: QUEUES } });
    const p = await startProducer(c, DURATION_SEC + 20);
    await sleep(1500);
    const old = c.brokers[0]!;
    const { port } = old;
    const faultUs = nowUs();
    p.command({ kind: 'fault', atUs: faultUs });
    const dir = await c.stopBroker(old);
    await sleep(1500);
    const restartUs = nowUs();
    await c.startBroker({ dir, brokerName: old.config.brokerName, port });
    const out = await p.outcome;

    expect(out.attempted).toBe(TOTAL);
    expect(out.acked).toBe(TOTAL);
    expect(out.failed).toBe(0);
    expect(count(p.acked, ACK_OK)).toBe(TOTAL);
    expect(out.attempts.ok).toBe(TOTAL);
    // The outage was seen and ridden out by re-sends.
    expect(out.attempts.error).toBeGreaterThan(0);
    expect(out.retried).toBeGreaterThan(0);
    expect(out.retried).toBe(out.attempts.error + out.attempts.slaveTimeout + out.attempts.slaveNotAvailable + out.attempts.otherStatus);
    // Per second: the same counts as the totals.
    expect(sum(p.intervals, (i) => i.acked)).toBe(TOTAL);
    expect(sum(p.intervals, (i) => i.retried)).toBe(out.retried);
    expect(sum(p.intervals, (i) => i.failed)).toBe(out.retried);
    // Nothing could be acknowledged while the only group was down: the first SEND_OK after the fault comes after the restart.
    expect(out.firstAckAfterFaultUs).toHaveLength(1);
    expect(out.firstAckAfterFaultUs[0]).toBeGreaterThan(restartUs);
    expect(await stored(c.ns)).toBeGreaterThanOrEqual(TOTAL);
  });

  it('two broker groups, one stopped for good: its claims go to the other group, none given up', async () => {
    const c = await cluster({ topics: { [TOPIC]: QUEUES }, brokers: 2 });
    const p = await startProducer(c, DURATION_SEC + 20);
    await sleep(1500);
    const faultUs = nowUs();
    p.command({ kind: 'fault', atUs: faultUs });
    await c.stopBroker(c.brokers[0]!);
    const out = await p.outcome;

    expect(out.acked).toBe(TOTAL);
    expect(out.failed).toBe(0);
    expect(count(p.acked, ACK_OK)).toBe(TOTAL);
    // Recovery does not wait for the stopped group: the other one acknowledges within a second.
    expect(out.firstAckAfterFaultUs[0]).not.toBeNull();
    expect(out.firstAckAfterFaultUs[0]! - faultUs).toBeLessThan(1_000_000);
  });

  it('gives up what is still unacknowledged at its give-up time, once re-sent for MIN_RETRY_US: ACK_FAILED and counted as failed', async () => {
    const c = await cluster({ topics: { [TOPIC]: QUEUES } });
    const giveUpAfterSec = 3;
    const p = await startProducer(c, giveUpAfterSec);
    await sleep(1000);
    await c.stopBroker(c.brokers[0]!);
    const out = await p.outcome;
    const endedUs = nowUs();

    expect(out.failed).toBeGreaterThan(0);
    expect(out.acked + out.failed).toBe(TOTAL);
    expect(count(p.acked, ACK_OK)).toBe(out.acked);
    expect(count(p.acked, ACK_FAILED)).toBe(out.failed);
    expect(out.retried).toBeGreaterThan(0);
    // Retries stopped once the give-up time was past and the last batch to fail first had had its
    // MIN_RETRY_US (it failed before the curve's end), plus at most one backoff and one answer.
    expect((endedUs - p.runStartUs) / 1e6).toBeLessThan(DURATION_SEC + MIN_RETRY_US / 1e6 + 1);
    expect((endedUs - p.runStartUs) / 1e6).toBeGreaterThan(1 + MIN_RETRY_US / 1e6);
  });
});
