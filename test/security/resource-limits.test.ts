// Topic, queue and group floods against a real broker over TCP: CREATE_TOPIC
// beyond maxTopics and maxQueuesPerTopic, a heartbeat naming 255 groups (each
// would get a retry topic), heartbeats naming new groups beyond maxGroups,
// SEND_BACK naming unknown groups. Each refusal is a LimitExceededError naming
// its limit, counted in BROKER_STATS refusals; nothing of a refused request
// is applied; existing topics and groups keep working and a producer keeps
// sending meanwhile. Topics acknowledged as created are in topics.json.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { LimitExceededError, retryTopic } from '../../src/common/index.js';
import { RequestClient } from '../../src/net/index.js';
import { ConsumeMode, encodeCreateTopic, encodeHeartbeat, encodeSendBack, Opcode, type GroupMembership } from '../../src/protocol/index.js';
import { useCluster } from '../helpers/cluster.js';
import { rejectionOf } from '../helpers/errors.js';
import { waitUntil } from '../helpers/wait.js';

const LIVE = 'LiveTopic';
const TIMEOUT_MS = 10_000;
const FAST_CLIENT = { heartbeatIntervalMs: 300, rebalanceIntervalMs: 500, commitIntervalMs: 100, pollTimeoutMs: 1000 } as const;

function membership(group: string): GroupMembership {
  return { group, mode: ConsumeMode.Clustering, ordered: false, subscriptions: [{ topic: LIVE, tags: [] }] };
}

/** Settles each call: the limit's name for a refusal, 'ok' for success; anything else fails the test. */
async function outcomes(calls: Promise<unknown>[]): Promise<string[]> {
  return Promise.all(
    calls.map((p) =>
      p.then(
        () => 'ok',
        (err: unknown) => {
          if (err instanceof LimitExceededError) return err.limit;
          throw err;
        },
      ),
    ),
  );
}

/** A producer sending to LIVE in the background; stop() returns how many sends failed. */
function keepSending(producer: Producer): { stop(): Promise<{ sent: number; failed: unknown[] }> } {
  let stop = false;
  let sent = 0;
  const failed: unknown[] = [];
  const loop = (async () => {
    while (!stop) {
      try {
        await producer.send(LIVE, { body: `m-${sent}` });
        sent++;
      } catch (err) {
        failed.push(err);
      }
    }
  })();
  return {
    async stop() {
      stop = true;
      await loop;
      return { sent, failed };
    },
  };
}

describe('resource limits of a broker', () => {
  const cluster = useCluster();

  it('CREATE_TOPIC beyond maxTopics and maxQueuesPerTopic is refused and counted; existing topics keep serving; acknowledged topics are in topics.json', async () => {
    const MAX_TOPICS = 24;
    const c = await cluster({ topics: { [LIVE]: 4 }, broker: { maxTopics: MAX_TOPICS, maxQueuesPerTopic: 16 } });
    const broker = c.brokers[0]!;
    const producer = new Producer({ namesrv: c.ns });
    const admin = new Admin({ namesrv: c.ns });
    const client = await RequestClient.connect(broker.addr);
    try {
      const sender = keepSending(producer);
      await waitUntil(() => broker.stats().store.topics > 0, 'store open');
      const before = broker.store.topicCount; // LIVE and the broker's schedule topic
      const FLOOD = 100;
      // Pipelined on one connection, as a flood would be.
      const results = await outcomes(Array.from({ length: FLOOD }, (_, i) => client.call(Opcode.CreateTopic, encodeCreateTopic({ topic: `Flood-${i}`, queueCount: 2 }), TIMEOUT_MS)));
      const created = results.filter((r) => r === 'ok').length;
      expect(created).toBe(MAX_TOPICS - before);
      expect(results.filter((r) => r === 'maxTopics').length).toBe(FLOOD - created);
      expect(broker.store.topicCount).toBe(MAX_TOPICS);
      // A burst shares topics.json writes (each with its fsyncs off the event loop).
      expect(broker.store.topicFileWrites).toBeLessThan(created);
      console.log(`[resource-limits] ${created} topics created by ${FLOOD} pipelined CREATE_TOPICs with ${broker.store.topicFileWrites} topics.json writes; ${FLOOD - created} refused`);

      // Queues: a topic beyond maxQueuesPerTopic is refused; growing within it is not; nothing of the refused one exists.
      const many = await rejectionOf(client.call(Opcode.CreateTopic, encodeCreateTopic({ topic: 'Flood-0', queueCount: 4096 }), TIMEOUT_MS));
      expect(many).toBeInstanceOf(LimitExceededError);
      expect((many as LimitExceededError).limit).toBe('maxQueuesPerTopic');
      expect(broker.store.queueCount('Flood-0')).toBe(2);
      await client.call(Opcode.CreateTopic, encodeCreateTopic({ topic: 'Flood-0', queueCount: 16 }), TIMEOUT_MS);
      expect(broker.store.queueCount('Flood-0')).toBe(16);

      // Counted by name, over the wire.
      const stats = await admin.stats(broker.addr);
      expect(stats.refusals?.maxTopics).toBe(FLOOD - created);
      expect(stats.refusals?.maxQueuesPerTopic).toBe(1);

      // Every acknowledged topic is in topics.json (what a crash leaves), with its queue count.
      const onDisk = JSON.parse(fs.readFileSync(path.join(broker.config.store.dir, 'config', 'topics.json'), 'utf8')) as { topics: { name: string; queueCount: number }[] };
      const byName = new Map(onDisk.topics.map((t) => [t.name, t.queueCount]));
      for (let i = 0; i < created; i++) expect(byName.has(`Flood-${i}`), `Flood-${i} in topics.json`).toBe(true);
      expect(byName.get('Flood-0')).toBe(16);

      const { sent, failed } = await sender.stop();
      expect(failed).toEqual([]);
      expect(sent).toBeGreaterThan(0);
    } finally {
      client.close();
      await producer.shutdown();
      admin.close();
    }
  });

  it('a heartbeat naming 255 groups is refused whole: no group, no retry topic', async () => {
    const c = await cluster({ topics: { [LIVE]: 2 } });
    const broker = c.brokers[0]!;
    const client = await RequestClient.connect(broker.addr);
    try {
      const topicsBefore = broker.store.topicCount;
      const groups = Array.from({ length: 255 }, (_, i) => membership(`g-${i}`));
      const err = await rejectionOf(client.call(Opcode.Heartbeat, encodeHeartbeat({ clientId: 'flooder', groups }), TIMEOUT_MS));
      expect(err).toBeInstanceOf(LimitExceededError);
      expect((err as LimitExceededError).limit).toBe('maxGroupsPerHeartbeat');
      expect(broker.store.topicCount).toBe(topicsBefore);
      expect(broker.stats().groups).toEqual([]);
      expect(broker.stats().refusals?.maxGroupsPerHeartbeat).toBe(1);
      // Within the limit, the same connection is served.
      await client.call(Opcode.Heartbeat, encodeHeartbeat({ clientId: 'flooder', groups: groups.slice(0, 3) }), TIMEOUT_MS);
      expect(broker.store.queueCount(retryTopic('g-2'))).toBe(1);
    } finally {
      client.close();
    }
  });

  it('heartbeats and SEND_BACKs naming new groups beyond maxGroups are refused; known groups keep consuming; a producer keeps sending', async () => {
    const MAX_GROUPS = 8;
    const c = await cluster({ topics: { [LIVE]: 2 }, broker: { maxGroups: MAX_GROUPS } });
    const broker = c.brokers[0]!;
    const producer = new Producer({ namesrv: c.ns });
    const consumer = new Consumer({ namesrv: c.ns, group: 'real', ...FAST_CLIENT });
    const got = new Set<string>();
    consumer.subscribe(LIVE);
    await consumer.start((msgs) => {
      for (const m of msgs) got.add(m.body.toString('utf8'));
    });
    const clients = await Promise.all(Array.from({ length: 4 }, () => RequestClient.connect(broker.addr)));
    try {
      await waitUntil(() => broker.stats().groups.some((g) => g.group === 'real' && g.members.length === 1), 'the real consumer joined');
      const sender = keepSending(producer);
      const topicsBefore = broker.store.topicCount;
      const FLOOD = 60;
      const results = await outcomes(
        Array.from({ length: FLOOD }, (_, i) => clients[i % clients.length]!.call(Opcode.Heartbeat, encodeHeartbeat({ clientId: `c-${i}`, groups: [membership(`flood-${i}`)] }), TIMEOUT_MS)),
      );
      const admitted = results.filter((r) => r === 'ok').length;
      expect(admitted).toBe(MAX_GROUPS - 1); // 'real' is one of them
      expect(results.filter((r) => r === 'maxGroups').length).toBe(FLOOD - admitted);
      expect(broker.store.topicCount).toBe(topicsBefore + admitted); // one retry topic per admitted group, none for the refused

      // A SEND_BACK naming a new group would make its retry and dead-letter topics: refused too.
      const back = await rejectionOf(clients[0]!.call(Opcode.SendBack, encodeSendBack({ group: 'flood-sendback', physicalOffset: 0, maxReconsumeTimes: 1, toDeadLetter: true }), TIMEOUT_MS));
      expect((back as LimitExceededError).limit).toBe('maxGroups');
      expect(broker.store.topicCount).toBe(topicsBefore + admitted);

      // Known groups keep working: an admitted flood group heartbeats again, the real consumer consumes.
      await clients[1]!.call(Opcode.Heartbeat, encodeHeartbeat({ clientId: 'c-again', groups: [membership('flood-0')] }), TIMEOUT_MS);
      const { sent, failed } = await sender.stop();
      expect(failed).toEqual([]);
      await waitUntil(() => got.size === sent, `the real group consumed all ${sent} messages`, 20_000);
      expect(broker.stats().refusals?.maxGroups).toBe(FLOOD - admitted + 1);
    } finally {
      for (const cl of clients) cl.close();
      await consumer.shutdown();
      await producer.shutdown();
    }
  });

  it('heartbeat-driven retry topics stop at maxTopics: refused and counted, existing topics and groups unaffected', async () => {
    const MAX_TOPICS = 10;
    const c = await cluster({ topics: { [LIVE]: 2 }, broker: { maxTopics: MAX_TOPICS } });
    const broker = c.brokers[0]!;
    const producer = new Producer({ namesrv: c.ns });
    const client = await RequestClient.connect(broker.addr);
    try {
      const sender = keepSending(producer);
      const before = broker.store.topicCount;
      const FLOOD = 30;
      const results = await outcomes(Array.from({ length: FLOOD }, (_, i) => client.call(Opcode.Heartbeat, encodeHeartbeat({ clientId: `c-${i}`, groups: [membership(`rt-${i}`)] }), TIMEOUT_MS)));
      const ok = results.filter((r) => r === 'ok').length;
      expect(ok).toBe(MAX_TOPICS - before);
      expect(results.filter((r) => r === 'maxTopics').length).toBe(FLOOD - ok);
      expect(broker.store.topicCount).toBe(MAX_TOPICS);
      // Refused groups were not admitted either: nothing of a refused heartbeat is applied.
      expect(broker.stats().groups.map((g) => g.group).sort()).toEqual(Array.from({ length: ok }, (_, i) => `rt-${i}`).sort());
      expect(broker.stats().refusals?.maxTopics).toBe(FLOOD - ok);
      const { sent, failed } = await sender.stop();
      expect(failed).toEqual([]);
      expect(sent).toBeGreaterThan(0);
    } finally {
      client.close();
      await producer.shutdown();
    }
  });
});
