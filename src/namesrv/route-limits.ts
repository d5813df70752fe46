// The name server's limits: brokers registered, topics one registration may
// list, and entries in one topic's route (GET_ROUTE encodes the count as a
// u8, so never more than 255). Keys of NameServerConfig; docs/SECURITY.md.
import { checkInteger } from '../common/index.js';
import { MAX_ROUTE_ENTRIES } from '../protocol/index.js';

export interface RouteLimits {
  /** Brokers (name and address) registered at once. Default 1024. */
  maxBrokers: number;
  /** Topics one REGISTER_BROKER may list. Default 4096 (a broker's default maxTopics). */
  maxTopicsPerRegistration: number;
  /** Brokers listed in one topic's route. Default and maximum 255. */
  maxRouteEntriesPerTopic: number;
}

export const ROUTE_LIMIT_DEFAULTS: RouteLimits = {
  maxBrokers: 1024,
  maxTopicsPerRegistration: 4096,
  maxRouteEntriesPerTopic: MAX_ROUTE_ENTRIES,
};

export function checkRouteLimits(c: RouteLimits): void {
  checkInteger('maxBrokers', c.maxBrokers);
  checkInteger('maxTopicsPerRegistration', c.maxTopicsPerRegistration);
  checkInteger('maxRouteEntriesPerTopic', c.maxRouteEntriesPerTopic, 1, MAX_ROUTE_ENTRIES);
}
