// The Consumer (listener style): subscribe to topics, get batches in a
// handler, return success or retry-later. Built on long-polling pulls; it
// commits an offset only after every message below it was handled
// (at-least-once). Clustering mode splits a topic's queues among the group's
// live members and rebalances when members come and go; broadcasting mode
// reads every queue. Ordered mode processes each queue one batch at a time,
// under a broker lock, so a queue is never in two consumers' hands.
//
// This class is the facade: it owns the lifecycle and the timers and wires
// the parts (heartbeats, rebalancer, queue locks, pull loop, offset
// committer, concurrent or ordered dispatch).
import { ClientStateError, retryTopic } from '../../common/index.js';
import { ConsumeMode, Opcode, type Frame } from '../../protocol/index.js';
import { BrokerApi } from '../broker-api.js';
import { ConnectionPool } from '../connection-pool.js';
import { TopicRoutes, type MessageQueue } from '../topic-routes.js';
import { ConcurrentDispatch } from './concurrent-dispatch.js';
import type { ConsumerCore } from './consumer-core.js';
import { resolveConsumerOptions, type ConsumerOptions } from './consumer-options.js';
import type { Dispatch } from './dispatch.js';
import { Heartbeats } from './heartbeats.js';
import type { MessageHandler } from './message-handler.js';
import { OffsetCommitter } from './offset-committer.js';
import { OrderedDispatch } from './ordered-dispatch.js';
import type { ProcessQueue } from './process-queue.js';
import { PullLoop } from './pull-loop.js';
import { QueueLocks } from './queue-locks.js';
import { ReadRouting } from './read-routing.js';
import { LOCK_RETRY_MS, Rebalancer } from './rebalancer.js';
import { subscription, type Subscription } from './subscription.js';

/** How many recovered errors `errors` keeps. */
const MAX_NOTED_ERRORS = 20;

export class Consumer {
  readonly group: string;
  readonly clientId: string;
  readonly #core: ConsumerCore;
  readonly #pool: ConnectionPool;
  readonly #heartbeats: Heartbeats;
  readonly #committer: OffsetCommitter;
  readonly #locks: QueueLocks | undefined;
  readonly #rebalancer: Rebalancer;
  #dispatch: Dispatch | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #timers: NodeJS.Timeout[] = [];
  /** Errors the consumer recovered from (for tools and tests); the last few. */
  readonly errors: Error[] = [];

  constructor(options: ConsumerOptions) {
    const o = resolveConsumerOptions(options);
    this.group = o.group;
    this.clientId = o.clientId;
    this.#pool = new ConnectionPool((_addr, f) => this.#onNotify(f), o.tls, o.credential);
    const api = new BrokerApi(this.#pool, o.requestTimeoutMs);
    const routes = new TopicRoutes(api, o.namesrv, o.routeRefreshMs);
    this.#core = {
      o,
      api,
      routes,
      subs: new Map<string, Subscription>(),
      queues: new Map<string, ProcessQueue>(),
      running: () => this.#state === 'running',
      note: (err) => this.#note(err),
    };
    const reads = new ReadRouting(o.readFromSlave);
    this.#heartbeats = new Heartbeats(this.#core);
    this.#committer = new OffsetCommitter(this.#core, reads);
    this.#locks = o.ordered ? new QueueLocks(this.#core) : undefined;
    const pulls = new PullLoop(this.#core, reads, () => this.#dispatch?.pump());
    this.#rebalancer = new Rebalancer(this.#core, this.#committer, pulls, this.#locks);
    routes.onChange = () => this.#rebalancer.request();
  }

  /** Subscribes to a topic; `tags` is '*' (default), 'a || b', or a list. Call before start. */
  subscribe(topic: string, tags: string | readonly string[] = '*'): this {
    if (this.#state !== 'new') throw new ClientStateError('subscribe before start()');
    this.#core.subs.set(topic, subscription(topic, tags));
    return this;
  }

  /** Starts consuming; resolves once the first rebalance is done. */
  async start(handler: MessageHandler): Promise<void> {
    if (this.#state !== 'new') throw new ClientStateError(`consumer is ${this.#state}`);
    const { o, subs, routes } = this.#core;
    if (subs.size === 0) throw new ClientStateError('subscribe to at least one topic before start()');
    this.#dispatch = o.ordered ? new OrderedDispatch(this.#core, handler) : new ConcurrentDispatch(this.#core, handler);
    this.#state = 'running';
    // Re-deliveries come back through the group's retry topic (clustering only).
    if (o.mode === ConsumeMode.Clustering && !o.ordered) {
      subs.set(retryTopic(this.group), subscription(retryTopic(this.group), '*'));
    }
    await Promise.all([...subs.keys()].map((t) => routes.queues(t).catch(() => undefined)));
    await this.#heartbeats.beat();
    await this.#rebalancer.run();
    // A periodic task that fails (a broker down, no slave to turn to) is noted and tried again next
    // time: a rejection left unhandled would end the consumer's process.
    const noted = (p: Promise<unknown>): void => void p.catch((err: unknown) => this.#note(err));
    this.#every(o.heartbeatIntervalMs, () => noted(this.#heartbeats.beat()));
    this.#every(o.rebalanceIntervalMs, () => this.#rebalancer.request());
    this.#every(o.commitIntervalMs, () => noted(this.#committer.commitAll()));
    const locks = this.#locks;
    if (locks !== undefined) this.#every(Math.max(LOCK_RETRY_MS, Math.floor(o.rebalanceIntervalMs / 2)), () => noted(locks.renew()));
  }

  /** Queues this consumer owns now (and, for ordered consumers, holds the lock of). */
  assignment(): MessageQueue[] {
    const ordered = this.#core.o.ordered;
    return [...this.#core.queues.values()].filter((pq) => !pq.dropped && (!ordered || pq.locked)).map((pq) => pq.mq);
  }

  /** Stops pulling, lets in-flight handler calls finish, commits, leaves the group. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const { queues, routes } = this.#core;
    if (wasRunning) {
      await this.#rebalancer.current?.catch(() => undefined);
      const owned = [...queues.values()];
      for (const pq of owned) pq.drop();
      await Promise.all(owned.map((pq) => pq.idle()));
      await this.#committer.commitAll().catch(() => undefined);
      const locks = this.#locks;
      if (locks !== undefined) await Promise.all(owned.map((pq) => locks.unlock(pq).catch(() => undefined)));
      await this.#heartbeats.unregister();
    }
    queues.clear();
    routes.close();
    this.#pool.close();
    this.#state = 'stopped';
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #note(err: unknown): void {
    this.errors.push(err instanceof Error ? err : new Error(String(err)));
    if (this.errors.length > MAX_NOTED_ERRORS) this.errors.shift();
  }

  #onNotify(f: Frame): void {
    if (f.opcode === Opcode.NotifyConsumersChanged) this.#rebalancer.request();
  }
}
