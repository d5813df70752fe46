// A slave whose log holds more than its (new) master: a slave never gives up
// what it confirmed, since it may have been acknowledged to a producer. A
// master whose log is a prefix of the slave's (a replaced disk, an older copy
// of itself) refuses writes and copies the slave's log back before it takes
// writes again (sync replication: from its start, since only the slave can
// tell it is behind); a master whose log went on differently is refused by
// the slave, which keeps its log, and both say why. All brokers run in this
// process and stop cleanly; their stores are compared directly.
//
// The first master's messages are large (15-45 KiB, sent one at a time so
// that every push to the slave stays small): the slave's log spans several
// 2 MiB segments, so copying back crosses segment ends too.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import type { Producer, SendStatus } from '../../src/client/index.js';
import type { DecodedMessage, MessageStore } from '../../src/store/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { bytesFor, readQueue, seedOf } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitDispatched, waitUntil } from '../helpers/wait.js';
import { expectLogPrefix, haBrokerConfig, masterHa, readAllQueues, slaveHa, useLocalBrokers, waitForAsync, type LocalBroker } from './ha-helpers.js';

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

  it('against a fresh master (its disk replaced): the master refuses writes, copies the slave\'s log back, then replicates on', async () => {
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
    // A consumer group committed on A; the offset table reaches S (every second).
    const admin = clients.admin(c.ns);
    const mq = (addr: string) => ({ topic: TOPIC, brokerName: BROKER, addr, queueId: 1 });
    await admin.commitOffset('diverged-group', mq(a.broker.addr), 17);
    await waitForAsync(async () => (await admin.committedOffset('diverged-group', mq(s.broker.addr))) === 17, 'the committed offset to reach the slave', 5000, 50);
    await s.broker.close();
    await a.broker.close();

    // Master B starts on a fresh directory: alone, it cannot know it is behind, and takes no writes.
    const b = await startLocal(config(tempDir(), 'master'));
    const alone = await sendOneByOne(producer, b.broker.addr, 'B', 0, 1, false).catch((err: unknown) => err as Error & { code?: string });
    const held = masterHa(b.broker.stats()).writesHeld;

    // S comes back against B, and copies its log back.
    s = await startLocal(config(sDir, 'slave', b.broker.haAddr));
    await waitInSync(b.broker, s.broker);
    const ha = slaveHa(s.broker.stats());
    console.log(
      `diverged (fresh master): slave log ${before.log} bytes in ${before.segments} segments; master B alone answered ${JSON.stringify(alone instanceof Error ? alone.message : alone)}; then ${ha.truncations} truncations (to ${truncationTargets(s).join(', ')}); slave now ${s.broker.store.writtenOffset} bytes, master B ${b.broker.store.writtenOffset} bytes in ${b.broker.store.stats().segments} segment(s)`,
    );
    expect(ha.truncations).toBe(0);
    expect(s.broker.store.writtenOffset).toBe(before.log);
    expect(b.broker.store.writtenOffset).toBe(before.log);
    expect(b.broker.store.stats().segments).toBe(before.segments);
    for (const seq of [0, 57, 99]) {
      expect(s.broker.store.queryByKey(TOPIC, `A-${seq}`).length, `A-${seq} on the slave`).toBe(1);
      expect(b.broker.store.queryByKey(TOPIC, `A-${seq}`).length, `A-${seq} on the master`).toBe(1);
    }
    expect(alone).toBeInstanceOf(Error);
    expect((alone as { code?: string }).code).toBe('METAQ_MASTER_BEHIND_SLAVE');
    expect(held).toBe('unverified');
    expect(masterHa(b.broker.stats()).writesHeld).toBe('none');
    expect(s.warnings.some((w) => /copying it back to the master/.test(w))).toBe(true);
    // The master got the consumer offsets back with the log.
    expect(await admin.committedOffset('diverged-group', mq(b.broker.addr))).toBe(17);
    await expectSameLogAndReplicating(b.broker, s, producer, 'B', 0, c.ns);
    // The new messages come after A's in every queue.
    for (let q = 0; q < QUEUES; q++) expect(contents(b.broker.store)[q]!.length).toBe(25 + 5);
  });

  it('against an older copy of its master: the master copies back what it lacks, nothing is truncated', async () => {
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
    const before = s.broker.store.writtenOffset;
    await s.broker.close();
    await a.broker.close();

    // B starts on the copy (A as it was after 60 messages): it takes no writes on its own.
    const b = await startLocal(config(bDir, 'master'));
    expect(b.broker.store.writtenOffset).toBe(agreed);
    await expect(sendOneByOne(producer, b.broker.addr, 'B', 0, 1, false)).rejects.toMatchObject({ code: 'METAQ_MASTER_BEHIND_SLAVE' });

    // S, holding A's 100 messages, comes back against B: B gets the 40 it lacks.
    s = await startLocal(config(sDir, 'slave', b.broker.haAddr));
    await waitInSync(b.broker, s.broker);
    const ha = slaveHa(s.broker.stats());
    console.log(`diverged (older copy): slave log ${before} bytes, master B ${agreed} bytes at its start; ${ha.truncations} truncation(s); now both ${b.broker.store.writtenOffset} bytes`);
    expect(ha.truncations).toBe(0);
    expect(b.broker.store.writtenOffset).toBe(before);
    for (let seq = 0; seq < 100; seq++) expect(b.broker.store.queryByKey(TOPIC, `A-${seq}`).length, `A-${seq} on the master`).toBe(1);
    await expectSameLogAndReplicating(b.broker, s, producer, 'B', 0, c.ns);
  });

  it('async replication, against a master that went on differently: the slave keeps what it confirmed, and both say why', async () => {
    const c = await cluster({ brokers: 0 });
    const producer = clients.producer(c.ns);
    const config = (dir: string, role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir, brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'async', masterHaAddr });
    const sDir = tempDir();

    const a = await startLocal(config(tempDir(), 'master'));
    let s = await startLocal(config(sDir, 'slave', a.broker.haAddr));
    await waitUntil(() => masterHa(a.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);
    expect(await sendOneByOne(producer, a.broker.addr, 'A', 0, 40, true)).toEqual({ SEND_OK: 40 });
    await waitInSync(a.broker, s.broker);
    const before = s.broker.store.writtenOffset;
    await s.broker.close();
    await a.broker.close();

    // B (async replication: it takes writes alone) starts empty and writes other messages.
    const b = await startLocal(config(tempDir(), 'master'));
    expect(await sendOneByOne(producer, b.broker.addr, 'B', 0, 50, false)).toEqual({ SEND_OK: 50 });
    s = await startLocal(config(sDir, 'slave', b.broker.haAddr));
    await sleep(1500);
    const refusal = s.warnings.find((w) => /differs from this master's/.test(w));
    console.log(`diverged (async, other writes): slave log ${before} bytes, now ${s.broker.store.writtenOffset}; slave says: ${refusal ?? JSON.stringify(s.warnings.slice(0, 2))}`);
    expect(slaveHa(s.broker.stats()).truncations).toBe(0);
    expect(s.broker.store.writtenOffset).toBe(before);
    for (let seq = 0; seq < 40; seq++) expect(s.broker.store.queryByKey(TOPIC, `A-${seq}`).length, `A-${seq} on the slave`).toBe(1);
    expect(refusal).toMatch(/the slave confirmed everything up to \d+: it keeps its log, nothing acknowledged is dropped/);
    expect(slaveHa(s.broker.stats()).connected).toBe(false);
    expect(masterHa(b.broker.stats()).slaveConnected).toBe(false);
    expect(masterHa(b.broker.stats()).slavesRefused).toBeGreaterThanOrEqual(2);
    // The master goes on alone.
    expect(await sendOneByOne(producer, b.broker.addr, 'B', 50, 55, false)).toEqual({ SEND_OK: 5 });
  });
});
