// Rebalancing of a clustering group against real brokers: members join and
// leave while a producer keeps sending; after each change the queues are
// split evenly and disjointly (RocketMQ's averagely allocation over the
// sorted client ids) and nothing sent is lost. A member that dies (SIGKILL)
// or freezes (SIGSTOP) without leaving is replaced by the survivors.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Consumer, MessageQueue } from '../../src/client/index.js';
import { FAST_BROKER, useCluster } from '../helpers/cluster.js';
import { spawnTs, type RunningChild } from '../helpers/child.js';
import { assignedKeys, Collector, expectedSplit, FAST_CLIENT, queueKey, useClients, waitStable } from '../helpers/consume.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'consumer-child.ts');

/** Checks a set of assignments: disjoint, covering every queue, sizes within 1, and exactly the expected split. */
function checkSplit(queues: readonly MessageQueue[], got: Map<string, string[]>): string | undefined {
  const expected = expectedSplit(queues, [...got.keys()]);
  const owner = new Map<string, string>();
  for (const [id, list] of got) {
    for (const q of list) {
      const other = owner.get(q);
      if (other !== undefined) return `${q} is assigned to both ${other} and ${id}`;
      owner.set(q, id);
    }
  }
  if (owner.size !== queues.length) return `${queues.length - owner.size} queues are unassigned: ${JSON.stringify(Object.fromEntries(got))}`;
  const sizes = [...got.values()].map((l) => l.length);
  if (Math.max(...sizes) - Math.min(...sizes) > 1) return `uneven split ${sizes.join('/')}`;
  for (const [id, list] of got) {
    if (JSON.stringify(list) !== JSON.stringify(expected.get(id))) return `${id} has ${list.join(',')}, expected ${expected.get(id)!.join(',')}`;
  }
  return undefined;
}

describe('rebalancing a clustering group', () => {
  const cluster = useCluster();
  const clients = useClients();

  it('members join (1, 2, 3) and leave (3, 2, 1) under load: 12 queues split evenly and disjointly; every message consumed', async () => {
    const TOPIC = 'Rebalance';
    const GROUP = 'rb-group';
    const c = await cluster({ brokers: 2, topics: { [TOPIC]: 6 } });
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    expect(queues).toHaveLength(12);

    const producer = clients.producer(c.ns);
    const sent: string[] = [];
    let producing = true;
    // Four senders, each pausing 2 ms between sends.
    const production = Promise.all(
      [0, 1, 2, 3].map(async (s) => {
        for (let i = 0; producing; i++) {
          const body = `rb-${s}-${i}`;
          await producer.send(TOPIC, { body });
          sent.push(body);
          await sleep(2);
        }
      }),
    );

    const collector = new Collector();
    const live = new Map<string, Consumer>();
    const settleTimes: string[] = [];
    // Join order differs from sorted order: allocation must follow the sorted ids.
    const joinOrder = ['member-b', 'member-c', 'member-a'];

    const settle = async (label: string): Promise<void> => {
      const t = Date.now();
      const snapshot = () => new Map([...live].map(([id, consumer]) => [id, assignedKeys(consumer.assignment(), TOPIC)]));
      await waitStable(() => checkSplit(queues, snapshot()), `assignments to settle after ${label}`, 10_000, 4);
      settleTimes.push(`${label}: ${Date.now() - t} ms`);
      const got = snapshot();
      // The same again, as plain assertions.
      const all = [...got.values()].flat();
      expect(new Set(all).size, 'no queue in two assignments').toBe(all.length);
      expect(all.sort(), 'the union covers every queue').toEqual(queues.map(queueKey).sort());
      const sizes = [...got.values()].map((l) => l.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(got).toEqual(expectedSplit(queues, [...live.keys()]));
      // Every member is consuming: each gets new messages after the change.
      const seen = new Map([...live.keys()].map((id) => [id, collector.deliveries.filter((d) => d.consumer === id).length]));
      await waitUntil(() => [...live.keys()].every((id) => collector.deliveries.filter((d) => d.consumer === id).length > seen.get(id)!), `every member to consume after ${label}`, 10_000, 20);
      await sleep(300);
    };

    try {
      for (const id of joinOrder) {
        const consumer = clients.consumer({ namesrv: c.ns, group: GROUP, clientId: id });
        consumer.subscribe(TOPIC);
        // A handler that takes a moment, so that rebalances find batches in flight.
        await consumer.start(collector.handler(id, () => sleep(3)));
        live.set(id, consumer);
        await settle(`${id} joined (${live.size} members)`);
      }
      // Leave in reverse: 3 -> 2 -> 1.
      for (const id of [...joinOrder].reverse().slice(0, 2)) {
        await live.get(id)!.shutdown();
        live.delete(id);
        await settle(`${id} left (${live.size} members)`);
      }
      producing = false;
      await production;
      await collector.waitForAll(sent, 15_000, 'every sent message');
      const sentSet = new Set(sent);
      expect(collector.deliveries.filter((d) => !sentSet.has(d.body))).toEqual([]);
      console.log(`rebalance: ${sent.length} sent, ${collector.deliveries.length} deliveries, ${collector.distinct} distinct, ${collector.duplicates} duplicates; settled ${settleTimes.join('; ')}`);
      expect(collector.distinct).toBe(sent.length);
    } finally {
      producing = false;
      await production.catch(() => undefined);
      for (const consumer of live.values()) await consumer.shutdown();
      producer.shutdown();
    }
  });

  /**
   * A child process runs one member ('a-child', first in sorted order: 4 of
   * the 7 queues), this process the other ('b-parent': 3). The child is then
   * stopped without leaving the group; the parent must end up with all 7.
   */
  async function survivorTakesOver(how: 'SIGKILL' | 'SIGSTOP'): Promise<number> {
    const TOPIC = `Takeover${how}`;
    const GROUP = `takeover-${how.toLowerCase()}`;
    const c = await cluster({ topics: { [TOPIC]: 7 } });
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    expect(queues).toHaveLength(7);
    const collector = new Collector();
    const parent = clients.consumer({ namesrv: c.ns, group: GROUP, clientId: 'b-parent' });
    parent.subscribe(TOPIC);
    await parent.start(collector.handler('b-parent'));
    expect(assignedKeys(parent.assignment(), TOPIC)).toHaveLength(7);

    let childAssignment: string[] = [];
    let child: RunningChild | undefined;
    try {
      child = spawnTs(CHILD, [c.ns, GROUP, TOPIC, 'a-child'], {
        onLine: (line) => {
          const msg = JSON.parse(line) as { assignment?: string[] };
          if (msg.assignment !== undefined) childAssignment = msg.assignment;
        },
      });
      const running = child;
      const early = running.exited.then(() => {
        throw new Error(`consumer child exited early:\n${running.stderr()}`);
      });
      await Promise.race([
        early,
        waitStable(() => checkSplit(queues, new Map([['a-child', childAssignment], ['b-parent', assignedKeys(parent.assignment(), TOPIC)]])), 'the child to take its share', 15_000, 4),
      ]);
      // 7 queues over 2 members: the remainder goes to the first in sorted order.
      expect(childAssignment).toEqual(['broker-a/0', 'broker-a/1', 'broker-a/2', 'broker-a/3']);
      expect(assignedKeys(parent.assignment(), TOPIC)).toEqual(['broker-a/4', 'broker-a/5', 'broker-a/6']);

      running.child.kill(how);
      const stoppedAt = Date.now();
      await waitUntil(() => assignedKeys(parent.assignment(), TOPIC).length === 7, 'the survivor to take every queue', 10_000, 5);
      const takeoverMs = Date.now() - stoppedAt;
      expect(assignedKeys(parent.assignment(), TOPIC)).toEqual(queues.map(queueKey).sort());

      // The survivor really consumes the queues it took over.
      const producer = clients.producer(c.ns);
      const bodies = queues.map((q) => `after-${how}-${q.queueId}`);
      await Promise.all(queues.map((q, i) => producer.send(TOPIC, { body: bodies[i]! }, { selector: (qs) => qs.find((x) => x.queueId === q.queueId)! })));
      await collector.waitForAll(bodies, 5000, 'messages on every queue');
      expect(new Set(collector.deliveries.map((d) => d.queueId)).size).toBe(7);
      producer.shutdown();
      return takeoverMs;
    } finally {
      if (child !== undefined && child.child.exitCode === null && child.child.signalCode !== 'SIGKILL') child.child.kill('SIGKILL');
      await child?.exited;
      await parent.shutdown();
    }
  }

  it('a member killed (SIGKILL) without leaving: the survivor takes all its queues within consumer timeout + rebalance interval', async () => {
    const ms = await survivorTakesOver('SIGKILL');
    console.log(`rebalance: survivor took over ${ms} ms after SIGKILL (the broker sees the connections close)`);
    expect(ms).toBeLessThanOrEqual(FAST_BROKER.consumerTimeoutMs! + FAST_CLIENT.rebalanceIntervalMs);
  });

  it('a member frozen (SIGSTOP), its connections open: it times out and the survivor takes all its queues within consumer timeout + rebalance interval', async () => {
    const ms = await survivorTakesOver('SIGSTOP');
    console.log(`rebalance: survivor took over ${ms} ms after SIGSTOP (consumer timeout ${FAST_BROKER.consumerTimeoutMs} ms)`);
    // Not before the heartbeat timeout (the last heartbeat was at most one interval before the stop)...
    expect(ms).toBeGreaterThanOrEqual(FAST_BROKER.consumerTimeoutMs! - FAST_CLIENT.heartbeatIntervalMs - 100);
    // ...and not much after it.
    expect(ms).toBeLessThanOrEqual(FAST_BROKER.consumerTimeoutMs! + FAST_CLIENT.rebalanceIntervalMs);
  });
});
