// Routes from topics to brokers' queues, fetched from the name servers and
// refreshed while in use. A client that cannot reach any name server keeps
// using the routes it has.
import { AccessDeniedError, AuthenticationError, NoRouteError } from '../common/index.js';
import { BrokerRole, type BrokerRoute } from '../protocol/index.js';
import type { BrokerApi } from './broker-api.js';

/** One queue of a topic on one broker (a master and its slave share the brokerName). */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  /** Where to send and pull: the master, or the slave when only the slave is alive. */
  addr: string;
  queueId: number;
  /** The slave's address, for reads when the master is unreachable (or preferred). */
  slaveAddr?: string | undefined;
  /** False when only the slave is alive: readable, not writable. */
  writable?: boolean | undefined;
}

interface CachedRoute {
  brokers: BrokerRoute[];
  queues: MessageQueue[];
}

export class TopicRoutes {
  readonly #api: BrokerApi;
  readonly #namesrv: readonly string[];
  readonly #routes = new Map<string, CachedRoute>();
  readonly #inflight = new Map<string, Promise<CachedRoute>>();
  readonly #timer: NodeJS.Timeout;
  #next = 0;
  /** Called after a refresh changed a topic's route. */
  onChange: ((topic: string) => void) | undefined;

  constructor(api: BrokerApi, namesrv: readonly string[], refreshMs: number) {
    this.#api = api;
    this.#namesrv = namesrv;
    this.#timer = setInterval(() => void this.refreshAll(), refreshMs);
    this.#timer.unref();
  }

  /** Queues of a topic in a stable order (broker name, then queue id). Fetches the route if not cached. */
  async queues(topic: string): Promise<MessageQueue[]> {
    const cached = this.#routes.get(topic);
    if (cached !== undefined) return cached.queues;
    return (await this.#fetch(topic)).queues;
  }

  cachedQueues(topic: string): MessageQueue[] | undefined {
    return this.#routes.get(topic)?.queues;
  }

  async brokers(topic: string): Promise<BrokerRoute[]> {
    const cached = this.#routes.get(topic);
    if (cached !== undefined) return cached.brokers;
    return (await this.#fetch(topic)).brokers;
  }

  async refreshAll(): Promise<void> {
    await Promise.all([...this.#routes.keys()].map((t) => this.#fetch(t).catch(() => undefined)));
  }

  /** Fetches a topic's route again now; the cached one when no name server answers. */
  async refresh(topic: string): Promise<MessageQueue[]> {
    return (await this.#fetch(topic)).queues;
  }

  /** Fetches a topic's route again in the background (after a send to it failed). */
  refreshSoon(topic: string): void {
    void this.#fetch(topic).catch(() => undefined);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #fetch(topic: string): Promise<CachedRoute> {
    const pending = this.#inflight.get(topic);
    if (pending !== undefined) return pending;
    const p = this.#ask(topic).finally(() => this.#inflight.delete(topic));
    this.#inflight.set(topic, p);
    return p;
  }

  /** Tries each name server in turn, starting with the one that answered last. */
  async #ask(topic: string): Promise<CachedRoute> {
    let lastError: unknown;
    for (let i = 0; i < this.#namesrv.length; i++) {
      const addr = this.#namesrv[(this.#next + i) % this.#namesrv.length]!;
      try {
        const brokers = await this.#api.route(addr, topic);
        this.#next = (this.#next + i) % this.#namesrv.length;
        if (brokers === undefined) {
          this.#store(topic, []);
          throw new NoRouteError(`no broker serves topic ${JSON.stringify(topic)} (name server ${addr})`);
        }
        return this.#store(topic, brokers);
      } catch (err) {
        if (err instanceof NoRouteError) throw err;
        lastError = err;
      }
    }
    const cached = this.#routes.get(topic);
    if (cached !== undefined) return cached;
    // Refused credentials are a configuration error to show as it is, not a missing route.
    if (lastError instanceof AuthenticationError || lastError instanceof AccessDeniedError) throw lastError;
    throw new NoRouteError(`no name server answered for topic ${JSON.stringify(topic)}`, { cause: lastError });
  }

  #store(topic: string, brokers: BrokerRoute[]): CachedRoute {
    // One entry per brokerName: its master (writable), else its slave (read-only), with the slave's address for reads.
    const byName = new Map<string, { master?: BrokerRoute; slave?: BrokerRoute }>();
    for (const b of brokers) {
      const e = byName.get(b.brokerName) ?? {};
      if (b.role === BrokerRole.Master) e.master ??= b;
      else e.slave ??= b;
      byName.set(b.brokerName, e);
    }
    const queues: MessageQueue[] = [];
    for (const [brokerName, e] of [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const main = e.master ?? e.slave!;
      for (let q = 0; q < main.queueCount; q++) {
        const mq: MessageQueue = { topic, brokerName, addr: main.addr, queueId: q };
        if (e.slave !== undefined) mq.slaveAddr = e.slave.addr;
        if (e.master === undefined) mq.writable = false;
        queues.push(mq);
      }
    }
    const before = this.#routes.get(topic);
    const route = { brokers, queues };
    if (brokers.length === 0) this.#routes.delete(topic);
    else this.#routes.set(topic, route);
    const same =
      (before === undefined && brokers.length === 0) ||
      (before !== undefined &&
      before.brokers.length === brokers.length &&
      before.queues.length === queues.length &&
      before.brokers.every((b, i) => brokers[i]?.addr === b.addr && brokers[i]?.queueCount === b.queueCount && brokers[i]?.role === b.role));
    if (!same) this.onChange?.(topic);
    return route;
  }
}
