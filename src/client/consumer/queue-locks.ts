// Ordered consumers' queue locks on the brokers: a queue is locked before it
// is pulled, unlocked after its last batch was handled and committed, and
// renewed periodically; a queue whose lock was lost stops at once.
import type { MessageQueue } from '../topic-routes.js';
import { queueKey, type ConsumerCore } from './consumer-core.js';
import type { ProcessQueue } from './process-queue.js';

export class QueueLocks {
  readonly #core: ConsumerCore;

  constructor(core: ConsumerCore) {
    this.#core = core;
  }

  /** True if this client holds the queue's lock now. */
  async lock(mq: MessageQueue): Promise<boolean> {
    const held = await this.#core.api.lockQueues(mq.addr, this.#request([mq]));
    return held.length === 1;
  }

  async unlock(pq: ProcessQueue): Promise<void> {
    pq.locked = false;
    await this.#core.api.unlockQueues(pq.mq.addr, this.#request([pq.mq]));
  }

  /** Renews the locks of the owned queues; a queue whose lock was lost is dropped at once. */
  async renew(): Promise<void> {
    const { queues, api } = this.#core;
    const byAddr = new Map<string, ProcessQueue[]>();
    for (const pq of queues.values()) {
      if (pq.dropped) continue;
      const list = byAddr.get(pq.mq.addr) ?? [];
      list.push(pq);
      byAddr.set(pq.mq.addr, list);
    }
    for (const [addr, list] of byAddr) {
      try {
        const answer = await api.lockQueues(addr, this.#request(list.map((pq) => pq.mq)));
        // The broker answers (topic, queueId) pairs: all of this broker.
        const held = new Set(answer.map((q) => `${q.topic}/${q.queueId}`));
        for (const pq of list) {
          if (!held.has(`${pq.mq.topic}/${pq.mq.queueId}`)) {
            queues.delete(queueKey(pq.mq));
            pq.drop();
            pq.locked = false;
          }
        }
      } catch (err) {
        this.#core.note(err);
      }
    }
  }

  #request(mqs: readonly MessageQueue[]) {
    const { group, clientId } = this.#core.o;
    return { group, clientId, queues: mqs.map((mq) => ({ topic: mq.topic, queueId: mq.queueId })) };
  }
}
