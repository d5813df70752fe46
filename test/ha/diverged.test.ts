// A slave whose log has a tail its (new) master never had: when it connects,
// the handshake finds where the two logs last agree, the slave truncates its
// log (with its ConsumeQueue and key-index entries) to that point and copies
// the master's log from there, and sync replication goes on. All brokers run
// in this process and stop cleanly; their stores are compared directly.
//
// The first master's messages are large (15-45 KiB, sent one at a time so
// that every push to the slave stays small): the slave's log spans several
// 2 MiB segments, so truncation removes whole segments too.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import type { Producer, SendStatus } from '../../src/client/index.js';
import type { DecodedMessage, MessageStore } from '../../src/store/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { bytesFor, readQueue, seedOf } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched, waitUntil } from '../helpers/wait.js';
import { expectLogPrefix, haBrokerConfig, masterHa, readAllQueues, slaveHa, useLocalBrokers, type LocalBroker } from './ha-helpers.js';

const TOPIC = 'HaDiverged';
const QUEUES = 4;
const BROKER = 'ha-diverged';

/** Message `seq` of the writer `tag`: large (15-45 KiB of filler) or small (up to 300 bytes). */
function divBody(tag: string, seq: number, big: boolean): string {
  const seed = seedOf('diverged', tag, seq);
  return `${tag}#${seq}#${bytesFor(seed, big ? 15_000 + (seed % 30_000) : seed % 300).toString('base64')}`;
}

/** Sends messages [from, to) of `tag` one at a time, message `seq` to queue seq % QUEUES of the broker at `addr`. */
async function sendOneByOne(producer: Producer, addr: string, tag: string, from: number, to: number, big: boolean): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (let seq = from; seq < to; seq++) {
    const r = await producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr, queueId: seq % QUEUES }, [{ body: divBody(tag, seq, big), keys: `${tag}-${seq}` }]);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  return statuses as Record<SendStatus, number>;
}

/** Every message of every queue of the topic, read from the store. */
function contents(store: MessageStore): DecodedMessage[][] {
  return Array.from({ length: QUEUES }, (_, q) => readQueue(store, TOPIC, q, 0, 256, 1 << 20));
}

/** Waits until the slave is connected and holds the master's whole log (both sides say so). */
async function waitInSync(master: Broker, slave: Broker): Promise<void> {
  await waitUntil(
    () => {
      const m = masterHa(master.stats());
      const s = slaveHa(slave.stats());
      return s.connected && m.slaveConnected && s.replicatedOffset === master.store.writtenOffset && m.replicatedOffset === master.store.writtenOffset;
    },
    'the slave to hold the whole master log',
    10_000,
    5,
  );
  await waitDispatched(slave.store);
  await waitDispatched(master.store);
}

/** The offsets the slave logged truncating to ("... truncating from X to Y"). */
function truncationTargets(slave: LocalBroker): number[] {
  return slave.warnings.flatMap((w) => {
    const m = /truncating from (\d+) to (\d+)/.exec(w);
    return m === null ? [] : [Number(m[2])];
  });
}

describe('a slave with a tail its master never had', () => {
  const tempDir = useTempDirs('ha-diverged');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  /** Checks that the slave's store is the master's, and that new sends are SEND_OK and reach it. */
  async function expectSameLogAndReplicating(master: Broker, slave: LocalBroker, producer: Producer, tag: string, nextSeq: number, ns: string): Promise<void> {
    const s = slave.broker;
    expect(s.store.writtenOffset).toBe(master.store.writtenOffset);
    expectLogPrefix(s.store, master.store, 'slave log vs master log');
    const mine = contents(s.store);
    const theirs = contents(master.store);
    for (let q = 0; q < QUEUES; q++) {
      expect(mine[q]!.length, `queue ${q}: messages`).toBe(theirs[q]!.length);
      for (let i = 0; i < mine[q]!.length; i++) {
        const a = mine[q]![i]!;
        const b = theirs[q]![i]!;
        expect([a.queueOffset, a.physicalOffset, a.storeTimestamp, a.keys], `queue ${q} #${i}`).toEqual([b.queueOffset, b.physicalOffset, b.storeTimestamp, b.keys]);
        if (!a.body.equals(b.body)) throw new Error(`queue ${q} #${i}: body differs from the master's`);
      }
    }
    // Replication goes on: sync sends are SEND_OK again and reach the slave.
    const more = 20;
    expect(await sendOneByOne(producer, master.addr, tag, nextSeq, nextSeq + more, false)).toEqual({ SEND_OK: more });
    await waitInSync(master, s);
    const onSlave = await readAllQueues(clients.admin(ns), s.addr, BROKER, TOPIC, QUEUES);
    for (let seq = nextSeq; seq < nextSeq + more; seq++) {
      const found = s.store.queryByKey(TOPIC, `${tag}-${seq}`);
      expect(found.length, `${tag}-${seq} on the slave`).toBe(1);
      expect(onSlave.bodies.get(`${found[0]!.queueId}:${found[0]!.queueOffset}`)).toBe(divBody(tag, seq, false));
    }
  }

  it('against a fresh master with other messages: the slave truncates to 0 and copies the new log', async () => {
    const c = await cluster({ brokers: 0 });
    const producer = clients.producer(c.ns);
    const config = (dir: string, role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr });
    const sDir = tempDir();

    // Master A writes 100 large messages; slave S copies them.
    const a = await startLocal(config(tempDir(), 'master'));
    let s = await startLocal(config(sDir, 'slave', a.broker.haAddr));
    await waitUntil(() => masterHa(a.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);
    expect(await sendOneByOne(producer, a.broker.addr, 'A', 0, 100, true)).toEqual({ SEND_OK: 100 });
    await waitInSync(a.broker, s.broker);
    const before = { log: s.broker.store.writtenOffset, segments: s.broker.store.stats().segments };
    expect(before.segments).toBeGreaterThan(1);
    await s.broker.close();
    await a.broker.close();

    // Master B starts on a fresh directory and writes 50 other (small) messages: no slave yet.
    const b = await startLocal(config(tempDir(), 'master'));
    expect(await sendOneByOne(producer, b.broker.addr, 'B', 0, 50, false)).toEqual({ SLAVE_NOT_AVAILABLE: 50 });
    expect(b.broker.store.writtenOffset).toBeLessThan(before.log);

    // S comes back against B.
    s = await startLocal(config(sDir, 'slave', b.broker.haAddr));
    await waitInSync(b.broker, s.broker);
    const ha = slaveHa(s.broker.stats());
    const targets = truncationTargets(s);
    console.log(
      `diverged (fresh master): slave log ${before.log} bytes in ${before.segments} segments, master B ${b.broker.store.writtenOffset} bytes; ${ha.truncations} truncations (to ${targets.join(', ')}); slave now ${s.broker.store.writtenOffset} bytes in ${s.broker.store.stats().segments} segment(s)`,
    );
    expect(ha.truncations).toBeGreaterThan(0);
    expect(targets.at(-1)).toBe(0);
    expect(s.broker.store.stats().segments).toBe(1);
    // Nothing of A is left on the slave, its key index included.
    expect(s.broker.store.queryByKey(TOPIC, 'A-99')).toEqual([]);
    expect(s.broker.store.queryByKey(TOPIC, 'A-0')).toEqual([]);
    expect(contents(s.broker.store).flat().filter((m) => !m.body.toString('latin1').startsWith('B#'))).toEqual([]);
    await expectSameLogAndReplicating(b.broker, s, producer, 'B', 50, c.ns);
  });

  it('against an older copy of its master that went on differently: the slave truncates to where they agree', async () => {
    const c = await cluster({ brokers: 0 });
    const producer = clients.producer(c.ns);
    const config = (dir: string, role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr });
    const aDir = tempDir();
    const sDir = tempDir();
    const bDir = tempDir();

    // A writes 60 large messages, S copies them; both stop and A's directory is copied.
    let a = await startLocal(config(aDir, 'master'));
    let s = await startLocal(config(sDir, 'slave', a.broker.haAddr));
    await waitUntil(() => masterHa(a.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);
    expect(await sendOneByOne(producer, a.broker.addr, 'A', 0, 60, true)).toEqual({ SEND_OK: 60 });
    await waitInSync(a.broker, s.broker);
    const agreed = a.broker.store.writtenOffset;
    await s.broker.close();
    await a.broker.close();
    fs.cpSync(aDir, bDir, { recursive: true });

    // A (restarted) writes 40 more, S copies them too, and both stop.
    a = await startLocal(config(aDir, 'master'));
    s = await startLocal(config(sDir, 'slave', a.broker.haAddr));
    await waitUntil(() => masterHa(a.broker.stats()).slaveConnected, 'the slave to reconnect', 10_000, 5);
    expect(await sendOneByOne(producer, a.broker.addr, 'A', 60, 100, true)).toEqual({ SEND_OK: 40 });
    await waitInSync(a.broker, s.broker);
    expect(slaveHa(s.broker.stats()).truncations).toBe(0);
    const before = { log: s.broker.store.writtenOffset, segments: s.broker.store.stats().segments };
    await s.broker.close();
    await a.broker.close();

    // B starts on the copy (A as it was after 60 messages) and writes 30 other messages.
    const b = await startLocal(config(bDir, 'master'));
    expect(b.broker.store.writtenOffset).toBe(agreed);
    expect(await sendOneByOne(producer, b.broker.addr, 'B', 0, 30, false)).toEqual({ SLAVE_NOT_AVAILABLE: 30 });

    // S, holding A's 100 messages, comes back against B.
    s = await startLocal(config(sDir, 'slave', b.broker.haAddr));
    await waitInSync(b.broker, s.broker);
    const ha = slaveHa(s.broker.stats());
    const targets = truncationTargets(s);
    console.log(
      `diverged (older copy): slave log ${before.log} bytes in ${before.segments} segments, logs agree up to ${agreed}, master B ${b.broker.store.writtenOffset} bytes; ${ha.truncations} truncation(s) (to ${targets.join(', ')}); slave now ${s.broker.store.writtenOffset} bytes in ${s.broker.store.stats().segments} segment(s)`,
    );
    expect(ha.truncations).toBeGreaterThan(0);
    // Truncated exactly to the end of the 60 shared messages: nothing they share was thrown away.
    expect(targets.at(-1)).toBe(agreed);
    expect(Math.min(...targets)).toBe(agreed);
    for (let seq = 0; seq < 100; seq++) expect(s.broker.store.queryByKey(TOPIC, `A-${seq}`).length, `A-${seq} on the slave`).toBe(seq < 60 ? 1 : 0);
    const perTag = { A: 0, B: 0 };
    for (const m of contents(s.broker.store).flat()) perTag[m.body.toString('latin1').startsWith('A#') ? 'A' : 'B']++;
    expect(perTag).toEqual({ A: 60, B: 30 });
    await expectSameLogAndReplicating(b.broker, s, producer, 'B', 30, c.ns);
  });
});
