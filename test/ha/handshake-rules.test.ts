// Who a master takes as its slave. One slave per master: a second slave is
// refused with a clear error while the first keeps replicating, unless the
// first has gone silent past the silence limit (a half-open connection: then
// the master closes it and takes the newcomer). And a slave must be able to
// keep the promise the master's modes make: under sync flush and sync
// replication, SEND_OK means "on disk on both", so a slave with async flush
// is refused (and the master, which has not verified its log against a slave
// since it started, takes no writes until a fit slave connects).
import { describe, expect, it } from 'vitest';
import type { Producer, SendStatus } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { haBrokerConfig, masterHa, slaveHa, useBrokerProcesses, useLocalBrokers, waitForAsync } from './ha-helpers.js';

const TOPIC = 'HaHandshake';
const QUEUES = 2;
const BROKER = 'ha-handshake';

async function sendSome(producer: Producer, addr: string, n: number): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr, queueId: i % QUEUES }, [{ body: `m${i}` }]);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  return statuses as Record<SendStatus, number>;
}

describe('replication handshake rules', () => {
  const tempDir = useTempDirs('ha-handshake');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const startProcess = useBrokerProcesses();
  const clients = useClients();

  it('second slave refused: the first keeps replicating and says so truthfully', async () => {
    const c = await cluster({ brokers: 0 });
    const config = (role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr });
    const m = await startLocal(config('master'));
    const s1 = await startLocal(config('slave', m.broker.haAddr));
    await waitUntil(() => masterHa(m.broker.stats()).slaveConnected && slaveHa(s1.broker.stats()).connected, 'the first slave to connect', 10_000, 5);

    const s2 = await startLocal(config('slave', m.broker.haAddr));
    // The second slave tries (and retries every 500 ms) for a while.
    await sleep(1500);
    const producer = clients.producer(c.ns);
    const statuses = await sendSome(producer, m.broker.addr, 40);
    await sleep(300);
    const written = m.broker.store.writtenOffset;
    const one = slaveHa(s1.broker.stats());
    const two = slaveHa(s2.broker.stats());
    const ms = masterHa(m.broker.stats());
    const refusals = s2.warnings.filter((w) => w.includes('one slave per master'));
    console.log(
      `second slave: sends ${JSON.stringify(statuses)}; master log ${written}, slave 1 holds ${one.replicatedOffset} (connected ${one.connected}), slave 2 holds ${s2.broker.store.writtenOffset} (connected ${two.connected}); master refused ${ms.slavesRefused} handshakes; slave 2 warnings: ${JSON.stringify(s2.warnings.slice(0, 2))}`,
    );
    expect(one.replicatedOffset, 'the first slave holds the whole log').toBe(written);
    expect(one.connected).toBe(true);
    expect(statuses).toEqual({ SEND_OK: 40 });
    expect(two.connected, 'the second slave does not claim to be connected').toBe(false);
    expect(s2.broker.store.writtenOffset).toBe(0);
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    expect(refusals[0]).toMatch(/another slave \(127\.0\.0\.1:\d+\) is replicating from this master/);
    expect(ms.slavesRefused).toBeGreaterThanOrEqual(2);
    expect(ms.slaveConnected).toBe(true);

    // When the first slave goes away (its connection closes), the second is taken at its next try.
    await s1.broker.close();
    await waitUntil(() => slaveHa(s2.broker.stats()).connected, 'the second slave to be taken once the first is gone', 5000, 10);
    expect(await sendSome(producer, m.broker.addr, 10)).toEqual({ SEND_OK: 10 });
    await waitUntil(() => slaveHa(s2.broker.stats()).replicatedOffset === m.broker.store.writtenOffset, 'the second slave to hold the whole log', 5000, 10);
  });

  it('a silent (half-open) first slave gives way after the silence limit, and is refused when it wakes', async () => {
    const c = await cluster({ brokers: 0 });
    const config = (role: 'master' | 'slave', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr });
    const m = await startLocal(config('master'));
    const s1 = await startProcess(config('slave', m.broker.haAddr));
    await waitUntil(() => masterHa(m.broker.stats()).slaveConnected, 'the first slave to connect', 10_000, 5);
    const producer = clients.producer(c.ns);
    expect(await sendSome(producer, m.broker.addr, 10)).toEqual({ SEND_OK: 10 });

    // The first slave freezes: its connection stays open, its reports stop.
    s1.running.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const s2 = await startLocal(config('slave', m.broker.haAddr));
    await waitUntil(() => slaveHa(s2.broker.stats()).connected, 'the second slave to be taken', 10_000, 10);
    const takenAfterMs = Date.now() - frozenAt;
    const refusedFirst = s2.warnings.filter((w) => w.includes('one slave per master')).length;
    console.log(`half-open: the second slave was refused ${refusedFirst} times, then taken ${takenAfterMs} ms after the first froze`);
    // Refused while the first could still be alive (the broker's limit: 3 s of silence).
    expect(refusedFirst).toBeGreaterThan(0);
    expect(takenAfterMs).toBeGreaterThanOrEqual(2000); // 3 s of silence, the last report at most 1 s before the freeze
    expect(await sendSome(producer, m.broker.addr, 10)).toEqual({ SEND_OK: 10 });

    // The first wakes up: its old connection was closed, its new handshakes are refused.
    s1.running.child.kill('SIGCONT');
    const admin = clients.admin(c.ns);
    await waitForAsync(() => masterHa(m.broker.stats()).slavesRefused > refusedFirst, 'the woken first slave to be refused', 5000, 50);
    await sleep(500);
    expect(slaveHa(s2.broker.stats()).connected).toBe(true);
    expect(masterHa(m.broker.stats()).slaveConnected).toBe(true);
    expect(await sendSome(producer, m.broker.addr, 10)).toEqual({ SEND_OK: 10 });
    const addr = (await waitForStatsAddr(admin, s1.addr)).ha;
    expect(addr !== undefined && 'connected' in addr && addr.connected).toBe(false);
    expect(s1.running.stderr()).toMatch(/one slave per master/);
  });

  it('handshake with a weaker flush mode: a sync-flush, sync-replication master refuses an async-flush slave and takes a sync-flush one', async () => {
    const c = await cluster({ brokers: 0 });
    const config = (role: 'master' | 'slave', flushMode: 'sync' | 'async', masterHaAddr?: string) =>
      haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role, replicationMode: 'sync', slaveTimeoutMs: 2000, masterHaAddr, flushMode });
    const m = await startLocal(config('master', 'sync'));
    const weak = await startLocal(config('slave', 'async', m.broker.haAddr));
    await sleep(1500);
    const ms = masterHa(m.broker.stats());
    const refusals = weak.warnings.filter((w) => w.includes('flush'));
    console.log(`weaker flush: master slaveConnected ${ms.slaveConnected}, refused ${ms.slavesRefused}, writes held: ${ms.writesHeld}; slave warnings: ${JSON.stringify(weak.warnings.slice(0, 1))}`);
    expect(ms.slaveConnected, 'an async-flush slave is not taken by a sync/sync master').toBe(false);
    expect(slaveHa(weak.broker.stats()).connected).toBe(false);
    expect(ms.slavesRefused).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/flushes and replicates synchronously.*start the slave with sync flush/);
    // Never verified against a slave since it started: no writes, and the error says what to do.
    const producer = clients.producer(c.ns, { retries: 0 });
    await expect(sendSome(producer, m.broker.addr, 1)).rejects.toMatchObject({ code: 'METAQ_MASTER_BEHIND_SLAVE', message: expect.stringMatching(/start \(or reconnect\) its slave/) });
    expect(ms.writesHeld).toBe('unverified');

    await weak.broker.close();
    const fit = await startLocal(config('slave', 'sync', m.broker.haAddr));
    await waitUntil(() => slaveHa(fit.broker.stats()).connected && masterHa(m.broker.stats()).writesHeld === 'none', 'the sync-flush slave to be taken', 10_000, 10);
    expect(await sendSome(producer, m.broker.addr, 10)).toEqual({ SEND_OK: 10 });
  });
});

/** A broker's stats over the wire (the broker may still be waking up). */
async function waitForStatsAddr(admin: ReturnType<ReturnType<typeof useClients>['admin']>, addr: string): Promise<Awaited<ReturnType<typeof admin.stats>>> {
  for (let i = 0; ; i++) {
    try {
      return await admin.stats(addr);
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(100);
    }
  }
}
