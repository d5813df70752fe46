// The name server's state: which live broker serves which topic. Brokers
// re-register every few seconds; one silent for longer than the expiry is
// dropped, so clients stop being sent to a dead broker. Bounded: brokers
// registered, topics per registration and route entries per topic (a route
// is encoded with a u8 count: more than 255 would make it unencodable for
// everyone), each refusal a LimitExceededError counted under its name. A
// registration is refreshed or removed only by the account that made it.
import { AccessDeniedError, LimitExceededError, RefusalCounters } from '../common/index.js';
import type { BrokerRole, BrokerRoute, RegisterBrokerRequest } from '../protocol/index.js';
import type { RouteLimits } from './route-limits.js';
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
  /** How many registered brokers list each topic: its route's entries. */
  readonly #entries = new Map<string, number>();
  readonly #limits: RouteLimits;
  readonly #refusals: RefusalCounters;

  constructor(limits: RouteLimits, refusals = new RefusalCounters()) {
    this.#limits = limits;
    this.#refusals = refusals;
  }

  /** Key by name and address: two brokers may share a name (master and slave, later). */
  static #key(brokerName: string, addr: string): string {
    return `${brokerName}@${addr}`;
  }

  /** Registers (or refreshes) a broker; all or nothing: a registration beyond a limit (or by another account) changes nothing. */
  register(req: RegisterBrokerRequest, now: number, by?: Principal): void {
    const key = RouteTable.#key(req.brokerName, req.addr);
    const existing = this.#brokers.get(key);
    RouteTable.#checkOwner(existing, by, 'refresh');
    const l = this.#limits;
    if (existing === undefined && this.#brokers.size >= l.maxBrokers) {
      throw this.#refuse('maxBrokers', `this name server has ${this.#brokers.size} brokers registered, at most ${l.maxBrokers}; ${key} refused`);
    }
    const topics = new Map<string, number>();
    for (const t of req.topics) topics.set(t.topic, t.queueCount);
    if (topics.size > l.maxTopicsPerRegistration) {
      throw this.#refuse('maxTopicsPerRegistration', `broker ${key} registers ${topics.size} topics, at most ${l.maxTopicsPerRegistration}`);
    }
    for (const topic of topics.keys()) {
      if (existing?.topics.has(topic) === true) continue;
      const n = this.#entries.get(topic) ?? 0;
      if (n >= l.maxRouteEntriesPerTopic) {
        throw this.#refuse('maxRouteEntriesPerTopic', `topic ${JSON.stringify(topic)} already has ${n} route entries, at most ${l.maxRouteEntriesPerTopic}; broker ${key} refused (the route stays as it is)`);
      }
    }
    if (existing !== undefined) this.#forgetTopics(existing);
    for (const topic of topics.keys()) this.#entries.set(topic, (this.#entries.get(topic) ?? 0) + 1);
    this.#brokers.set(key, { brokerName: req.brokerName, addr: req.addr, role: req.role, topics, lastSeen: now, owner: by?.name });
  }

  unregister(brokerName: string, addr: string, by?: Principal): boolean {
    const key = RouteTable.#key(brokerName, addr);
    RouteTable.#checkOwner(this.#brokers.get(key), by, 'unregister');
    return this.#remove(key);
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
        this.#remove(k);
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

  #remove(key: string): boolean {
    const b = this.#brokers.get(key);
    if (b === undefined) return false;
    this.#forgetTopics(b);
    return this.#brokers.delete(key);
  }

  #forgetTopics(b: BrokerEntry): void {
    for (const topic of b.topics.keys()) {
      const n = (this.#entries.get(topic) ?? 1) - 1;
      if (n <= 0) this.#entries.delete(topic);
      else this.#entries.set(topic, n);
    }
  }

  #refuse(limit: keyof RouteLimits, detail: string): LimitExceededError {
    this.#refusals.count(limit);
    return new LimitExceededError(limit, detail);
  }

  brokers(): { brokerName: string; addr: string; role: BrokerRole; topics: number; lastSeen: number }[] {
    return [...this.#brokers.values()].map((b) => ({ brokerName: b.brokerName, addr: b.addr, role: b.role, topics: b.topics.size, lastSeen: b.lastSeen }));
  }
}
