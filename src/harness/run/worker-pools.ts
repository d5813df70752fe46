// The producer and consumer threads of a run: a piscina pool each, one task
// per thread, each task with a MessagePort to the coordinator. The pools
// gather the workers' events (ready, interval reports, warnings), hold the
// ready barrier, pass the coordinator's commands on, and say how busy each
// worker's thread was (event-loop utilisation) and how much CPU it used (its
// kernel thread's utime + stime, from the tid it gave when ready). One consumer can be killed mid-run (the kill-consumer fault):
// its task's end is then expected, not a failure of the run.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  CONSUMER_TASK_FILE,
  PRODUCER_TASK_FILE,
  type ConsumerOutcome,
  type ConsumerTask,
  type ProducerOutcome,
  type ProducerTask,
  type WorkerCommand,
  type WorkerEvent,
} from '../workers/index.js';
import { producingSeconds } from '../scenario/index.js';
import { threadCpuUs } from '../../load/index.js';
import type { RoleActivity } from './run-context.js';
import type { RunContext } from './run-context.js';

/** Timeout of one send attempt (a timed-out attempt is retried). */
export const SEND_TIMEOUT_MS = 10_000;
/** Producers retry unacknowledged messages this long after the producing phases' end, then give them up. */
export const GIVE_UP_GRACE_SEC = 10;
/** Per producer worker: messages sent and not finally answered (about a second of the peak; bounds the generator's memory). */
const MAX_IN_FLIGHT = 262_144;
/** A killed consumer posts its outcome just before its thread ends; the pools wait this long for it. */
const DIED_OUTCOME_WAIT_MS = 2000;

export interface WorkerPoolOptions {
  /** Timeout of one send attempt; default SEND_TIMEOUT_MS. */
  sendTimeoutMs?: number;
  /** Seconds after the run's start when producers give up on what is still unacknowledged; default the producing phases' end + GIVE_UP_GRACE_SEC. */
  giveUpAfterSec?: number;
}

export class WorkerPools {
  readonly producerRuns: Promise<ProducerOutcome>[] = [];
  readonly consumerRuns: Promise<ConsumerOutcome>[] = [];
  /** Rejects with the first worker's failure; never resolves (race it against what the workers should do). */
  readonly failed: Promise<never>;
  /** The consumer pool, then the producer pool (the order the busy shares name them in). */
  readonly #pools: Piscina[] = [];
  readonly #ports: MessagePort[] = [];
  readonly #consumerPorts: MessagePort[] = [];
  readonly #producerPorts: MessagePort[] = [];
  /** Consumers killed on purpose, and the outcome each posted before it ended. */
  readonly #killed = new Set<number>();
  readonly #diedOutcomes = new Map<number, ConsumerOutcome>();
  readonly #run: RunContext;
  /** Each worker's role name ('producer 0') by the Node threadId of the thread it runs on, and its kernel tid. */
  readonly #threads = new Map<number, { role: string; tid: number | undefined; lastCpuUs: number | undefined }>();
  #ready = 0;
  #wakeReady: (() => void) | undefined;

  /** Starts every consumer task, then every producer task. */
  constructor(run: RunContext, options: WorkerPoolOptions = {}) {
    const s = run.scenario;
    this.#run = run;
    const consumerPool = this.#pool(CONSUMER_TASK_FILE, run.consumers);
    for (let w = 0; w < run.consumers; w++) {
      const port = this.#listen(run, 'consumer');
      this.#consumerPorts.push(port.ours);
      const task: ConsumerTask = {
        worker: w,
        namesrv: run.topology!.namesrv,
        credential: run.topology!.credentials?.consumer,
        topic: run.topic,
        group: run.group,
        producers: run.producers,
        capacityPerSec: s.consumer.capacityPerSec / run.consumers,
        phases: [...s.phases],
        nonce: run.nonce,
        shared: run.shared,
        port: port.theirs,
      };
      const done = consumerPool.run(task, { transferList: [port.theirs] }) as Promise<ConsumerOutcome>;
      // A consumer killed on purpose ends its thread: that is its outcome, not the run's failure.
      this.consumerRuns.push(done.catch((err: unknown) => (this.#killed.has(w) ? this.#diedOutcome(w) : Promise.reject(err))));
    }
    // The HTTP front plays the users with autocannon instead (http-front.ts).
    const producers = run.front === 'http' ? 0 : run.producers;
    const producerPool = producers > 0 ? this.#pool(PRODUCER_TASK_FILE, producers) : undefined;
    for (let w = 0; w < producers; w++) {
      const port = this.#listen(run, 'producer');
      this.#producerPorts.push(port.ours);
      const task: ProducerTask = {
        worker: w,
        workers: run.producers,
        namesrv: run.topology!.namesrv,
        credential: run.topology!.credentials?.producer,
        topic: run.topic,
        activity: s.name,
        bodySize: s.bodySize,
        phases: [...s.phases],
        totalMessages: run.totalMessages,
        userMultiplier: run.userMultiplier,
        nonce: run.nonce,
        tickMs: s.producer.tickMs,
        batchMax: s.producer.batchMax,
        sendTimeoutMs: options.sendTimeoutMs ?? SEND_TIMEOUT_MS,
        giveUpAfterSec: options.giveUpAfterSec ?? producingSeconds(s) + GIVE_UP_GRACE_SEC,
        maxInFlight: MAX_IN_FLIGHT,
        shared: run.shared,
        port: port.theirs,
      };
      this.producerRuns.push(producerPool!.run(task, { transferList: [port.theirs] }) as Promise<ProducerOutcome>);
    }
    this.failed = Promise.race([...this.producerRuns, ...this.consumerRuns].map((r) => r.then(() => new Promise<never>(() => undefined))));
    // A failure nobody is racing at that moment (during the drain, at teardown) must not crash the process.
    this.failed.catch(() => undefined);
  }

  #pool(filename: string, threads: number): Piscina {
    const p = new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, atomics: 'disabled', concurrentTasksPerWorker: 1 });
    this.#pools.push(p);
    return p;
  }

  /** A channel for one task: events come in on our end, the other end goes to the task. */
  #listen(run: RunContext, kind: 'producer' | 'consumer'): { ours: MessagePort; theirs: MessagePort } {
    const ch = new MessageChannel();
    this.#ports.push(ch.port1);
    ch.port1.on('message', (e: WorkerEvent) => {
      if (e.kind === 'ready') {
        this.#threads.set(e.threadId, { role: `${kind} ${e.worker}`, tid: e.tid, lastCpuUs: undefined });
        this.#ready++;
        this.#wakeReady?.();
      } else if (e.kind === 'warning') run.progress.note(`worker ${e.worker}: ${e.message}`);
      else if (e.kind === 'consumer-died') this.#diedOutcomes.set(e.worker, e.outcome);
      else run.metrics.add(e);
    });
    return { ours: ch.port1, theirs: ch.port2 };
  }

  /** The outcome a killed consumer posted before it ended (what it received up to then), or an empty one. */
  async #diedOutcome(w: number): Promise<ConsumerOutcome> {
    const deadline = Date.now() + DIED_OUTCOME_WAIT_MS;
    while (!this.#diedOutcomes.has(w) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.#diedOutcomes.get(w) ?? { worker: w, received: 0, phases: [], errors: ['killed; its outcome never arrived'] };
  }

  /** Consumers running (not killed): the run's expected reporters per second count these. */
  get liveConsumers(): number {
    return this.#consumerPorts.length - this.#killed.size;
  }

  /**
   * The kill-consumer fault: consumer `worker` ends at once as a crashed
   * process would (no unregister, no offset commit; its connections drop, so
   * the brokers drop it from the group and the others take its queues).
   * False when there is no such consumer or it was killed already.
   */
  killConsumer(worker: number): boolean {
    const port = this.#consumerPorts[worker];
    if (port === undefined || this.#killed.has(worker)) return false;
    this.#killed.add(worker);
    this.#run.metrics.expectedReporters = Math.max(0, this.#run.metrics.expectedReporters - 1);
    port.postMessage({ kind: 'die' } satisfies WorkerCommand);
    return true;
  }

  /** Tells the producers that a fault was carried out at shared-clock µs `atUs` (for ProducerOutcome.firstAckAfterFaultUs, in call order). */
  markFault(atUs: number): void {
    for (const p of this.#producerPorts) p.postMessage({ kind: 'fault', atUs } satisfies WorkerCommand);
  }

  /** Resolves once every task said it is ready (connected, subscribed); rejects if a worker fails first. */
  async untilReady(): Promise<void> {
    const all = this.producerRuns.length + this.consumerRuns.length;
    await Promise.race([
      (async () => {
        while (this.#ready < all) await new Promise<void>((resolve) => (this.#wakeReady = resolve));
      })(),
      this.failed,
    ]);
  }

  /** To every task (not to a killed consumer). */
  post(command: WorkerCommand): void {
    for (const p of this.#ports) if (!this.#consumerPorts.some((c, w) => c === p && this.#killed.has(w))) p.postMessage(command);
  }

  /**
   * Busy time so far of every worker's thread (event-loop active time) and its
   * CPU time (undefined before it said it is ready, or off Linux; a thread
   * that ended keeps its last reading), named by worker: 'producer 0'.
   */
  activity(): RoleActivity[] {
    return this.#pools.flatMap((p, i) =>
      p.threads.map((t, j) => {
        const known = this.#threads.get(t.threadId);
        if (known?.tid !== undefined) known.lastCpuUs = threadCpuUs(known.tid) ?? known.lastCpuUs;
        return { role: known?.role ?? `${i === 0 ? 'consumer' : 'producer'} thread ${j}`, activeMs: t.performance.eventLoopUtilization().active, cpuUs: known?.lastCpuUs };
      }),
    );
  }

  /** Ends every thread (a task still running is abandoned) and closes the channels. */
  async destroy(): Promise<void> {
    const pools = this.#pools.splice(0);
    try {
      await Promise.all(pools.map((p) => p.destroy()));
    } finally {
      for (const p of this.#ports) p.close();
    }
  }
}
