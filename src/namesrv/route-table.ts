// The name server's state: which live broker serves which topic. Brokers
// re-register every few seconds; one silent for longer than the expiry is
// dropped, so clients stop being sent to a dead broker.
import { AccessDeniedError } from '../common/index.js';
import type { BrokerRole, BrokerRoute, RegisterBrokerRequest } from '../protocol/index.js';
import type { Principal } from '../security/index.js';

interface BrokerEntry {
  brokerName: string;
  addr: string;
  role: BrokerRole;
  topics: Map<string, number>;
  lastSeen: number;
  /** The account that registered this entry (undefined on a name server without accounts). */
  owner: string | undefined;
}

export class RouteTable {
  readonly #brokers = new Map<string, BrokerEntry>();

  /** Key by name and address: two brokers may share a name (master and slave, later). */
  static #key(brokerName: string, addr: string): string {
    return `${brokerName}@${addr}`;
  }

  register(req: RegisterBrokerRequest, now: number, by?: Principal): void {
    const key = RouteTable.#key(req.brokerName, req.addr);
    RouteTable.#checkOwner(this.#brokers.get(key), by, 'refresh');
    const topics = new Map<string, number>();
    for (const t of req.topics) topics.set(t.topic, t.queueCount);
    this.#brokers.set(key, { brokerName: req.brokerName, addr: req.addr, role: req.role, topics, lastSeen: now, owner: by?.name });
  }

  unregister(brokerName: string, addr: string, by?: Principal): boolean {
    const key = RouteTable.#key(brokerName, addr);
    RouteTable.#checkOwner(this.#brokers.get(key), by, 'unregister');
    return this.#brokers.delete(key);
  }

  /** A live entry is refreshed or removed only by the account that registered it (or an admin). */
  static #checkOwner(entry: BrokerEntry | undefined, by: Principal | undefined, what: string): void {
    if (entry === undefined || entry.owner === undefined || by === undefined || by.role === 'admin' || by.name === entry.owner) return;
    throw new AccessDeniedError(`account ${JSON.stringify(by.name)} may not ${what} broker ${entry.brokerName} at ${entry.addr}: account ${JSON.stringify(entry.owner)} registered it`);
  }

  /** Drops brokers not heard from since `now - expiryMs`; returns their names. */
  expire(now: number, expiryMs: number): string[] {
    const dropped: string[] = [];
    for (const [k, b] of this.#brokers) {
      if (now - b.lastSeen > expiryMs) {
        this.#brokers.delete(k);
        dropped.push(k);
      }
    }
    return dropped;
  }

  /** Brokers serving the topic, sorted by name (master first) for a stable queue order across clients. */
  route(topic: string): BrokerRoute[] {
    const out: BrokerRoute[] = [];
    for (const b of this.#brokers.values()) {
      const queueCount = b.topics.get(topic);
      if (queueCount !== undefined) out.push({ brokerName: b.brokerName, addr: b.addr, queueCount, role: b.role });
    }
    out.sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : a.role !== b.role ? a.role - b.role : a.addr < b.addr ? -1 : 1));
    return out;
  }

  brokers(): { brokerName: string; addr: string; role: BrokerRole; topics: number; lastSeen: number }[] {
    return [...this.#brokers.values()].map((b) => ({ brokerName: b.brokerName, addr: b.addr, role: b.role, topics: b.topics.size, lastSeen: b.lastSeen }));
  }
}
