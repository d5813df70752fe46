// Re-delivery and dead letters against a real broker: a message the handler
// keeps failing comes back exactly maxReconsumeTimes times (reconsumeTimes
// 1, 2, ..., its original topic shown), after growing delays, then lands in
// the group's dead-letter topic; everything else is consumed meanwhile. A
// message that fails a few times and then succeeds is never dead-lettered,
// and a throwing handler counts as a retry.
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type ConsumerOptions, type MessageQueue, type ReceivedMessage } from '../../src/client/index.js';
import { UnknownTopicError, deadLetterTopic, PROPERTY_ORIGIN_MESSAGE_ID, retryTopic } from '../../src/common/index.js';
import { useCluster, type TestCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';

/** The cluster helper's broker retry delays (FAST_BROKER.retryDelaysMs). */
const DELAYS = [100, 200, 300, 400, 500];

const FAST_CLIENT = { heartbeatIntervalMs: 300, rebalanceIntervalMs: 500, commitIntervalMs: 100, pollTimeoutMs: 1000 } as const;

interface Delivery {
  body: string;
  reconsumeTimes: number;
  topic: string;
  storeTopic: string;
  at: number;
}

describe('retry and dead letter', () => {
  const startCluster = useCluster();
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  function clients(cluster: TestCluster, options: Partial<ConsumerOptions> & { group: string }) {
    const producer = new Producer({ namesrv: cluster.ns });
    const admin = new Admin({ namesrv: cluster.ns });
    const consumer = new Consumer({ namesrv: cluster.ns, batchSize: 1, ...FAST_CLIENT, ...options });
    cleanup.push(
      () => producer.shutdown(),
      () => admin.close(),
    );
    cleanup.push(() => consumer.shutdown());
    return { producer, admin, consumer };
  }

  function dlqQueue(cluster: TestCluster, group: string): MessageQueue {
    const b = cluster.brokers[0]!;
    return { topic: deadLetterTopic(group), brokerName: b.config.brokerName, addr: b.addr, queueId: 0 };
  }

  /** Everything in queue 0 of the group's dead-letter topic (empty if the topic was never created). */
  async function readDlq(admin: Admin, cluster: TestCluster, group: string): Promise<ReceivedMessage[]> {
    const mq = dlqQueue(cluster, group);
    const out: ReceivedMessage[] = [];
    let offset = 0;
    for (;;) {
      let r;
      try {
        r = await admin.pull(mq, offset, { maxCount: 64 });
      } catch (err) {
        if (err instanceof UnknownTopicError) return out;
        throw err;
      }
      if (r.status !== 'FOUND') return out;
      out.push(...r.messages);
      offset = r.nextOffset;
    }
  }

  async function poisonRun(maxReconsumeTimes: number | undefined): Promise<void> {
    const topic = 'RetryDlqT';
    const group = maxReconsumeTimes === undefined ? 'retry_dlq_default' : `retry_dlq_max${maxReconsumeTimes}`;
    const expectedRedeliveries = maxReconsumeTimes ?? 5;
    const cluster = await startCluster({ topics: { [topic]: 4 } });
    const broker = cluster.brokers[0]!;
    const { producer, admin, consumer } = clients(cluster, maxReconsumeTimes === undefined ? { group } : { group, maxReconsumeTimes });

    const deliveries: Delivery[] = [];
    const okSeen = new Map<string, number>();
    consumer.subscribe(topic);
    await consumer.start((msgs) => {
      expect(msgs.length).toBe(1);
      const m = msgs[0]!;
      const body = m.body.toString();
      deliveries.push({ body, reconsumeTimes: m.reconsumeTimes, topic: m.topic, storeTopic: m.storeTopic, at: Date.now() });
      if (body === 'poison') return 'retry';
      okSeen.set(body, (okSeen.get(body) ?? 0) + 1);
      return 'success';
    });

    const sentOk: string[] = [];
    for (let i = 0; i < 20; i++) {
      await producer.send(topic, { body: `ok-${i}` });
      sentOk.push(`ok-${i}`);
    }
    const poison = await producer.send(topic, { body: 'poison', keys: 'poison-key', tags: 'bad', properties: { trace: 'p1' } });
    // Keep producing while the poison message goes round: consumption must go on.
    const sentDuringRetries: string[] = [];
    for (let i = 0; i < 30; i++) {
      await sleep(40);
      await producer.send(topic, { body: `later-${i}` });
      sentDuringRetries.push(`later-${i}`);
    }
    sentOk.push(...sentDuringRetries);

    const dlq = dlqQueue(cluster, group);
    await waitUntil(() => deliveries.filter((d) => d.body === 'poison').length >= expectedRedeliveries + 1, 'every poison delivery', 20_000, 10);
    // The dead-letter copy appears right after the last failed delivery.
    let dead: ReceivedMessage[] = [];
    const deadline = Date.now() + 10_000;
    while (dead.length === 0 && Date.now() < deadline) {
      dead = await readDlq(admin, cluster, group);
      if (dead.length === 0) await sleep(20);
    }
    await waitUntil(() => sentOk.every((b) => okSeen.has(b)), 'every other message consumed', 10_000, 10);
    // No further delivery of the poison message after it was dead-lettered.
    await sleep(DELAYS[DELAYS.length - 1]! * 2);

    const poisonDeliveries = deliveries.filter((d) => d.body === 'poison');
    expect(poisonDeliveries.map((d) => d.reconsumeTimes)).toEqual(Array.from({ length: expectedRedeliveries + 1 }, (_, i) => i));
    for (const d of poisonDeliveries) expect(d.topic).toBe(topic);
    expect(poisonDeliveries[0]!.storeTopic).toBe(topic);
    for (const d of poisonDeliveries.slice(1)) expect(d.storeTopic).toBe(retryTopic(group));

    // Gaps between deliveries follow the delay levels: at least the level's delay, and growing.
    const gaps = poisonDeliveries.slice(1).map((d, i) => d.at - poisonDeliveries[i]!.at);
    console.log(`[retry-dlq] group ${group}: poison gaps ${gaps.join(', ')} ms (delays ${DELAYS.slice(0, gaps.length).join(', ')})`);
    gaps.forEach((g, i) => {
      expect(g, `gap before re-delivery ${i + 1}`).toBeGreaterThanOrEqual(DELAYS[i]! - 15);
      expect(g, `gap before re-delivery ${i + 1}`).toBeLessThan(DELAYS[i]! + 1500);
      // Growing, give or take scheduling noise (consecutive levels differ by 100 ms).
      if (i > 0) expect(g, `gap ${i + 1} vs gap ${i}`).toBeGreaterThanOrEqual(gaps[i - 1]! - 100);
    });

    // Exactly one dead-letter copy: the original message, its origin recorded.
    expect(dead.length).toBe(1);
    const d = dead[0]!;
    expect(d.body.toString()).toBe('poison');
    expect(d.storeTopic).toBe(deadLetterTopic(group));
    expect(d.topic).toBe(topic);
    expect(d.tags).toBe('bad');
    expect(d.keys).toEqual(['poison-key']);
    expect(d.properties.trace).toBe('p1');
    expect(d.properties[PROPERTY_ORIGIN_MESSAGE_ID]).toBe(poison.messageId);
    expect(d.reconsumeTimes).toBeGreaterThanOrEqual(expectedRedeliveries);
    expect((await admin.queueOffsets(dlq)).maxOffset).toBe(1);

    // Every other message was consumed, each exactly once (one consumer, no rebalance), poison or not.
    for (const b of sentOk) expect(okSeen.get(b), b).toBe(1);
    // Messages sent while the poison one was being retried were consumed before it was dead-lettered.
    const lastPoisonAt = poisonDeliveries[poisonDeliveries.length - 1]!.at;
    const laterConsumedBeforeDlq = deliveries.filter((x) => x.body.startsWith('later-') && x.at < lastPoisonAt).length;
    expect(laterConsumedBeforeDlq).toBeGreaterThanOrEqual(3);

    const stats = broker.stats();
    expect(stats.retried).toBe(expectedRedeliveries);
    expect(stats.deadLettered).toBe(1);
  }

  it('a message failing forever is re-delivered 5 times (broker default) with growing delays, then dead-lettered', async () => {
    await poisonRun(undefined);
  });

  it('the consumer option maxReconsumeTimes: 2 caps re-deliveries at 2', async () => {
    await poisonRun(2);
  });

  it('a message that fails twice and then succeeds is consumed and never dead-lettered', async () => {
    const topic = 'RetryFlaky';
    const group = 'retry_flaky';
    const cluster = await startCluster({ topics: { [topic]: 2 } });
    const { producer, admin, consumer } = clients(cluster, { group });
    const attempts = new Map<string, number[]>();
    consumer.subscribe(topic);
    await consumer.start(([m]) => {
      const body = m!.body.toString();
      const list = attempts.get(body) ?? [];
      list.push(m!.reconsumeTimes);
      attempts.set(body, list);
      if (body === 'flaky' && list.length <= 2) return 'retry';
      return undefined; // void counts as success
    });
    await producer.send(topic, { body: 'flaky' });
    for (let i = 0; i < 10; i++) await producer.send(topic, { body: `fine-${i}` });
    await waitUntil(() => (attempts.get('flaky')?.length ?? 0) >= 3, 'the third delivery', 10_000, 10);
    await waitUntil(() => [...Array(10).keys()].every((i) => attempts.has(`fine-${i}`)), 'the other messages', 10_000, 10);
    await sleep(1500); // longer than every remaining delay level: nothing more may come

    expect(attempts.get('flaky')).toEqual([0, 1, 2]);
    for (let i = 0; i < 10; i++) expect(attempts.get(`fine-${i}`)).toEqual([0]);
    expect(await readDlq(admin, cluster, group)).toEqual([]);
    expect(cluster.brokers[0]!.stats().deadLettered).toBe(0);
    expect(cluster.brokers[0]!.stats().retried).toBe(2);
  });

  it('a handler that throws counts as a retry (and throwing forever dead-letters)', async () => {
    const topic = 'RetryThrow';
    const group = 'retry_throw';
    const cluster = await startCluster({ topics: { [topic]: 2 } });
    const { producer, admin, consumer } = clients(cluster, { group, maxReconsumeTimes: 1 });
    const seen = new Map<string, number[]>();
    consumer.subscribe(topic);
    await consumer.start(async ([m]) => {
      const body = m!.body.toString();
      const list = seen.get(body) ?? [];
      list.push(m!.reconsumeTimes);
      seen.set(body, list);
      await sleep(1);
      if (body === 'throw-once' && list.length === 1) throw new Error('boom once');
      if (body === 'throw-always') throw new Error('boom always');
      return 'success' as const;
    });
    await producer.send(topic, { body: 'throw-once' });
    await producer.send(topic, { body: 'throw-always' });
    await producer.send(topic, { body: 'plain' });

    let dead: ReceivedMessage[] = [];
    await waitUntil(() => (seen.get('throw-once')?.length ?? 0) >= 2 && (seen.get('throw-always')?.length ?? 0) >= 2, 're-deliveries', 10_000, 10);
    const deadline = Date.now() + 5000;
    while (dead.length === 0 && Date.now() < deadline) {
      dead = await readDlq(admin, cluster, group);
      await sleep(20);
    }
    await sleep(800);

    expect(seen.get('throw-once')).toEqual([0, 1]);
    expect(seen.get('throw-always')).toEqual([0, 1]);
    expect(seen.get('plain')).toEqual([0]);
    dead = await readDlq(admin, cluster, group);
    expect(dead.map((m) => m.body.toString())).toEqual(['throw-always']);
    expect(consumer.errors.some((e) => e.message === 'boom once')).toBe(true);
    expect(consumer.errors.some((e) => e.message === 'boom always')).toBe(true);
  });
});
