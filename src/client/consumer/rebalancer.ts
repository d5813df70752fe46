// Which queues this consumer owns. Clustering members split each topic's
// queues by the same rule over the same sorted member list (allocate.ts);
// broadcasting members take them all. A rebalance first lets go of queues
// no longer ours (handler calls finish, the offset is committed, an ordered
// queue is unlocked) so that their next owner can take them, then takes new
// ones (an ordered queue only once its lock is ours).
import { ConsumeMode } from '../../protocol/index.js';
import { allocateAveragely } from '../allocate.js';
import type { MessageQueue } from '../topic-routes.js';
import { queueKey, type ConsumerCore } from './consumer-core.js';
import type { OffsetCommitter } from './offset-committer.js';
import { ProcessQueue } from './process-queue.js';
import type { PullLoop } from './pull-loop.js';
import type { QueueLocks } from './queue-locks.js';

/** How soon an ordered consumer tries again for a queue its previous owner still holds. */
export const LOCK_RETRY_MS = 500;

export class Rebalancer {
  readonly #core: ConsumerCore;
  readonly #committer: OffsetCommitter;
  readonly #pulls: PullLoop;
  /** Ordered consumers only. */
  readonly #locks: QueueLocks | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(core: ConsumerCore, committer: OffsetCommitter, pulls: PullLoop, locks: QueueLocks | undefined) {
    this.#core = core;
    this.#committer = committer;
    this.#pulls = pulls;
    this.#locks = locks;
  }

  /** The rebalance under way, if any. */
  get current(): Promise<void> | undefined {
    return this.#running;
  }

  /** Asks for a rebalance (broker notice, route change, timer); ignored once the consumer stops. */
  request(): void {
    if (!this.#core.running()) return;
    void this.run();
  }

  /** Runs a rebalance, or (if one is running) makes it go round once more and returns it. */
  run(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const core = this.#core;
    const rounds = async (): Promise<void> => {
      do {
        this.#again = false;
        for (const topic of core.subs.keys()) {
          try {
            await this.#rebalanceTopic(topic);
          } catch (err) {
            core.note(err);
          }
        }
      } while (this.#again && core.running());
    };
    this.#running = rounds().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops a queue: no more pulls, wait for its handler calls, commit its offset, unlock it. */
  async release(pq: ProcessQueue): Promise<void> {
    pq.drop();
    await pq.idle();
    await this.#committer.commit([pq]).catch((err: unknown) => this.#core.note(err));
    if (this.#locks !== undefined) await this.#locks.unlock(pq).catch((err: unknown) => this.#core.note(err));
  }

  async #rebalanceTopic(topic: string): Promise<void> {
    const core = this.#core;
    const { o, queues } = core;
    const all = await core.routes.queues(topic).catch(() => [] as MessageQueue[]);
    let mine: MessageQueue[];
    if (o.mode === ConsumeMode.Broadcasting) {
      mine = all;
    } else {
      const members = all.length === 0 ? [] : await core.api.consumers(all[0]!.addr, o.group);
      mine = allocateAveragely(all, members, o.clientId);
    }
    const wanted = new Set(mine.map(queueKey));
    // Let go of queues no longer ours first, so that their next owner can lock them.
    for (const [k, pq] of queues) {
      if (pq.mq.topic === topic && !wanted.has(k)) {
        queues.delete(k);
        await this.release(pq);
      }
    }
    const locks = this.#locks;
    for (const mq of mine) {
      const k = queueKey(mq);
      if (!core.running()) return;
      if (queues.has(k)) continue;
      if (locks !== undefined && !(await locks.lock(mq))) continue; // still held by its previous owner: next round
      const start = await this.#committer.startOffset(mq);
      if (!core.running()) return;
      const pq = new ProcessQueue(mq, start);
      pq.locked = locks !== undefined;
      pq.committed = start;
      queues.set(k, pq);
      void this.#pulls.run(pq);
    }
    if (locks !== undefined && mine.some((mq) => !queues.has(queueKey(mq)))) {
      setTimeout(() => this.request(), LOCK_RETRY_MS).unref();
    }
  }
}
