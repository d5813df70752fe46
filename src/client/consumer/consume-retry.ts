// What happens to a batch the handler failed: handed to the broker's retry
// (SEND_BACK: the group's retry topic after a delay, or the dead-letter
// topic), or run again in place after a pause, keeping its place in the
// queue (ordered and broadcasting consumers; and any batch whose send-back
// failed).
import { ConsumeMode } from '../../protocol/index.js';
import type { ConsumerCore } from './consumer-core.js';
import type { Batch } from './process-queue.js';

export class ConsumeRetry {
  readonly #core: ConsumerCore;
  /** Called when a paused batch may run again. */
  readonly #wake: () => void;

  constructor(core: ConsumerCore, wake: () => void) {
    this.#core = core;
    this.#wake = wake;
  }

  /** Ordered and broadcasting consumers retry a failed batch themselves, keeping its place. */
  async inPlace(batch: Batch): Promise<void> {
    const { o } = this.#core;
    if (batch.attempts >= o.maxReconsumeTimes) {
      // Gave up: ordered messages go to the dead-letter topic; broadcasting ones are dropped.
      if (o.mode === ConsumeMode.Clustering) await this.sendBack(batch, true);
      else batch.pq.done(batch);
      return;
    }
    this.#later(batch);
  }

  /** Hands failed messages to the broker's retry; if that fails, runs the batch again locally. */
  async sendBack(batch: Batch, toDeadLetter = false): Promise<void> {
    const { o, api } = this.#core;
    const pq = batch.pq;
    try {
      await api.sendBack(
        pq.mq.addr,
        batch.messages.map((m) => ({ group: o.group, physicalOffset: m.physicalOffset, maxReconsumeTimes: o.maxReconsumeTimes, toDeadLetter })),
      );
      pq.done(batch);
    } catch (err) {
      this.#core.note(err);
      this.#later(batch);
    }
  }

  #later(batch: Batch): void {
    const delay = this.#core.o.localRetryDelayMs;
    batch.pq.suspendedUntil = Date.now() + delay;
    batch.pq.retryLater(batch);
    setTimeout(this.#wake, delay).unref();
  }
}
