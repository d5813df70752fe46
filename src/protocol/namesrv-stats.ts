// BROKER_STATS asked of a name server: a UTF-8 JSON body (not the broker's
// binary layout) listing the live brokers it routes to, its connections and
// its refusals. `metaq stats --namesrv` reads the broker list from it.
import type { BrokerRole } from './route.js';

export interface NameServerBrokerEntry {
  brokerName: string;
  /** host:port of the broker's client listener. */
  addr: string;
  role: BrokerRole;
  /** Topics it registered. */
  topics: number;
  /** When it last registered (ms since epoch). */
  lastSeen: number;
}

export interface NameServerStats {
  brokers: NameServerBrokerEntry[];
  connections: number;
  refusals: Record<string, number>;
}
