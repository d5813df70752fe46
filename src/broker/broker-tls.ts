// The broker's TLS material, loaded from the files its config names before
// it listens or connects (a bad file fails the start, naming the option and
// the path): its client port, a master's replication port, a slave's link to
// its master, and its links to the name servers.
import { loadClientTls, loadServerTls, type ClientTls, type ServerTls } from '../net/index.js';
import type { ResolvedBrokerConfig } from './broker-config.js';

export interface BrokerTls {
  /** The client port. */
  server: ServerTls | undefined;
  /** A master's replication port. */
  ha: ServerTls | undefined;
  /** A slave's connection to its master's replication port. */
  master: ClientTls | undefined;
  /** Registration with the name servers. */
  namesrv: ClientTls | undefined;
}

export function loadBrokerTls(c: ResolvedBrokerConfig): BrokerTls {
  return {
    server: c.tls === undefined ? undefined : loadServerTls(c.tls, 'tls'),
    ha: c.haTls === undefined ? undefined : loadServerTls(c.haTls, 'haTls'),
    master: c.masterTls === undefined ? undefined : loadClientTls(c.masterTls, 'masterTls'),
    namesrv: c.namesrvTls === undefined ? undefined : loadClientTls(c.namesrvTls, 'namesrvTls'),
  };
}
