// The producer and consumer threads of a run: a piscina pool each, one task
// per thread, each task with a MessagePort to the coordinator. The pools
// gather the workers' events (ready, interval reports, warnings), hold the
// ready barrier, pass the coordinator's commands on, and say how busy each
// thread was.
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
import type { RunContext } from './run-context.js';

const SEND_TIMEOUT_MS = 30_000;
/** Per producer worker: messages sent and not answered (about a second of the peak; bounds the generator's memory). */
const MAX_IN_FLIGHT = 262_144;

export class WorkerPools {
  readonly producerRuns: Promise<ProducerOutcome>[] = [];
  readonly consumerRuns: Promise<ConsumerOutcome>[] = [];
  /** Rejects with the first worker's failure; never resolves (race it against what the workers should do). */
  readonly failed: Promise<never>;
  /** The consumer pool, then the producer pool (the order the busy shares name them in). */
  readonly #pools: Piscina[] = [];
  readonly #ports: MessagePort[] = [];
  #ready = 0;
  #wakeReady: (() => void) | undefined;

  /** Starts every consumer task, then every producer task. */
  constructor(run: RunContext) {
    const s = run.scenario;
    const consumerPool = this.#pool(CONSUMER_TASK_FILE, run.consumers);
    for (let w = 0; w < run.consumers; w++) {
      const port = this.#listen(run);
      const task: ConsumerTask = {
        worker: w,
        namesrv: run.topology!.namesrv,
        topic: run.topic,
        group: run.group,
        producers: run.producers,
        capacityPerSec: s.consumer.capacityPerSec / run.consumers,
        phases: [...s.phases],
        nonce: run.nonce,
        shared: run.shared,
        port,
      };
      this.consumerRuns.push(consumerPool.run(task, { transferList: [port] }) as Promise<ConsumerOutcome>);
    }
    const producerPool = this.#pool(PRODUCER_TASK_FILE, run.producers);
    for (let w = 0; w < run.producers; w++) {
      const port = this.#listen(run);
      const task: ProducerTask = {
        worker: w,
        workers: run.producers,
        namesrv: run.topology!.namesrv,
        topic: run.topic,
        activity: s.name,
        bodySize: s.bodySize,
        phases: [...s.phases],
        totalMessages: run.totalMessages,
        userMultiplier: run.userMultiplier,
        nonce: run.nonce,
        tickMs: s.producer.tickMs,
        batchMax: s.producer.batchMax,
        sendTimeoutMs: SEND_TIMEOUT_MS,
        maxInFlight: MAX_IN_FLIGHT,
        shared: run.shared,
        port,
      };
      this.producerRuns.push(producerPool.run(task, { transferList: [port] }) as Promise<ProducerOutcome>);
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
  #listen(run: RunContext): MessagePort {
    const ch = new MessageChannel();
    this.#ports.push(ch.port1);
    ch.port1.on('message', (e: WorkerEvent) => {
      if (e.kind === 'ready') {
        this.#ready++;
        this.#wakeReady?.();
      } else if (e.kind === 'warning') run.progress.note(`worker ${e.worker}: ${e.message}`);
      else run.metrics.add(e);
    });
    return ch.port2;
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

  /** To every task. */
  post(command: WorkerCommand): void {
    for (const p of this.#ports) p.postMessage(command);
  }

  /** Busy time so far of every thread (event-loop active time). */
  activity(): { role: string; activeMs: number }[] {
    return this.#pools.flatMap((p, i) => p.threads.map((t, j) => ({ role: `${i === 0 ? 'consumer' : 'producer'} ${j}`, activeMs: t.performance.eventLoopUtilization().active })));
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
