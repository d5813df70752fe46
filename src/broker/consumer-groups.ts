// Live members of each consumer group, kept by heartbeats. Clients rebalance
// themselves from the sorted member list (every client computes the same
// split); the broker's job is to know who is alive and to tell the members
// at once when that changes, so a rebalance does not wait for a poll.
import { ConsumeMode, encodeGroup, Opcode, type GroupMembership, type GroupSummary, type Subscription } from '../protocol/index.js';
import type { RequestContext } from '../net/index.js';

interface Member {
  clientId: string;
  ctx: RequestContext;
  lastSeen: number;
}

interface Group {
  name: string;
  mode: ConsumeMode;
  ordered: boolean;
  subscriptions: readonly Subscription[];
  members: Map<string, Member>;
}

export class ConsumerGroups {
  readonly #groups = new Map<string, Group>();
  /** Called when a member leaves (for lock release). */
  onLeave: ((group: string, clientId: string) => void) | undefined;

  /** Records a heartbeat; returns the groups whose membership changed. */
  heartbeat(clientId: string, memberships: readonly GroupMembership[], ctx: RequestContext, now: number): string[] {
    const changed: string[] = [];
    for (const m of memberships) {
      let g = this.#groups.get(m.group);
      if (g === undefined) {
        g = { name: m.group, mode: m.mode, ordered: m.ordered, subscriptions: m.subscriptions, members: new Map() };
        this.#groups.set(m.group, g);
      }
      g.mode = m.mode;
      g.ordered = m.ordered;
      g.subscriptions = m.subscriptions;
      const existing = g.members.get(clientId);
      if (existing === undefined || existing.ctx !== ctx) {
        if (existing === undefined) changed.push(m.group);
        g.members.set(clientId, { clientId, ctx, lastSeen: now });
        ctx.onClose(() => this.#connectionClosed(m.group, clientId, ctx));
      } else {
        existing.lastSeen = now;
      }
    }
    this.#notify(changed);
    return changed;
  }

  unregister(clientId: string, group: string): boolean {
    const left = this.#remove(group, clientId);
    if (left) this.#notify([group]);
    return left;
  }

  /** Removes members silent for longer than `timeoutMs`. */
  expire(now: number, timeoutMs: number): string[] {
    const changed = new Set<string>();
    for (const g of this.#groups.values()) {
      for (const m of [...g.members.values()]) {
        if (now - m.lastSeen > timeoutMs && this.#remove(g.name, m.clientId)) changed.add(g.name);
      }
    }
    this.#notify([...changed]);
    return [...changed];
  }

  /** Member ids, sorted: the order every client allocates queues in. */
  members(group: string): string[] {
    const g = this.#groups.get(group);
    return g === undefined ? [] : [...g.members.keys()].sort();
  }

  isMember(group: string, clientId: string): boolean {
    return this.#groups.get(group)?.members.has(clientId) ?? false;
  }

  summary(): GroupSummary[] {
    return [...this.#groups.values()].map((g) => ({
      group: g.name,
      mode: g.mode === ConsumeMode.Clustering ? 'clustering' : 'broadcasting',
      ordered: g.ordered,
      members: this.members(g.name),
      topics: g.subscriptions.map((s) => s.topic),
    }));
  }

  #connectionClosed(group: string, clientId: string, ctx: RequestContext): void {
    const m = this.#groups.get(group)?.members.get(clientId);
    // Only if the member still uses that connection: it may have reconnected.
    if (m === undefined || m.ctx !== ctx) return;
    if (this.#remove(group, clientId)) this.#notify([group]);
  }

  #remove(group: string, clientId: string): boolean {
    const g = this.#groups.get(group);
    if (g === undefined || !g.members.delete(clientId)) return false;
    this.onLeave?.(group, clientId);
    return true;
  }

  #notify(groups: readonly string[]): void {
    for (const name of groups) {
      const g = this.#groups.get(name);
      if (g === undefined) continue;
      const body = encodeGroup(name);
      for (const m of g.members.values()) if (!m.ctx.closed) m.ctx.notify(Opcode.NotifyConsumersChanged, body);
    }
  }
}
