// A replicated chunk damaged on the wire is refused. The slave checks the
// master's CRC of each HA_DATA chunk, not each record's CRC (docs/
// ARCHITECTURE.md, "Checking replicated bytes"), so a flipped payload byte,
// which leaves every record's framing intact, must still be caught: a TCP
// proxy between slave and master flips one byte of a message body in the
// first HA_DATA frame. The slave refuses that chunk (nothing of it
// appended), reconnects, and ends with the master's log byte for byte.
// Without the chunk check the damaged byte would be stored and the logs
// would differ.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { OFF_BODY } from '../../src/message/index.js';
import { encodeFrame, FrameDecoder, Opcode } from '../../src/protocol/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';
import { expectLogPrefix, haBrokerConfig, masterHa, slaveHa, useLocalBrokers } from './ha-helpers.js';

const TOPIC = 'HaCorruptChunk';
const QUEUES = 2;
const BROKER = 'ha-corrupt';
/** HA_DATA body: offset u64 | crc u32 | records. */
const HA_DATA_HEAD = 12;
const MAX_FRAME = 64 * 1024 * 1024;

/** A proxy to `target` that flips one body byte of the first record of the first `damage` HA_DATA frames it forwards to the slave. */
async function corruptingProxy(target: string, damage: number): Promise<{ addr: string; damaged: () => number; close: () => Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let damaged = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((slave) => {
    const master = net.connect(port, host);
    sockets.add(slave).add(master);
    const decoder = new FrameDecoder(MAX_FRAME);
    slave.on('data', (b) => master.write(b));
    master.on('data', (chunk: Buffer) => {
      decoder.push(Buffer.from(chunk), (f) => {
        let body = f.body;
        if (f.opcode === Opcode.HaData && damaged < damage && body.length > HA_DATA_HEAD + OFF_BODY + 1) {
          body = Buffer.from(body);
          body[HA_DATA_HEAD + OFF_BODY] ^= 0x01;
          damaged++;
        }
        slave.write(encodeFrame(f, body));
      });
    });
    const end = (): void => {
      slave.destroy();
      master.destroy();
    };
    for (const s of [slave, master]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    addr,
    damaged: () => damaged,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a replicated chunk damaged on the wire', () => {
  const tempDir = useTempDirs('ha-corrupt');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  it('is refused by the slave (its chunk CRC fails), which reconnects and ends with the master\'s log byte for byte', async () => {
    const c = await cluster({ brokers: 0 });
    const config = (role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'async', masterHaAddr });
    const m = await startLocal(config('master'));
    const proxy = await corruptingProxy(m.broker.haAddr!, 1);
    try {
      const s = await startLocal(config('slave', proxy.addr));
      await waitUntil(() => masterHa(m.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);
      const producer = clients.producer(c.ns);
      for (let i = 0; i < 50; i++) {
        const r = await producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr: m.broker.addr, queueId: i % QUEUES }, [{ body: `message ${i} `.repeat(20), keys: `k${i}` }]);
        expect(r.status).toBe('SEND_OK');
      }
      await waitUntil(() => slaveHa(s.broker.stats()).replicatedOffset === m.broker.store.writtenOffset, 'the slave to hold the whole log', 15_000, 10);
      expect(proxy.damaged(), 'the proxy damaged a chunk').toBe(1);
      expect(s.broker.store.writtenOffset).toBe(m.broker.store.writtenOffset);
      expectLogPrefix(s.broker.store, m.broker.store, 'slave log vs master log');
      const refusals = s.warnings.filter((w) => /replicated chunk at log offset \d+ \(\d+ bytes\) fails its CRC/.test(w));
      expect(refusals.length, `the slave refused the damaged chunk; its warnings: ${JSON.stringify(s.warnings)}`).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
