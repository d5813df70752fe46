// Transactions under sync replication: the committed message (and its op
// record) is on the slave before the END is acknowledged SEND_OK, as a SEND
// waits. A proxy on the replication link holds the master's bytes back
// while the local transaction runs: the END then waits, and answers
// SLAVE_TIMEOUT instead of SEND_OK; once the link flows the slave has it.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/net/index.js';
import { useCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';
import { bodies, FAST_TX, QUEUES, readTopic, TOPIC, useTxClients } from './tx-helpers.js';

/** A TCP proxy whose master-to-slave direction can be held (not read) and released. */
class HoldingProxy {
  readonly #server: net.Server;
  readonly #ups: net.Socket[] = [];
  #held = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(target: string): Promise<HoldingProxy> {
    const { host, port } = parseAddress(target);
    let proxy!: HoldingProxy;
    const server = net.createServer((down) => {
      const up = net.connect(port, host);
      proxy.#ups.push(up);
      if (proxy.#held) up.pause();
      down.pipe(up);
      up.pipe(down);
      const close = () => {
        up.destroy();
        down.destroy();
      };
      up.on('error', close).on('close', close);
      down.on('error', close).on('close', close);
    });
    proxy = new HoldingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get addr(): string {
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  hold(): void {
    this.#held = true;
    for (const u of this.#ups) u.pause();
  }

  release(): void {
    this.#held = false;
    for (const u of this.#ups) u.resume();
  }

  async close(): Promise<void> {
    for (const u of this.#ups) u.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('transactions under sync replication', () => {
  const startCluster = useCluster();
  const clients = useTxClients();
  const proxies: HoldingProxy[] = [];
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.close();
  });

  it('a committed message is on the slave before the commit is acknowledged', async () => {
    const c = await startCluster({ topics: { [TOPIC]: QUEUES }, broker: { ...FAST_TX, transactionTimeoutMs: 30_000, replicationMode: 'sync', slaveTimeoutMs: 1000 } });
    const master = c.brokers[0]!;
    const proxy = await HoldingProxy.start(master.haAddr!);
    proxies.push(proxy);
    const slave = await c.startBroker({ brokerName: master.config.brokerName, role: 'slave', masterHaAddr: proxy.addr, replicationMode: 'async' });
    const connected = () => {
      const ha = master.stats().ha;
      return ha !== undefined && 'slaveConnected' in ha && ha.slaveConnected;
    };
    await waitUntil(connected, 'the slave to connect', 10_000);
    const admin = clients.admin(c.ns);
    const p = clients.producer(c.ns);
    for (let i = 0; i < 5; i++) {
      const r = await p.sendTransactional(TOPIC, { body: `sync-${i}` }, () => 'commit');
      // Read in the same turn as the answer: the slave held the whole log, the commit included.
      const slaveHadIt = slave.store.writtenOffset >= master.store.writtenOffset;
      expect(r).toMatchObject({ outcome: 'COMMITTED', status: 'SEND_OK' });
      expect(slaveHadIt).toBe(true);
    }
    // The link stops carrying the master's bytes once the half message is stored: the commit cannot be confirmed.
    const r = await p.sendTransactional(TOPIC, { body: 'held' }, () => {
      proxy.hold();
      return 'commit';
    });
    expect(r).toMatchObject({ outcome: 'COMMITTED', status: 'SLAVE_TIMEOUT' });
    expect(slave.store.writtenOffset).toBeLessThan(master.store.writtenOffset);
    proxy.release();
    await waitUntil(() => slave.store.writtenOffset >= master.store.writtenOffset, 'the slave to catch up', 10_000);
    expect(bodies(await readTopic(admin, master, TOPIC))).toEqual(['held', 'sync-0', 'sync-1', 'sync-2', 'sync-3', 'sync-4']);
  });
});
