// Live producers of each producer group, kept by registrations: the broker
// checks a transaction back with one of them, on the connection the producer
// registered on. A producer whose connection closes leaves at once; a silent
// one after the timeout.
import { LimitExceededError } from '../../common/index.js';
import type { RequestContext } from '../../net/index.js';

/** Registrations a broker keeps at most (producers times their groups): a client cannot grow the table without bound. */
export const MAX_PRODUCER_REGISTRATIONS = 65_536;

interface LiveProducer {
  ctx: RequestContext;
  lastSeen: number;
}

export class ProducerGroups {
  readonly #groups = new Map<string, Map<string, LiveProducer>>();
  /** Round robin over a group's producers, per group. */
  readonly #next = new Map<string, number>();
  #count = 0;

  register(clientId: string, group: string, ctx: RequestContext, now: number): void {
    const existing = this.#groups.get(group)?.get(clientId);
    if (existing !== undefined && existing.ctx === ctx) {
      existing.lastSeen = now;
      return;
    }
    if (existing === undefined && this.#count >= MAX_PRODUCER_REGISTRATIONS) {
      throw new LimitExceededError('producerRegistrations', `limit producerRegistrations: the broker already knows ${this.#count} producers of transaction groups`);
    }
    let g = this.#groups.get(group);
    if (g === undefined) {
      g = new Map();
      this.#groups.set(group, g);
    }
    if (existing === undefined) this.#count++;
    g.set(clientId, { ctx, lastSeen: now });
    ctx.onClose(() => {
      // Only if the producer still uses that connection: it may have reconnected.
      if (this.#groups.get(group)?.get(clientId)?.ctx === ctx) this.unregister(clientId, group);
    });
  }

  unregister(clientId: string, group: string): void {
    const g = this.#groups.get(group);
    if (g === undefined || !g.delete(clientId)) return;
    this.#count--;
    if (g.size === 0) {
      this.#groups.delete(group);
      this.#next.delete(group);
    }
  }

  /** Drops producers silent for longer than `timeoutMs`. */
  expire(now: number, timeoutMs: number): void {
    for (const [group, g] of this.#groups) {
      for (const [id, p] of g) if (now - p.lastSeen > timeoutMs || p.ctx.closed) this.unregister(id, group);
    }
  }

  /** A live producer's connection in the group (round robin), or undefined when none is online. */
  pick(group: string): RequestContext | undefined {
    const g = this.#groups.get(group);
    if (g === undefined) return undefined;
    const live = [...g.values()].filter((p) => !p.ctx.closed);
    if (live.length === 0) return undefined;
    const n = this.#next.get(group) ?? 0;
    this.#next.set(group, n + 1);
    return live[n % live.length]!.ctx;
  }

  /** Producer ids per group (stats, tests). */
  members(group: string): string[] {
    return [...(this.#groups.get(group)?.keys() ?? [])].sort();
  }
}
