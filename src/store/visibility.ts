// How far readers see, and the runs of the dispatcher up to there (RocketMQ's
// ReputMessageService). Visibility follows durability: the confirmed offset
// is the written offset under async flush, the flushed offset under sync
// flush, capped by what a slave confirmed when sync replication requires it.
// ConsumeQueue entries exist only below it, so no reader sees a message that
// a crash could erase.
import { StoreWriteError } from '../common/index.js';
import type { CommitLog } from './commitlog/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { StoreGate } from './store-gate.js';
import type { ArrivalListener, FlushMode } from './types.js';

/** Pause before retrying a dispatch pass that failed on IO. */
const DISPATCH_RETRY_MS = 100;

export class Visibility {
  readonly #log: CommitLog;
  readonly #dispatcher: Dispatcher;
  readonly #flushMode: FlushMode;
  readonly #gate: StoreGate;
  readonly #listeners = new Set<ArrivalListener>();
  /** Sync replication: readers see nothing past what the slave confirmed. */
  #limit: number | undefined;
  #scheduled = false;
  #error: Error | undefined;

  constructor(log: CommitLog, dispatcher: Dispatcher, flushMode: FlushMode, gate: StoreGate) {
    this.#log = log;
    this.#dispatcher = dispatcher;
    this.#flushMode = flushMode;
    this.#gate = gate;
  }

  /** The last dispatch failure (e.g. a full disk while writing ConsumeQueues), until a pass succeeds. */
  get dispatchError(): Error | undefined {
    return this.#error;
  }

  /** How far this store vouches for its log on its own: flushed (sync flush) or written (async). */
  localConfirmedOffset(): number {
    return this.#flushMode === 'sync' ? this.#log.flushedOffset : this.#log.writtenOffset;
  }

  /** How far readers may see: the local confirmation, capped by the replica's when one is required. */
  confirmedOffset(): number {
    const local = this.localConfirmedOffset();
    return this.#limit === undefined ? local : Math.min(local, this.#limit);
  }

  /** Caps visibility at `offset` (what the slave confirmed); `undefined` lifts the cap. */
  setLimit(offset: number | undefined): void {
    const before = this.#limit;
    this.#limit = offset;
    if (offset === undefined || before === undefined || offset > before) this.schedule();
  }

  /** Calls `listener` whenever new messages of a queue become visible. Returns an unsubscribe. */
  onArrival(listener: ArrivalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A dispatch pass on the next turn (at most one scheduled). */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#gate.closed) this.dispatchNow();
    });
  }

  /** A dispatch pass now, up to the confirmed offset; a failure is retried shortly. */
  dispatchNow(): void {
    try {
      this.#pass();
      this.#error = undefined;
    } catch (err) {
      // Readers keep seeing what was indexed before; try again shortly.
      const first = this.#error === undefined;
      this.#error = err instanceof Error ? err : new StoreWriteError(String(err), { cause: err });
      // Say it once per failure streak; stats().dispatchError keeps saying it.
      if (first) process.emitWarning(`metaq store: dispatch failed, retrying: ${this.#error.message}`, { code: 'METAQ_DISPATCH_FAILED' });
      if (!this.#gate.closed) setTimeout(() => this.schedule(), DISPATCH_RETRY_MS).unref();
    }
  }

  #pass(): void {
    const listeners = this.#listeners;
    this.#dispatcher.dispatch(
      this.confirmedOffset(),
      listeners.size === 0
        ? undefined
        : (topic, queueId, maxOffset) => {
            for (const l of listeners) l(topic, queueId, maxOffset);
          },
    );
  }
}
