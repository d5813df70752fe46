// One run of a scenario, start to end: boot the topology, start the lottery
// consumers and the activity producers (piscina pools), offer the rate curve
// open loop, follow it second by second, wait for the backlog to drain, stop
// everything cleanly, verify that nothing was lost, judge the thresholds and
// hand the result to the report writers.
import { randomInt } from 'node:crypto';
import os from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Piscina } from 'piscina';
import { Admin } from '../client/index.js';
import { createMergeHistogram, decodeHistogram, encodeHistogram } from '../common/latency-histogram.js';
import { sleep, nowUs } from './clock.js';
import type { ConsumerTask } from './consumer-task.js';
import { userPermutation } from './claim.js';
import type { ProducerTask } from './producer-task.js';
import { Progress } from './progress.js';
import { latencySummaryMs } from './report/index.js';
import type { BrokerFigures, PhaseSummary, RunResult, RunSummary } from './run-result.js';
import { RunMetrics } from './run-metrics.js';
import { DRAIN_PHASE, messagesDueAt, peakRate, producingSeconds, type FlushMode, type ReplicationMode, type Scenario } from './scenario.js';
import { CONTROL_ABORT, CONTROL_DROPPED, CONTROL_FOREIGN, createSharedRunState } from './shared-state.js';
import { startTopology, type RunningTopology } from './topology.js';
import { verify } from './verifier.js';
import type { ConsumerOutcome, PhaseFigures, ProducerOutcome, WorkerEvent } from './worker-reports.js';

export interface RunOptions {
  scenario: Scenario;
  /** Skip this many messages in the consumers (the deliberate fault that proves the verifier can fail). */
  injectDrop: number;
  /** Where each broker's fresh data directory is made. */
  dataRoot: string;
  keepData: boolean;
  /** Servers that already run, instead of booting them. */
  remote?: { namesrv: string; brokers: string[] };
  /** Aborts the run (SIGINT): the generators stop, the rest stops cleanly and the run fails. */
  signal?: AbortSignal;
  progress?: Progress;
}

/** Time for the topic's route to appear and the slave to connect before load starts. */
const SETTLE_TIMEOUT_MS = 30_000;
/** Load starts this long after every worker is ready (all threads see the same t = 0). */
const START_DELAY_US = 300_000;
const SEND_TIMEOUT_MS = 30_000;
/** Per producer worker: messages sent and not answered (about a second of the peak; bounds the generator's memory). */
const MAX_IN_FLIGHT = 262_144;
const DRAIN_POLL_MS = 500;
const GROUP = 'lottery';
/** A generator later than this at p99 did not offer the curve it claims: said in the summary. */
const GENERATOR_LAG_WARN_MS = 50;

export function producerWorkers(s: Scenario): number {
  return s.producer.workers > 0 ? s.producer.workers : Math.max(1, Math.floor(os.availableParallelism() / 2));
}

export async function runScenario(o: RunOptions): Promise<RunResult> {
  let s = o.scenario;
  const progress = o.progress ?? new Progress();
  const startedAt = new Date();
  const producingSec = producingSeconds(s);
  const totalMessages = messagesDueAt(s.phases, producingSec);
  const { multiplier } = userPermutation(totalMessages);
  const shared = createSharedRunState(totalMessages, o.injectDrop);
  const control = new Int32Array(shared.control);
  const nonce = randomInt(1, 0xffffffff);
  const producers = producerWorkers(s);
  const consumers = s.consumer.workers;
  const isolation = o.remote !== undefined ? 'remote' : s.topology.isolation;
  // On servers that already run, a topic of this run's own keeps earlier runs' messages out.
  const topic = o.remote !== undefined ? `${s.topic}_${nonce.toString(36)}` : s.topic;
  const group = o.remote !== undefined ? `${GROUP}_${nonce.toString(36)}` : GROUP;
  const onAbort = (): number => Atomics.store(control, CONTROL_ABORT, 1);
  o.signal?.addEventListener('abort', onAbort);

  progress.note(
    `metaq scenario ${s.name}: ${totalMessages.toLocaleString('en-US')} messages over ${producingSec.toFixed(0)} s (peak ${peakRate(s).toLocaleString('en-US')} msg/s), ` +
      `flush ${s.topology.flush}, replication ${s.topology.replication}, ${isolation}, ${producers} producer / ${consumers} consumer workers`,
  );
  const topology: RunningTopology = await startTopology({
    isolation,
    flush: s.topology.flush,
    replication: s.topology.replication,
    segmentSize: s.topology.segmentSize,
    topic,
    queues: s.queues,
    dataRoot: o.dataRoot,
    keepData: o.keepData,
    ...(o.remote !== undefined ? { remote: o.remote } : {}),
  });
  const admin = new Admin({ namesrv: topology.namesrv });
  const pools: Piscina[] = [];
  let brokers: BrokerFigures[] = [];
  try {
    if (o.remote !== undefined) {
      // The running broker decides flush and replication: report what it does, not what was asked.
      const actual = await remoteModes(admin, o.remote.brokers[0]!);
      if (actual.flush !== s.topology.flush || actual.replication !== s.topology.replication) {
        progress.note(`the broker at ${o.remote.brokers[0]} runs flush ${actual.flush}, replication ${actual.replication}: the run reports those`);
      }
      s = { ...s, topology: { ...s.topology, ...actual } };
      await admin.createTopic(topic, s.queues, o.remote.brokers);
    }
    await admin.waitForRoute(topic, SETTLE_TIMEOUT_MS);
    if (isolation !== 'remote' && s.topology.replication !== 'none') await waitForSlave(admin, topology.brokerAddrs[0]!);

    const metrics = new RunMetrics(s.phases);
    const ports: MessagePort[] = [];
    let ready = 0;
    let wakeReady: (() => void) | undefined;
    const listen = (port: MessagePort): void => {
      ports.push(port);
      port.on('message', (e: WorkerEvent) => {
        if (e.kind === 'ready') {
          ready++;
          wakeReady?.();
        } else if (e.kind === 'warning') progress.note(`worker ${e.worker}: ${e.message}`);
        else metrics.add(e);
      });
    };
    const pool = (file: string, threads: number): Piscina => {
      const p = new Piscina({ filename: new URL(`./${file}.js`, import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, atomics: 'disabled', concurrentTasksPerWorker: 1 });
      pools.push(p);
      return p;
    };

    const consumerPool = pool('consumer-task', consumers);
    const consumerRuns: Promise<ConsumerOutcome>[] = [];
    for (let w = 0; w < consumers; w++) {
      const ch = new MessageChannel();
      listen(ch.port1);
      const task: ConsumerTask = {
        worker: w,
        namesrv: topology.namesrv,
        topic,
        group,
        producers,
        capacityPerSec: s.consumer.capacityPerSec / consumers,
        phases: [...s.phases],
        nonce,
        shared,
        port: ch.port2,
      };
      consumerRuns.push(consumerPool.run(task, { transferList: [ch.port2] }) as Promise<ConsumerOutcome>);
    }
    const producerPool = pool('producer-task', producers);
    const producerRuns: Promise<ProducerOutcome>[] = [];
    for (let w = 0; w < producers; w++) {
      const ch = new MessageChannel();
      listen(ch.port1);
      const task: ProducerTask = {
        worker: w,
        workers: producers,
        namesrv: topology.namesrv,
        topic,
        activity: s.name,
        bodySize: s.bodySize,
        phases: [...s.phases],
        totalMessages,
        userMultiplier: multiplier,
        nonce,
        tickMs: s.producer.tickMs,
        batchMax: s.producer.batchMax,
        sendTimeoutMs: SEND_TIMEOUT_MS,
        maxInFlight: MAX_IN_FLIGHT,
        shared,
        port: ch.port2,
      };
      producerRuns.push(producerPool.run(task, { transferList: [ch.port2] }) as Promise<ProducerOutcome>);
    }
    const workerFailed = Promise.race([...producerRuns, ...consumerRuns].map((r) => r.then(() => new Promise<never>(() => undefined))));
    await Promise.race([
      (async () => {
        while (ready < producers + consumers) await new Promise<void>((resolve) => (wakeReady = resolve));
      })(),
      workerFailed,
    ]);

    // Where the time went: busy time of every thread over the sale (run start to the last answer).
    const activity = (): { role: string; activeMs: number }[] => [
      ...topology.activity(),
      ...pools.flatMap((p, i) => p.threads.map((t, j) => ({ role: `${i === 0 ? 'consumer' : 'producer'} ${j}`, activeMs: t.performance.eventLoopUtilization().active }))),
    ];
    const runStartUs = nowUs() + START_DELAY_US;
    for (const p of ports) p.postMessage({ kind: 'start', runStartUs });
    await sleep(START_DELAY_US / 1000);
    const saleStart = { at: performance.now(), activity: activity() };
    let saleEnd = saleStart;
    metrics.expectedReporters = producers + consumers;
    const elapsed = (): number => (nowUs() - runStartUs) / 1e6;
    const ticker = setInterval(() => {
      for (const sec of metrics.settle(Math.floor(elapsed()))) progress.second(sec, sec.second + 1);
    }, 250);

    let producerOutcomes: ProducerOutcome[];
    let consumerOutcomes: ConsumerOutcome[];
    let drained = false;
    let drainEndSec: number;
    try {
      let running = producers;
      producerOutcomes = await Promise.race([
        Promise.all(
          producerRuns.map((r) =>
            r.then((out) => {
              running--;
              metrics.expectedReporters = running + consumers;
              return out;
            }),
          ),
        ),
        workerFailed,
      ]);
      saleEnd = { at: performance.now(), activity: activity() };
      // Drain: until the group has committed everything on every queue, or the timeout.
      const deadline = Date.now() + s.drainTimeoutSec * 1000;
      const queues = await admin.queues(topic);
      while (!drained && Date.now() < deadline && Atomics.load(control, CONTROL_ABORT) === 0) {
        drained = (await Promise.all(queues.map(async (mq) => ((await admin.committedOffset(group, mq)) ?? 0) >= (await admin.queueOffsets(mq)).maxOffset))).every(Boolean);
        if (!drained) await sleep(DRAIN_POLL_MS);
      }
      drainEndSec = elapsed();
      for (const p of ports) p.postMessage({ kind: 'stop' });
      consumerOutcomes = await Promise.race([Promise.all(consumerRuns), workerFailed]);
    } finally {
      clearInterval(ticker);
    }
    for (const sec of metrics.settle(Infinity, true)) progress.second(sec, sec.second + 1);
    progress.end();
    const saleMs = Math.max(1, saleEnd.at - saleStart.at);
    const cpu: RunSummary['cpu'] = saleEnd.activity.map((a) => ({
      role: a.role,
      busyShare: round((a.activeMs - (saleStart.activity.find((b) => b.role === a.role)?.activeMs ?? 0)) / saleMs, 3),
    }));
    await Promise.all(pools.map((p) => p.destroy()));
    pools.length = 0;
    for (const p of ports) p.close();
    admin.close();
    brokers = await topology.close();

    const verdict = verify(shared, totalMessages, multiplier);
    const summary = summarize({
      s,
      o,
      isolation,
      startedAt,
      producers,
      consumers,
      metrics,
      producerOutcomes,
      consumerOutcomes,
      verdict,
      drained,
      drainEndSec,
      brokers,
      cpu,
      brokerAddrs: topology.brokerAddrs,
      aborted: Atomics.load(control, CONTROL_ABORT) !== 0,
      dropped: Atomics.load(control, CONTROL_DROPPED),
      foreign: Atomics.load(control, CONTROL_FOREIGN),
    });
    return { summary, timeline: metrics.timeline() };
  } catch (err) {
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
    admin.close();
    await topology.close().catch(() => undefined);
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}

async function remoteModes(admin: Admin, broker: string): Promise<{ flush: FlushMode; replication: ReplicationMode }> {
  const stats = await admin.stats(broker);
  const ha = stats.ha !== undefined && 'slaveConnected' in stats.ha ? stats.ha : undefined;
  return {
    flush: stats.store.flushMode,
    replication: ha?.slaveConnected === true ? ha.mode : 'none',
  };
}

async function waitForSlave(admin: Admin, master: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const { ha } = await admin.stats(master);
    if (ha !== undefined && 'slaveConnected' in ha && ha.slaveConnected) return;
    if (Date.now() > deadline) throw new Error(`the slave did not connect to the master ${master} within ${SETTLE_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

interface SummaryInput {
  s: Scenario;
  o: RunOptions;
  isolation: RunSummary['isolation'];
  startedAt: Date;
  producers: number;
  consumers: number;
  metrics: RunMetrics;
  producerOutcomes: ProducerOutcome[];
  consumerOutcomes: ConsumerOutcome[];
  verdict: ReturnType<typeof verify>;
  drained: boolean;
  drainEndSec: number;
  brokers: BrokerFigures[];
  cpu: RunSummary['cpu'];
  brokerAddrs: string[];
  aborted: boolean;
  dropped: number;
  foreign: number;
}

function mergePhase(outcomes: { phases: PhaseFigures[] }[], p: number): { count: number; hist: hdr.Histogram } {
  const hist = createMergeHistogram();
  let count = 0;
  for (const out of outcomes) {
    const f = out.phases[p];
    if (f === undefined) continue;
    count += f.count;
    hist.add(decodeHistogram(f.latency));
  }
  return { count, hist };
}

/** Milliseconds for a sentence: 3 significant digits below 100, whole numbers with separators above. */
function ms(v: number): string {
  return v < 100 ? String(Number(v.toPrecision(3))) : Math.round(v).toLocaleString('en-US');
}

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function summarize(x: SummaryInput): RunSummary {
  const { s, metrics, verdict } = x;
  const producingSec = producingSeconds(s);
  const seconds = metrics.seconds;
  const backlogAt = (sec: number): number => {
    let b = 0;
    for (const row of seconds) if (row.second < sec) b = row.backlog;
    return b;
  };
  const phases: PhaseSummary[] = [];
  let start = 0;
  const allPhases = [...s.phases, { name: DRAIN_PHASE, durationSec: Math.max(0, x.drainEndSec - producingSec), startRate: 0, endRate: 0 }];
  // What the latency bounds judge: answers and receptions within the chosen phases.
  const judged = new Set(s.thresholds.latencyPhases ?? allPhases.map((ph) => ph.name));
  const judgedSend = createMergeHistogram();
  const judgedE2e = createMergeHistogram();
  allPhases.forEach((ph, p) => {
    const acked = mergePhase(x.producerOutcomes, p);
    const consumed = mergePhase(x.consumerOutcomes, p);
    if (judged.has(ph.name)) {
      judgedSend.add(acked.hist);
      judgedE2e.add(consumed.hist);
    }
    const d = Math.max(ph.durationSec, 1e-9);
    phases.push({
      name: ph.name,
      startSec: round(start, 3),
      durationSec: round(ph.durationSec, 3),
      // The mean of a linear stretch of the curve (the drain offers nothing).
      offeredRate: round((ph.startRate + ph.endRate) / 2),
      ackedRate: round(acked.count / d),
      consumedRate: round(consumed.count / d),
      sendP99Ms: latencySummaryMs(acked.hist).p99,
      e2eP99Ms: latencySummaryMs(consumed.hist).p99,
      backlogAtEnd: backlogAt(Math.ceil(start + ph.durationSec)),
    });
    start += ph.durationSec;
  });

  const sum = (f: (p: ProducerOutcome) => number): number => x.producerOutcomes.reduce((a, p) => a + f(p), 0);
  const ackedInCurve = phases.slice(0, s.phases.length).reduce((a, p) => a + p.ackedRate * p.durationSec, 0);
  const consuming = seconds.filter((r) => r.consumed > 0);
  const consumeSpan = consuming.length === 0 ? 1 : consuming.at(-1)!.second - consuming[0]!.second + 1;
  const peak = seconds.reduce((m, r) => (r.backlog > m.backlog ? r : m), { backlog: 0, second: 0 });
  const send = latencySummaryMs(metrics.send);
  const e2e = latencySummaryMs(metrics.e2e);
  const lag = latencySummaryMs(metrics.lag);

  const failures: string[] = [];
  const warnings: string[] = [];
  if (x.aborted) failures.push('the run was aborted before it finished');
  if (x.aborted && verdict.lost > 0) {
    failures.push(`${verdict.lost} acknowledged message(s) were not consumed before the abort (not verified)`);
  } else if (verdict.lost > 0) {
    const eg = verdict.lostSamples.map((l) => `message ${l.index} (user ${l.userId})`).join(', ');
    failures.push(`lost ${verdict.lost} acknowledged message(s) that no consumer received, e.g. ${eg}`);
  }
  if (verdict.tickets.issuedTwice > 0) failures.push(`${verdict.tickets.issuedTwice} ticket(s) issued twice`);
  if (verdict.tickets.neverIssued > 0 && !x.aborted) failures.push(`${verdict.tickets.neverIssued} allocated ticket(s) never issued`);
  if (!x.drained && !x.aborted) failures.push(`the consumers did not catch up within the drain timeout (${s.drainTimeoutSec} s); backlog ${backlogAt(Infinity)}`);
  const failed = sum((p) => p.failed);
  if (failed > 0) {
    const errs = [...new Set(x.producerOutcomes.flatMap((p) => p.errors))].slice(0, 3).join('; ');
    failures.push(`${failed} send(s) failed (SLAVE_TIMEOUT ${sum((p) => p.slaveTimeout)}, SLAVE_NOT_AVAILABLE ${sum((p) => p.slaveNotAvailable)}${errs === '' ? '' : `; ${errs}`})`);
  }
  for (const name of s.thresholds.ackedRatePhases) {
    const ph = phases.find((p) => p.name === name);
    if (ph === undefined) continue;
    const ratio = ph.offeredRate === 0 ? 1 : ph.ackedRate / ph.offeredRate;
    if (ratio < s.thresholds.minAckedRatio) {
      failures.push(
        `phase ${name}: acknowledged ${ph.ackedRate.toLocaleString('en-US')} msg/s of ${ph.offeredRate.toLocaleString('en-US')} offered ` +
          `(${(ratio * 100).toFixed(1)}%, below ${(s.thresholds.minAckedRatio * 100).toFixed(0)}%)`,
      );
    }
  }
  const over = s.thresholds.latencyPhases === undefined ? '' : ` (phases ${s.thresholds.latencyPhases.join(', ')})`;
  const sendJudged = latencySummaryMs(judgedSend).p99;
  const e2eJudged = latencySummaryMs(judgedE2e).p99;
  if (s.thresholds.maxSendP99Ms !== undefined && sendJudged > s.thresholds.maxSendP99Ms) failures.push(`send p99${over} ${ms(sendJudged)} ms is above ${s.thresholds.maxSendP99Ms} ms`);
  if (s.thresholds.maxE2eP99Ms !== undefined && e2eJudged > s.thresholds.maxE2eP99Ms) failures.push(`end-to-end p99${over} ${ms(e2eJudged)} ms is above ${s.thresholds.maxE2eP99Ms} ms`);
  if (lag.p99 > GENERATOR_LAG_WARN_MS) {
    warnings.push(
      `the load generator fell behind its schedule (p99 ${ms(lag.p99)} ms): held back by its bound on unanswered messages while the broker lagged, or short of CPU; ` +
        'latencies still count from the schedule',
    );
  }
  if (x.foreign > 0) warnings.push(`${x.foreign} message(s) on the topic were not this run's claims (ignored)`);
  if (x.dropped > 0) warnings.push(`--inject-drop: the consumers skipped ${x.dropped} message(s) on purpose`);

  const cpus = os.cpus();
  return {
    scenario: s.name,
    flush: s.topology.flush,
    replication: s.topology.replication,
    isolation: x.isolation,
    durationSec: round(producingSec, 3),
    targetRate: round(peakRate(s)),
    startedAt: x.startedAt.toISOString(),
    elapsedSec: round(x.drainEndSec, 3),
    messages: {
      attempted: sum((p) => p.attempted),
      acked: verdict.acked,
      failed,
      consumed: verdict.consumed,
      duplicates: verdict.duplicates,
      lost: verdict.lost,
      unackedReceived: verdict.unackedReceived,
    },
    tickets: verdict.tickets,
    throughput: {
      produceMean: round(ackedInCurve / producingSec),
      producePeak: seconds.reduce((m, r) => Math.max(m, r.acked), 0),
      consumeMean: round(verdict.consumed / consumeSpan),
    },
    latencyMs: { send, e2e, generatorLag: lag },
    backlog: { peak: peak.backlog, peakAtSec: peak.second },
    phases,
    brokers: x.brokers,
    cpu: x.cpu,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    config: {
      queues: s.queues,
      bodySize: s.bodySize,
      producers: x.producers,
      consumers: x.consumers,
      consumerCapacityPerSec: round(s.consumer.capacityPerSec),
      segmentSize: s.topology.segmentSize,
      injectDrop: x.o.injectDrop,
      brokerAddrs: x.brokerAddrs,
    },
    histograms: { send: encodeHistogram(metrics.send), e2e: encodeHistogram(metrics.e2e), generatorLag: encodeHistogram(metrics.lag) },
    passed: failures.length === 0,
    failures,
    warnings,
  };
}
