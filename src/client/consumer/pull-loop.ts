// One owned queue's long-polling pull loop: pulls while the queue's buffer
// has room (memory stays bounded), piggybacks the consumed offset on each
// pull, filters by exact tag, and hands what arrived to the dispatcher. Reads
// go where ReadRouting says; a failed read of a master moves to its slave at
// once, any other failure backs off.
import { MetaqError } from '../../common/index.js';
import { splitRecords } from '../received-message.js';
import type { ConsumerCore } from './consumer-core.js';
import { PULL_MAX_BYTES } from './consumer-options.js';
import type { ProcessQueue } from './process-queue.js';
import type { ReadRouting } from './read-routing.js';

const PULL_ERROR_BACKOFF_MS = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class PullLoop {
  readonly #core: ConsumerCore;
  readonly #reads: ReadRouting;
  /** Called after messages were added to a queue's buffer. */
  readonly #pulled: () => void;

  constructor(core: ConsumerCore, reads: ReadRouting, pulled: () => void) {
    this.#core = core;
    this.#reads = reads;
    this.#pulled = pulled;
  }

  /** Pulls `pq` until it is dropped or the consumer stops. */
  async run(pq: ProcessQueue): Promise<void> {
    const core = this.#core;
    const o = core.o;
    const sub = core.subs.get(pq.mq.topic)!;
    while (!pq.dropped && core.running()) {
      const room = pq.waitForRoom(o.maxBufferedPerQueue);
      if (room !== undefined) {
        await room;
        continue;
      }
      const addr = this.#reads.addr(pq.mq);
      // Reads moved to the other broker of the pair (to the slave while its master is down, or back to
      // the master): what was committed on the one before is not there, so commit afresh. Without this
      // a master back from a failure kept the offsets of before it, and re-delivered what the slave had
      // seen consumed.
      if (pq.readAddr !== undefined && pq.readAddr !== addr) pq.committed = -1;
      pq.readAddr = addr;
      try {
        const consumed = pq.consumedOffset();
        const res = await core.api.pull(
          addr,
          {
            group: o.offsetGroup,
            topic: pq.mq.topic,
            queueId: pq.mq.queueId,
            offset: pq.nextPullOffset,
            maxCount: o.pullBatchSize,
            maxBytes: PULL_MAX_BYTES,
            pollTimeoutMs: o.pollTimeoutMs,
            commitOffset: consumed > pq.committed ? consumed : undefined,
            tags: sub.tags,
          },
          o.pollTimeoutMs + o.requestTimeoutMs,
        );
        if (consumed > pq.committed) pq.committed = consumed;
        if (pq.dropped) break;
        if (res.status === 'FOUND') {
          const all = splitRecords(res.records, res.count, pq.mq.brokerName, addr, addr === pq.mq.slaveAddr);
          const kept = sub.tags.length === 0 ? all : all.filter((m) => sub.accepts(m.tags));
          pq.add(kept, res.nextOffset);
          this.#pulled();
        } else {
          if (res.status === 'OFFSET_MOVED' || res.status === 'OFFSET_OVERFLOW') {
            core.note(new MetaqError(`${pq.mq.topic}:${pq.mq.queueId} offset ${pq.nextPullOffset} is out of range; moving to ${res.nextOffset}`));
            // The broker's offset may no longer be ours (an admin reset, a commit it did not apply): commit afresh.
            pq.committed = -1;
          }
          pq.nextPullOffset = res.nextOffset;
        }
      } catch (err) {
        if (pq.dropped || !core.running()) break;
        core.note(err);
        this.#reads.failed(pq.mq, addr, err);
        // Straight to the slave when there is one to fall back to; otherwise back off.
        if (this.#reads.addr(pq.mq) === addr) await sleep(PULL_ERROR_BACKOFF_MS);
      }
    }
  }
}
