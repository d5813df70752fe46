// Starts real name servers and brokers on ephemeral ports of 127.0.0.1, each
// broker on its own temporary data directory, and stops them after the test.
// Timings are shortened (registration, consumer timeout, retry delays) so
// that tests of rebalancing and re-delivery run in seconds.
import { afterEach } from 'vitest';
import { Broker, type BrokerConfig } from '../../src/broker/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { makeTempDir, removeDir } from './temp-dir.js';

export const FAST_BROKER: Partial<BrokerConfig> = {
  registerIntervalMs: 200,
  consumerTimeoutMs: 3000,
  queueLockTimeoutMs: 3000,
  retryDelaysMs: [100, 200, 300, 400, 500],
  offsetPersistIntervalMs: 100,
};

const quiet = { warn: () => undefined };

export interface TestCluster {
  namesrv: NameServer;
  brokers: Broker[];
  /** Name server address, for clients. */
  readonly ns: string;
  /** Starts one more broker (or restarts one on an existing dir). */
  startBroker(config?: Partial<BrokerConfig> & { dir?: string }): Promise<Broker>;
  /** Closes a broker cleanly, keeping its directory (for restarts). Returns the dir. */
  stopBroker(b: Broker): Promise<string>;
}

/**
 * Registers an afterEach that closes everything started through the returned
 * function and deletes the data directories.
 */
export function useCluster(): (options?: { topics?: Record<string, number>; brokers?: number; broker?: Partial<BrokerConfig> }) => Promise<TestCluster> {
  const clusters: TestCluster[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const c of clusters.splice(0)) {
      for (const b of c.brokers) await b.close().catch(() => undefined);
      await c.namesrv.close().catch(() => undefined);
    }
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return async (options = {}) => {
    const namesrv = await NameServer.start({ port: 0, brokerExpiryMs: 2000 });
    const brokers: Broker[] = [];
    let n = 0;
    const cluster: TestCluster = {
      namesrv,
      brokers,
      ns: namesrv.addr,
      async startBroker(config = {}) {
        const { dir: given, ...rest } = config;
        const dir = given ?? makeTempDir('broker');
        if (given === undefined) dirs.push(dir);
        const b = await Broker.start(
          {
            brokerName: `broker-${String.fromCharCode(97 + n++)}`,
            port: 0,
            // A free replication port even when a restart pins the client port (port + 1 may be taken).
            haPort: 0,
            namesrvAddrs: [namesrv.addr],
            topics: options.topics ?? {},
            ...FAST_BROKER,
            ...options.broker,
            ...rest,
            store: { dir, segmentSize: 16 * 1024 * 1024, ...(rest.store ?? {}) },
          },
          quiet,
        );
        brokers.push(b);
        return b;
      },
      async stopBroker(b) {
        await b.close();
        brokers.splice(brokers.indexOf(b), 1);
        return b.config.store.dir;
      },
    };
    clusters.push(cluster);
    for (let i = 0; i < (options.brokers ?? 1); i++) await cluster.startBroker();
    return cluster;
  };
}
