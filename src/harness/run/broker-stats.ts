// The one place the harness reads a broker's stats: the flush and
// replication modes it runs, and whether its slave is connected.
import type { Admin } from '../../client/index.js';
import type { FlushMode } from '../scenario/index.js';

export interface BrokerModes {
  flush: FlushMode;
  /** The master's replication mode (meaningful while a slave is connected). */
  replicationMode: 'sync' | 'async';
  slaveConnected: boolean;
}

export async function readBrokerModes(admin: Admin, addr: string): Promise<BrokerModes> {
  const stats = await admin.stats(addr);
  // A master's view of replication carries `slaveConnected`; a slave's does not.
  const ha = stats.ha !== undefined && 'slaveConnected' in stats.ha ? stats.ha : undefined;
  return {
    flush: stats.store.flushMode,
    replicationMode: ha?.mode ?? 'async',
    slaveConnected: ha?.slaveConnected === true,
  };
}
