// Whether the store takes writes: closed, stopped after an IO failure it
// cannot vouch for, or refusing while the disk is above its high-water mark.
// Every part that writes asks here first.
import { DiskFullError, StoreClosedError, StoreUnavailableError, type MetaqError } from '../common/index.js';

export class StoreGate {
  readonly #dir: string;
  readonly #diskHighWaterRatio: number;
  closed = false;
  /** Disk use is above the high-water mark (set by the maintenance service). */
  diskFull = false;
  /** The failure after which nothing unflushed can be vouched for. */
  unavailable: MetaqError | undefined;
  /**
   * Replication holds the store's own writes (a master that may be behind its
   * slave): puts are refused with this error, replicated appends go on.
   */
  held: MetaqError | undefined;

  constructor(dir: string, diskHighWaterRatio: number) {
    this.#dir = dir;
    this.#diskHighWaterRatio = diskHighWaterRatio;
  }

  checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Throws unless writes are taken; `replicated` appends (records copied from another log) pass a replication hold. */
  checkWritable(replicated = false): void {
    this.checkOpen();
    if (this.unavailable !== undefined) throw new StoreUnavailableError(undefined, { cause: this.unavailable });
    if (this.held !== undefined && !replicated) throw this.held;
    if (this.diskFull) {
      throw new DiskFullError(`disk use of ${this.#dir} is above ${Math.round(this.#diskHighWaterRatio * 100)}%; writes are refused until space is freed`);
    }
  }
}
