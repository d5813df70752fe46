// Delayed messages under replication: the waiting records are CommitLog
// records, so a slave holds them as soon as its master does (under sync
// replication, before the send is acknowledged), and a slave runs no timer:
// it delivers nothing of its own. When the messages fall due the master
// copies them to their real queue, and the slave gets those copies by
// replication: each message exactly once on both.
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../../src/client/index.js';
import { TIMER_TOPIC } from '../../src/common/index.js';
import { haBrokerConfig, useLocalBrokers } from '../ha/ha-helpers.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const TOPIC = 'DelayedHa';
const N = 20;
const DELAY_MS = 2500;

describe('delayed messages with a slave', () => {
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const clients = useClients();
  const tempDir = useTempDirs('timer-ha');

  it('the slave holds the waiting records at once and delivers nothing; the master delivers each once, and the copies replicate', async () => {
    const c = await cluster({ brokers: 0 });
    const base = { ns: c.ns, brokerName: 'timer-ha', topics: { [TOPIC]: 1 }, replicationMode: 'sync' as const };
    const master = (await startLocal(haBrokerConfig({ ...base, dir: tempDir(), role: 'master' }))).broker;
    const slave = (await startLocal(haBrokerConfig({ ...base, dir: tempDir(), role: 'slave', masterHaAddr: master.haAddr! }))).broker;
    expect(master.timerStats()).toBeDefined();
    expect(slave.timerStats()).toBeUndefined();
    const admin = clients.admin(c.ns);
    await admin.waitForRoute(TOPIC);
    const producer = clients.producer(c.ns);
    // Sync replication: once a send is SEND_OK, the slave holds it.
    let sent = 0;
    const sentAt = Date.now();
    while (sent < N) {
      const r = await producer.send(TOPIC, { body: `ha-${sent}` }, { delayMs: DELAY_MS });
      sent++;
      if (r.status !== 'SEND_OK') await sleep(100);
    }
    const timerEnd = master.store.maxOffset(TIMER_TOPIC, 0);
    await waitUntil(() => slave.store.maxOffset(TIMER_TOPIC, 0) === timerEnd, 'the slave to hold the waiting records', 10_000, 10);
    const read = async (addr: string) => {
      const mq: MessageQueue = { topic: TOPIC, brokerName: 'timer-ha', addr, queueId: 0 };
      return (await admin.pull(mq, 0, { maxCount: 100, pollTimeoutMs: 0 })).messages.map((m) => m.body.toString());
    };
    if (Date.now() - sentAt < DELAY_MS) {
      expect(await read(master.addr)).toEqual([]);
      expect(await read(slave.addr)).toEqual([]);
    }
    const expected = Array.from({ length: N }, (_, i) => `ha-${i}`);
    await waitUntil(() => master.store.maxOffset(TOPIC, 0) >= N && slave.store.maxOffset(TOPIC, 0) >= N, 'delivery on both', 20_000, 20);
    await sleep(1500); // a slave that delivered on its own would show more by now
    expect(await read(master.addr)).toEqual(expected);
    expect(await read(slave.addr)).toEqual(expected);
  });
});
