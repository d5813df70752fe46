// Where a queue's reads (pulls, offset queries, commits) go: its master, or
// its slave when the master is gone from the route, failed a read recently,
// or when the consumer prefers slaves.
import { ConnectError, ConnectionClosedError, RequestTimeoutError } from '../../common/index.js';
import type { MessageQueue } from '../topic-routes.js';
import type { ResolvedConsumerOptions } from './consumer-options.js';

/** After a master failed a read, its slave serves reads this long before the master is tried again. */
const MASTER_RETRY_AFTER_MS = 5000;

export class ReadRouting {
  readonly #readFromSlave: ResolvedConsumerOptions['readFromSlave'];
  /** Per broker name: until when reads go to its slave because the master failed. */
  readonly #masterDownUntil = new Map<string, number>();

  constructor(readFromSlave: ResolvedConsumerOptions['readFromSlave']) {
    this.#readFromSlave = readFromSlave;
  }

  /** Where reads of a queue go now: its master or its slave. */
  addr(mq: MessageQueue): string {
    const slave = mq.slaveAddr;
    if (slave === undefined || this.#readFromSlave === 'never') return mq.addr;
    if (this.#readFromSlave === 'prefer') return slave;
    return (this.#masterDownUntil.get(mq.brokerName) ?? 0) > Date.now() ? slave : mq.addr;
  }

  /** A read from `addr` failed: if it was a master with a slave and the connection failed, read from the slave for a while. */
  failed(mq: MessageQueue, addr: string, err: unknown): void {
    if (mq.slaveAddr === undefined || addr !== mq.addr || this.#readFromSlave === 'never') return;
    if (err instanceof ConnectError || err instanceof ConnectionClosedError || err instanceof RequestTimeoutError) {
      this.#masterDownUntil.set(mq.brokerName, Date.now() + MASTER_RETRY_AFTER_MS);
    }
  }
}
