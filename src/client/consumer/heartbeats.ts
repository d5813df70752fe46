// The consumer's presence in its group: heartbeats (membership and
// subscriptions) to every broker serving its topics, and leaving the group
// on shutdown.
import type { GroupMembership } from '../../protocol/index.js';
import type { ConsumerCore } from './consumer-core.js';

export class Heartbeats {
  readonly #core: ConsumerCore;

  constructor(core: ConsumerCore) {
    this.#core = core;
  }

  /** One heartbeat to each broker; a failure is noted, not thrown. */
  async beat(): Promise<void> {
    const { api, o } = this.#core;
    const req = { clientId: o.clientId, groups: this.#membership() };
    await Promise.all(
      this.#brokerAddrs().map(async (addr) => {
        try {
          await api.heartbeat(addr, req);
        } catch (err) {
          this.#core.note(err);
        }
      }),
    );
  }

  /** Leaves the group on every broker still connected. */
  async unregister(): Promise<void> {
    const { api, o } = this.#core;
    const req = { clientId: o.clientId, group: o.group };
    await Promise.all(this.#brokerAddrs().map((addr) => api.unregister(addr, req)));
  }

  #membership(): GroupMembership[] {
    const { o, subs } = this.#core;
    return [
      {
        group: o.group,
        mode: o.mode,
        ordered: o.ordered,
        subscriptions: [...subs.values()].map((s) => ({ topic: s.topic, tags: s.tags })),
      },
    ];
  }

  /** Brokers serving the subscribed topics, as last routed. */
  #brokerAddrs(): string[] {
    const { subs, routes } = this.#core;
    const addrs = new Set<string>();
    for (const topic of subs.keys()) {
      const queues = routes.cachedQueues(topic) ?? [];
      for (const q of queues) addrs.add(q.addr);
    }
    return [...addrs];
  }
}
