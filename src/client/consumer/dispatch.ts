// Hands buffered batches to the handler, round-robin over the owned queues,
// up to `concurrency` calls at once, and settles each batch by its outcome.
// ConcurrentDispatch and OrderedDispatch say which queue may go next and
// what a failed batch becomes.
import type { ConsumerCore } from './consumer-core.js';
import { ConsumeRetry } from './consume-retry.js';
import type { ConsumeResult, MessageHandler } from './message-handler.js';
import type { Batch, ProcessQueue } from './process-queue.js';

export abstract class Dispatch {
  protected readonly core: ConsumerCore;
  protected readonly retry: ConsumeRetry;
  readonly #handler: MessageHandler;
  #active = 0;
  #rr = 0;

  constructor(core: ConsumerCore, handler: MessageHandler) {
    this.core = core;
    this.#handler = handler;
    this.retry = new ConsumeRetry(core, () => this.pump());
  }

  /** May `pq` hand out a batch now? */
  protected abstract ready(pq: ProcessQueue): boolean;

  /** Settles a batch the handler failed. */
  protected abstract failed(batch: Batch): Promise<void>;

  /** Hands buffered batches to the handler while concurrency allows, round-robin over queues. */
  pump(): void {
    const core = this.core;
    if (!core.running()) return;
    const queues = [...core.queues.values()];
    if (queues.length === 0) return;
    let idleRounds = 0;
    while (this.#active < core.o.concurrency && idleRounds < queues.length) {
      const pq = queues[this.#rr++ % queues.length]!;
      if (!this.ready(pq)) {
        idleRounds++;
        continue;
      }
      const batch = pq.take(core.o.batchSize);
      if (batch === undefined) {
        idleRounds++;
        continue;
      }
      idleRounds = 0;
      this.#active++;
      void this.#run(batch);
    }
  }

  async #run(batch: Batch): Promise<void> {
    const pq = batch.pq;
    let result: ConsumeResult;
    try {
      const r = await this.#handler(batch.messages, { queue: pq.mq });
      result = r === 'retry' ? 'retry' : 'success';
    } catch (err) {
      this.core.note(err);
      result = 'retry';
    }
    if (result === 'success') pq.done(batch);
    else await this.failed(batch);
    this.#active--;
    this.pump();
  }
}
