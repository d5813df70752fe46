// What a slave does and does not do: it refuses writes (sends, topic
// creation) with ServiceUnavailable, with its master gone producers find no
// writable queue, consumer offsets committed on the master reach it within
// the replication interval, and (failing, see below) a consumer group started
// while only the slave is alive reads from it.
import { describe, expect, it } from 'vitest';
import { NoRouteError } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { decodeErrorBody, encodeCreateTopic, encodeSendRequest, Opcode, Status } from '../../src/protocol/index.js';
import type { MessageQueue } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { rejectionOf } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { freshRoute, haBrokerConfig, masterHa, useLocalBrokers, waitForAsync, type LocalBroker } from './ha-helpers.js';

const TOPIC = 'HaSlaveRole';
const QUEUES = 2;
const BROKER = 'ha-role';

describe('the slave role', () => {
  const tempDir = useTempDirs('ha-role');
  const cluster = useCluster();
  const startLocal = useLocalBrokers();
  const clients = useClients();

  async function pair(ns: string, slaveTopics: Record<string, number> = {}): Promise<{ master: LocalBroker; slave: LocalBroker }> {
    const master = await startLocal(haBrokerConfig({ ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000 }));
    const slave = await startLocal(
      haBrokerConfig({ ns, dir: tempDir(), brokerName: BROKER, topics: { [TOPIC]: QUEUES, ...slaveTopics }, role: 'slave', masterHaAddr: master.broker.haAddr }),
    );
    await waitUntil(() => masterHa(master.broker.stats()).slaveConnected, 'the slave to connect', 10_000, 5);
    await waitForAsync(async () => (await freshRoute(ns, TOPIC)).every((q) => q.addr === master.broker.addr && q.slaveAddr === slave.broker.addr), 'a route with master and slave');
    return { master, slave };
  }

  it('refuses sends and topic creation (ServiceUnavailable); with its master gone, producers find no writable queue', async () => {
    const c = await cluster({ brokers: 0 });
    const { master, slave } = await pair(c.ns);
    const producer = clients.producer(c.ns);
    expect((await producer.send(TOPIC, { body: 'via the master' })).status).toBe('SEND_OK');
    await waitUntil(() => slave.broker.store.writtenOffset === master.broker.store.writtenOffset, 'the slave to copy the message');
    const slaveLog = slave.broker.store.writtenOffset;

    const raw = await RequestClient.connect(slave.broker.addr);
    try {
      const send = await raw.request(Opcode.Send, encodeSendRequest({ topic: TOPIC, queueId: 0, messages: [{ body: Buffer.from('straight to the slave') }] }), 3000);
      expect(send.status).toBe(Status.ServiceUnavailable);
      expect(decodeErrorBody(send.body)).toMatch(/slave/);
      const create = await raw.request(Opcode.CreateTopic, encodeCreateTopic({ topic: 'HaSlaveRoleNew', queueCount: 1 }), 3000);
      expect(create.status).toBe(Status.ServiceUnavailable);
    } finally {
      raw.close();
    }
    expect(slave.broker.store.writtenOffset).toBe(slaveLog);
    expect(slave.broker.store.queueCount('HaSlaveRoleNew')).toBeUndefined();

    // The master stops: the route keeps the slave, read-only, and a send finds nowhere to go.
    await master.broker.close();
    await waitForAsync(async () => (await freshRoute(c.ns, TOPIC)).every((q) => q.addr === slave.broker.addr && q.writable === false), 'the route to list only the slave');
    const fresh = clients.producer(c.ns);
    expect(await rejectionOf(fresh.send(TOPIC, { body: 'nowhere to go' }))).toBeInstanceOf(NoRouteError);
    expect(slave.broker.store.writtenOffset).toBe(slaveLog);
  });

  it('consumer offsets committed on the master show up on the slave within 2 s', async () => {
    const c = await cluster({ brokers: 0 });
    const { master, slave } = await pair(c.ns);
    const admin = clients.admin(c.ns);
    const producer = clients.producer(c.ns);
    for (let i = 0; i < 10; i++) await producer.sendToQueue({ topic: TOPIC, brokerName: BROKER, addr: master.broker.addr, queueId: 0 }, [{ body: `m${i}` }]);
    const onMaster: MessageQueue = { topic: TOPIC, brokerName: BROKER, addr: master.broker.addr, queueId: 0 };
    const onSlave: MessageQueue = { ...onMaster, addr: slave.broker.addr };
    const group = 'role-offsets';
    expect(await admin.committedOffset(group, onSlave)).toBeUndefined();

    const latency = async (offset: number): Promise<number> => {
      const t0 = Date.now();
      await waitForAsync(async () => (await admin.committedOffset(group, onSlave)) === offset, `offset ${offset} on the slave`, 2000, 20);
      return Date.now() - t0;
    };
    // A commit request, then a commit carried by a pull.
    await admin.commitOffset(group, onMaster, 7);
    const first = await latency(7);
    const pulled = await admin.pull(onMaster, 7, { group, commitOffset: 9, maxCount: 1 });
    expect(pulled.status).toBe('FOUND');
    const second = await latency(9);
    expect(await admin.committedOffset(group, onMaster)).toBe(9);
    console.log(`slave-role: committed offsets reached the slave in ${first} ms and ${second} ms`);
  });

  // Regression: with only the slave alive the group's retry topic has no
  // route, and each route lookup once counted as a change and asked for
  // another rebalance: start() never returned.
  it('a consumer group started while only the slave is alive gets the messages from it', async () => {
    const c = await cluster({ brokers: 0 });
    const { master, slave } = await pair(c.ns);
    const producer = clients.producer(c.ns);
    for (let i = 0; i < 20; i++) expect((await producer.send(TOPIC, { body: `r${i}` })).status).toBe('SEND_OK');
    await master.broker.close();
    await waitForAsync(async () => (await freshRoute(c.ns, TOPIC)).every((q) => q.addr === slave.broker.addr), 'the route to list only the slave');

    const got = new Set<string>();
    const consumer = clients.consumer({ namesrv: c.ns, group: 'role-after-failover' });
    consumer.subscribe(TOPIC);
    const started = consumer.start((messages) => {
      for (const m of messages) got.add(m.body.toString('utf8'));
    });
    const outcome = await Promise.race([started.then(() => 'started' as const), sleep(5000).then(() => 'stuck' as const)]);
    expect(outcome, 'Consumer.start() with only the slave alive').toBe('started');
    await waitForAsync(() => got.size === 20, 'the 20 messages', 5000);
  });
});
