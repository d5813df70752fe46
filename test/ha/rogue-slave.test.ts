// A peer on the replication port that is not a faithful slave. A report must
// be backed by what the master pushed to that peer: one beyond it (2^50, or a
// single byte past) closes the session, releases no waiting sync send as
// SEND_OK and lifts no limit (before, 2^50 made every sync send SEND_OK with
// no replica). And a "slave" that never reads holds a bounded amount of the
// master's memory: the push stops while its socket is congested (before, the
// master read its log into the unread socket as fast as producers wrote).
// These checks hold whoever the peer is: authentication decides who may
// handshake, not what a report may claim.
import { describe, expect, it } from 'vitest';
import { RequestClient } from '../../src/net/index.js';
import { decodeHaData, decodeHaHandshakeReply, encodeFrame, encodeHaHandshake, encodeOffset, encodeSendRequest, FrameFlag, HaAction, Opcode, type Frame } from '../../src/protocol/index.js';
import type { Producer } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { connectNeverReading, rssOf, stats } from '../security/wire-helpers.js';
import { HA_STORE, haBrokerConfig, masterHa, useBrokerProcesses, useLocalBrokers } from './ha-helpers.js';

const TOPIC = 'HaRogue';
const BROKER = 'ha-rogue';
const MiB = 1024 * 1024;

/** A peer that handshakes as an empty slave and keeps what is pushed to it (or not). */
async function rogueSlave(haAddr: string, segmentSize: number): Promise<{ client: RequestClient; pushedTo: () => number }> {
  let end = 0;
  const client = await RequestClient.connect(haAddr, {
    onNotify: (f: Frame) => {
      if (f.opcode !== Opcode.HaData) return;
      const d = decodeHaData(f.body);
      end = Math.max(end, d.offset + d.bytes.length);
    },
  });
  const reply = decodeHaHandshakeReply((await client.call(Opcode.HaHandshake, encodeHaHandshake({ maxOffset: 0, durableOffset: 0, segmentSize, flushMode: 'async', records: [] }), 3000)).body);
  expect(reply).toEqual({ action: HaAction.Stream, offset: 0 });
  return { client, pushedTo: () => end };
}

function send(producer: Producer, addr: string, body: string): Promise<string> {
  return producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr, queueId: 0 }, [{ body }]).then((r) => r.status);
}

describe('a rogue peer on the replication port', () => {
  const tempDir = useTempDirs('ha-rogue');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it('a report beyond what was pushed (2^50, or one byte past) closes the session: no SEND_OK without a replica', async () => {
    const c = await cluster({ brokers: 0 });
    const m = await startLocal(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: 1 }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 3000 }));
    const addr = m.broker.addr;
    const producer = clients.producer(c.ns);

    const rogue = await rogueSlave(m.broker.haAddr!, HA_STORE.segmentSize);
    await waitUntil(() => masterHa(m.broker.stats()).slaveConnected, 'the rogue to be taken as the slave', 5000, 5);
    // A send waits for the "slave"; the rogue then claims to hold 2^50 bytes.
    const waiting = send(producer, addr, 'one');
    await sleep(300);
    expect(masterHa(m.broker.stats()).sendsWaitingForSlave).toBe(1);
    rogue.client.notify(Opcode.HaReport, encodeOffset(2 ** 50));
    const status = await waiting;
    expect(status, 'the send waiting for the slave').not.toBe('SEND_OK');
    await waitUntil(() => rogue.client.closed, 'the rogue session to be closed', 3000, 5);
    const ha = masterHa(m.broker.stats());
    console.log(`report of 2^50: the waiting send answered ${status}; master ${JSON.stringify({ slaveConnected: ha.slaveConnected, writtenOffset: ha.writtenOffset, replicatedOffset: ha.replicatedOffset, readersCappedBySlave: ha.readersCappedBySlave })}; refusals ${JSON.stringify(m.broker.stats().refusals)}`);
    expect(status).toBe('SLAVE_NOT_AVAILABLE');
    expect(ha.slaveConnected).toBe(false);
    // What caps readers under sync replication stays within what the master holds.
    expect(ha.replicatedOffset).toBeLessThanOrEqual(ha.writtenOffset);
    expect(m.broker.stats().refusals?.haReportBeyondPushed).toBe(1);
    expect(m.warnings.some((w) => /reported holding the log up to 1125899906842624, but was sent only up to/.test(w))).toBe(true);
    expect(await send(producer, addr, 'two')).toBe('SLAVE_NOT_AVAILABLE');

    // A peer that reports exactly what it was sent is a slave as far as the master can tell; one byte more is not.
    const second = await rogueSlave(m.broker.haAddr!, HA_STORE.segmentSize);
    await waitUntil(() => second.pushedTo() === m.broker.store.writtenOffset, 'the log pushed to the second peer', 5000, 5);
    const pending = send(producer, addr, 'three');
    await waitUntil(() => second.pushedTo() === m.broker.store.writtenOffset && masterHa(m.broker.stats()).sendsWaitingForSlave === 1, 'the third message pushed', 5000, 5);
    second.client.notify(Opcode.HaReport, encodeOffset(second.pushedTo()));
    expect(await pending).toBe('SEND_OK');
    const next = send(producer, addr, 'four');
    await waitUntil(() => second.pushedTo() === m.broker.store.writtenOffset && masterHa(m.broker.stats()).sendsWaitingForSlave === 1, 'the fourth message pushed', 5000, 5);
    second.client.notify(Opcode.HaReport, encodeOffset(second.pushedTo() + 1));
    expect(await next).toBe('SLAVE_NOT_AVAILABLE');
    await waitUntil(() => second.client.closed, 'the second session to be closed', 3000, 5);
    expect(m.broker.stats().refusals?.haReportBeyondPushed).toBe(2);
    expect(masterHa(m.broker.stats()).replicatedOffset).toBeLessThanOrEqual(m.broker.store.writtenOffset);
  }, 30_000);

  it('a "slave" that handshakes and never reads: master memory stays bounded while producers keep sending', async () => {
    const segmentSize = 64 * MiB;
    const b = await startProcess({ brokerName: BROKER, port: 0, haPort: 0, topics: { [TOPIC]: 4 }, role: 'master', replicationMode: 'async', store: { dir: tempDir(), segmentSize } });
    const pid = b.running.child.pid!;
    const producer = await RequestClient.connect(b.addr);
    const rogue = await connectNeverReading(b.haAddr!);
    try {
      rogue.write(encodeFrame({ opcode: Opcode.HaHandshake, flags: 0, requestId: 1, status: 0 }, encodeHaHandshake({ maxOffset: 0, durableOffset: 0, segmentSize, flushMode: 'async', records: [] })));
      await sleep(200);
      const before = rssOf(pid);
      const body = Buffer.alloc(64 * 1024, 0x62);
      const batch = encodeSendRequest({ topic: TOPIC, queueId: 0, messages: Array.from({ length: 16 }, () => ({ body })) });
      let sent = 0;
      let peak = before;
      let stop = false;
      // The rogue claims, every 100 ms, to hold whatever the master has written (what an honest, fast slave would say).
      const reporter = (async () => {
        while (!stop) {
          const written = (await stats(producer)).ha;
          if (written !== undefined && 'writtenOffset' in written && !rogue.destroyed) rogue.write(encodeFrame({ opcode: Opcode.HaReport, flags: FrameFlag.Oneway, requestId: 0, status: 0 }, encodeOffset(written.writtenOffset)));
          await sleep(100);
        }
      })();
      const t0 = Date.now();
      const lanes = Array.from({ length: 4 }, async () => {
        while (!stop && sent < 400 * MiB && Date.now() - t0 < 15_000) {
          await producer.call(Opcode.Send, batch, 10_000);
          sent += batch.length;
        }
      });
      while (!stop) {
        peak = Math.max(peak, rssOf(pid));
        if (peak - before > 300 * MiB || (await Promise.race([Promise.all(lanes).then(() => true), sleep(100).then(() => false)]))) stop = true;
      }
      await Promise.allSettled([reporter, ...lanes]);
      const s = await stats(producer);
      console.log(
        `never-reading slave: ${(sent / MiB).toFixed(0)} MB sent in ${Date.now() - t0} ms; master RSS ${(before / MiB).toFixed(0)} MB -> peak ${(peak / MiB).toFixed(0)} MB (+${((peak - before) / MiB).toFixed(0)} MB); ` +
          `ha ${JSON.stringify({ slaveConnected: masterHa(s).slaveConnected, slaveLagBytes: masterHa(s).slaveLagBytes })}; refusals ${JSON.stringify(s.refusals)}`,
      );
      expect(sent).toBeGreaterThan(200 * MiB);
      expect(peak - before, 'master memory growth').toBeLessThan(150 * MiB);
      // The master still takes sends.
      await producer.call(Opcode.Send, batch, 10_000);
    } finally {
      rogue.destroy();
      producer.close();
    }
  }, 60_000);
});
