// Master killed (SIGKILL) and restarted on the same directory, sync flush +
// sync replication, several times under load. The master pushes records to
// its slave as soon as they are written and tells it "durable here"
// (HA_DURABLE) only after its own fdatasync; the slave indexes (and serves)
// nothing past that. A master killed in between leaves the slave holding,
// durably, records it has not indexed, and the restarted master holds the
// same records (a SIGKILL keeps the page cache). Under load that moment comes
// by chance; here a proxy on the replication connection holds HA_DURABLE back
// before each kill, so it comes every time. Each time the restarted master
// must take its slave back (the logs agree), take writes again, and in the
// end every SEND_OK message is on both brokers where its send said.
// Run with HA_SEED=<seed> to replay a run's batch sizes.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, Opcode } from '../../src/protocol/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { prng } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';
import { damaged, haBrokerConfig, Load, masterHa, presence, readAllQueues, runSeed, slaveHa, useBrokerProcesses, useLocalBrokers, waitForAsync } from './ha-helpers.js';

const TOPIC = 'HaMasterRestart';
const QUEUES = 4;
const BROKER = 'ha-restart';
const ROUNDS = 3;
/** Frames up to this size pass the proxy (the brokers' default limit is lower). */
const PROXY_MAX_FRAME = 64 * 1024 * 1024;

/**
 * A TCP proxy in front of the master's replication port. The slave's bytes go
 * through as they are; the master's are split into frames, and HA_DURABLE
 * frames are dropped while `holdDurable` is set (as if the master died before
 * sending them). Each connection opens its own upstream one, so a restarted
 * master on the same port is reached again.
 */
class DurableHoldingProxy {
  holdDurable = false;
  dropped = 0;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(upstream: string): Promise<DurableHoldingProxy> {
    const [host, port] = [upstream.split(':')[0]!, Number(upstream.split(':')[1])];
    let proxy!: DurableHoldingProxy;
    const server = net.createServer((down) => proxy.#pair(down, host, port));
    proxy = new DurableHoldingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get addr(): string {
    return `127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pair(down: net.Socket, host: string, port: number): void {
    const up = net.connect(port, host);
    const decoder = new FrameDecoder(PROXY_MAX_FRAME);
    for (const s of [down, up]) {
      this.#sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.#sockets.delete(s);
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up);
    up.on('data', (chunk: Buffer) => {
      const failure = decoder.push(chunk, (f) => {
        if (f.opcode === Opcode.HaDurable && this.holdDurable) {
          this.dropped++;
          return;
        }
        down.write(encodeFrame(f, f.body));
      });
      if (failure !== undefined) down.destroy();
    });
  }
}

describe('sync flush + sync replication: the master is killed and restarted on its directory', () => {
  const tempDir = useTempDirs('ha-restart');
  const cluster = useCluster();
  const startProcess = useBrokerProcesses();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  it('each time, with the slave holding records the master never said were durable, the slave is taken back and writes resume; nothing acknowledged is lost', async () => {
    const seed = runSeed();
    const rng = prng(seed);
    const tag = 'rs';
    console.log(`master-restart: seed=${seed}`);
    const c = await cluster({ brokers: 0 });
    const admin = clients.admin(c.ns);
    const masterDir = tempDir();
    const base = { ns: c.ns, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, replicationMode: 'sync' as const, flushMode: 'sync' as const, slaveTimeoutMs: 2000 };
    let master = await startProcess(haBrokerConfig({ ...base, dir: masterDir, role: 'master' }));
    const ports = { port: Number(master.addr.split(':')[1]), haPort: Number(master.haAddr!.split(':')[1]) };
    const masterConfig = { ...haBrokerConfig({ ...base, dir: masterDir, role: 'master' }), ...ports };
    const proxy = await DurableHoldingProxy.start(master.haAddr!);
    try {
      const s = await startLocal(haBrokerConfig({ ...base, dir: tempDir(), role: 'slave', masterHaAddr: proxy.addr }));
      // The master has its slave and takes writes (not yet reachable: not yet).
      const taken = async (): Promise<boolean> => {
        try {
          const m = masterHa(await admin.stats(master.addr));
          return m.slaveConnected && (m.writesHeld ?? 'none') === 'none';
        } catch {
          return false;
        }
      };
      await waitForAsync(taken, 'the slave to connect', 10_000);
      const load = new Load(clients.producer(c.ns), TOPIC, tag, rng, { concurrency: 4, maxBatch: 8 }).start();
      await load.firstOk();

      for (let round = 1; round <= ROUNDS; round++) {
        // HA_DURABLE is held back; sends go on being acknowledged (the slave's reports release them).
        proxy.holdDurable = true;
        const heldAt = Date.now();
        await waitForAsync(() => load.records.some((r) => r.status === 'SEND_OK' && r.startedAt > heldAt), `round ${round}: a SEND_OK while HA_DURABLE is held back`, 10_000, 5);
        await sleep(50 + Math.floor(rng() * 150));
        const killed = await master.kill('SIGKILL');
        expect(killed.signal, `the master died on its own: ${master.running.stderr()}`).toBe('SIGKILL');
        const st = s.broker.store.stats();
        const sh = slaveHa(s.broker.stats());
        console.log(
          `master-restart round ${round}: at the kill the slave held ${st.writtenOffset} bytes (flushed ${st.flushedOffset}), indexed ${st.dispatchedOffset}, the master had said durable up to ${sh.masterDurableOffset}; ${proxy.dropped} HA_DURABLE frames held back`,
        );
        // The case under test: the slave holds durably what it has not indexed.
        expect(st.flushedOffset).toBeGreaterThan(sh.masterDurableOffset);
        expect(st.dispatchedOffset).toBeLessThan(st.flushedOffset);

        const refusalsBefore = s.warnings.filter((w) => w.includes('differs from this master')).length;
        proxy.holdDurable = false;
        master = await startProcess(masterConfig);
        const restartedAt = Date.now();
        await waitForAsync(taken, `round ${round}: the restarted master to take its slave back and take writes`, 10_000).catch(async (err: unknown) => {
          throw new Error(
            `${(err as Error).message}: master ${JSON.stringify(masterHa(await admin.stats(master.addr)))}; slave warnings ${JSON.stringify(s.warnings.slice(-2))}`,
          );
        });
        console.log(`master-restart round ${round}: slave taken back ${Date.now() - restartedAt} ms after the restart`);
        expect(s.warnings.filter((w) => w.includes('differs from this master')).length, 'handshakes refused for a log that differs').toBe(refusalsBefore);
        await waitForAsync(() => load.records.some((r) => r.status === 'SEND_OK' && r.startedAt > restartedAt), `round ${round}: SEND_OK to resume`, 10_000, 5);
      }
      await sleep(200);
      await load.stop();
      await waitForAsync(
        async () => {
          const m = masterHa(await admin.stats(master.addr));
          return m.replicatedOffset === m.writtenOffset && s.broker.store.writtenOffset === m.writtenOffset;
        },
        'the slave to hold the whole log',
        10_000,
      );

      const acked = load.records.filter((r) => r.status === 'SEND_OK');
      const onMaster = await readAllQueues(admin, master.addr, BROKER, TOPIC, QUEUES, tag);
      const onSlave = await readAllQueues(admin, s.broker.addr, BROKER, TOPIC, QUEUES, tag);
      const pm = presence(onMaster, tag, acked);
      const ps = presence(onSlave, tag, acked);
      console.log(`master-restart: sends ${JSON.stringify(load.countByStatus())}; acked ${pm.expected}: on the master ${pm.present} (missing ${pm.missing.length}), on the slave ${ps.present} (missing ${ps.missing.length})`);
      expect(acked.length).toBeGreaterThan(0);
      expect(pm.wrong).toEqual([]);
      expect(ps.wrong).toEqual([]);
      expect(pm.missing.slice(0, 10), `acknowledged messages missing on the master: ${pm.missing.length}`).toEqual([]);
      expect(ps.missing.slice(0, 10), `acknowledged messages missing on the slave: ${ps.missing.length}`).toEqual([]);
      expect(damaged(onMaster, tag)).toEqual([]);
      expect([...onSlave.bodies.entries()]).toEqual([...onMaster.bodies.entries()]);
    } finally {
      await proxy.close();
    }
  });
});
