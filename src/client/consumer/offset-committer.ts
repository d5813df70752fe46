// A queue's progress on the broker: where a newly owned queue starts (the
// group's committed offset, else the queue's first or last offset), and
// commits of the consumed offsets, one request per broker.
import { ConnectError } from '../../common/index.js';
import type { OffsetEntry } from '../../protocol/index.js';
import type { MessageQueue } from '../topic-routes.js';
import type { ConsumerCore } from './consumer-core.js';
import type { ProcessQueue } from './process-queue.js';
import type { ReadRouting } from './read-routing.js';

/** Topics whose names start with this are the broker's (retry, dead-letter): always read from their start. */
const SYSTEM_TOPIC_PREFIX = '%';

export class OffsetCommitter {
  readonly #core: ConsumerCore;
  readonly #reads: ReadRouting;

  constructor(core: ConsumerCore, reads: ReadRouting) {
    this.#core = core;
    this.#reads = reads;
  }

  /** Where a newly owned queue starts. */
  async startOffset(mq: MessageQueue): Promise<number> {
    const { api, o } = this.#core;
    const addr = this.#reads.addr(mq);
    let committed: number | undefined;
    try {
      committed = await api.queryOffset(addr, { group: o.offsetGroup, topic: mq.topic, queueId: mq.queueId });
    } catch (err) {
      // Only a failed connect sends reads to the slave here; a failed request is just an error.
      if (err instanceof ConnectError) this.#reads.failed(mq, addr, err);
      throw err;
    }
    if (committed !== undefined) return committed;
    const q = await api.queueOffsets(addr, mq);
    return o.consumeFrom === 'last' && !mq.topic.startsWith(SYSTEM_TOPIC_PREFIX) ? q.maxOffset : q.minOffset;
  }

  /** Commits the consumed offset of every owned queue that moved. */
  commitAll(): Promise<void> {
    return this.commit([...this.#core.queues.values()]);
  }

  /** Commits the consumed offset of each queue that moved, one request per broker. */
  async commit(queues: readonly ProcessQueue[]): Promise<void> {
    const byAddr = new Map<string, { pq: ProcessQueue; entry: OffsetEntry }[]>();
    for (const pq of queues) {
      const offset = pq.consumedOffset();
      if (offset <= pq.committed) continue;
      // Where the queue is read from now: a slave takes commits while its master is down.
      const addr = pq.readAddr ?? pq.mq.addr;
      const list = byAddr.get(addr) ?? [];
      list.push({ pq, entry: { topic: pq.mq.topic, queueId: pq.mq.queueId, offset } });
      byAddr.set(addr, list);
    }
    await Promise.all(
      [...byAddr].map(async ([addr, list]) => {
        await this.#core.api.commitOffsets(addr, { group: this.#core.o.offsetGroup, entries: list.map((e) => e.entry) });
        for (const { pq, entry } of list) if (entry.offset > pq.committed) pq.committed = entry.offset;
      }),
    );
  }
}
