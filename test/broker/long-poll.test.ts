// Long polling against a real broker: a pull at the end of a queue is held
// and answered as soon as a message arrives (not on a timer), an idle pull is
// held for its whole poll timeout, and the broker counts the pulls it holds.
import { describe, expect, it } from 'vitest';
import type { MessageQueue, PullResult } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { Collector, useClients } from '../helpers/consume.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const TOPIC = 'LongPoll';
/** A held pull must be answered this soon after the send that wakes it is acknowledged. */
const WAKE_MS = 50;

describe('long polling', () => {
  const cluster = useCluster();
  const clients = useClients();

  it('a pull held at the end of an empty queue gets a message sent 300 ms later at once', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    const producer = clients.producer(c.ns);
    const [mq] = await admin.waitForRoute(TOPIC);
    // Warm up the producer's route and connection so the send itself is quick.
    await producer.queues(TOPIC);

    const startedAt = Date.now();
    let answeredAt = 0;
    const pulling = admin.pull(mq!, 0, { pollTimeoutMs: 5000 }).then((r) => {
      answeredAt = Date.now();
      return r;
    });
    await waitUntil(() => broker.stats().heldPulls === 1, 'the pull to be held');
    await sleep(300 - (Date.now() - startedAt));
    expect(answeredAt, 'answered before anything was sent').toBe(0);

    const sendAt = Date.now();
    const sent = await producer.send(TOPIC, { body: 'wake up', tags: 'lp' });
    const ackAt = Date.now();
    const r: PullResult = await pulling;
    const latency = answeredAt - ackAt;
    console.log(`long poll: held ${sendAt - startedAt} ms; answered ${answeredAt - sendAt} ms after the send started, ${latency} ms after its ack (send took ${ackAt - sendAt} ms)`);

    expect(r.status).toBe('FOUND');
    expect(r.messages.map((m) => m.body.toString())).toEqual(['wake up']);
    expect(r.messages[0]!.queueOffset).toBe(sent.queueOffset);
    expect(r.nextOffset).toBe(1);
    expect(answeredAt - startedAt).toBeGreaterThanOrEqual(290);
    expect(latency).toBeLessThanOrEqual(WAKE_MS);
    expect(broker.stats().heldPulls).toBe(0);
  });

  it('a consumer waiting on an empty queue handles a message sent 300 ms later at once', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = c.brokers[0]!;
    const producer = clients.producer(c.ns);
    await producer.queues(TOPIC);
    const collector = new Collector();
    const consumer = clients.consumer({ namesrv: c.ns, group: 'lp-group', pollTimeoutMs: 5000 });
    try {
      consumer.subscribe(TOPIC);
      await consumer.start(collector.handler());
      // Its pull on the topic's queue is parked at the broker.
      await waitUntil(() => broker.stats().heldPulls >= 1, 'the consumer pull to be held');
      await sleep(300);
      expect(collector.deliveries).toEqual([]);
      const sendAt = Date.now();
      await producer.send(TOPIC, { body: 'hello consumer' });
      const ackAt = Date.now();
      await waitUntil(() => collector.deliveries.length === 1, 'the delivery', 5000, 1);
      const latency = collector.deliveries[0]!.at - ackAt;
      console.log(`long poll (consumer): handled ${collector.deliveries[0]!.at - sendAt} ms after the send started, ${latency} ms after its ack`);
      expect(collector.deliveries[0]!.body).toBe('hello consumer');
      expect(latency).toBeLessThanOrEqual(WAKE_MS);
    } finally {
      await consumer.shutdown();
    }
  });

  it('an idle pull is held for its poll timeout, then answered NO_NEW_MESSAGE; without a poll timeout it is answered at once', async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const admin = clients.admin(c.ns);
    const [mq] = await admin.waitForRoute(TOPIC);
    await admin.queueOffsets(mq!); // connect first

    let t = Date.now();
    const held = await admin.pull(mq!, 0, { pollTimeoutMs: 300 });
    const heldMs = Date.now() - t;
    t = Date.now();
    const immediate = await admin.pull(mq!, 0, { pollTimeoutMs: 0 });
    const immediateMs = Date.now() - t;
    console.log(`long poll: idle pull with pollTimeoutMs 300 answered after ${heldMs} ms; with 0 after ${immediateMs} ms`);

    expect(held.status).toBe('NO_NEW_MESSAGE');
    expect(held.messages).toEqual([]);
    expect(held.nextOffset).toBe(0);
    expect(heldMs).toBeGreaterThanOrEqual(280);
    expect(heldMs).toBeLessThan(2000);
    expect(immediate.status).toBe('NO_NEW_MESSAGE');
    expect(immediateMs).toBeLessThan(150);
  });

  it('the broker counts the pulls it holds, and releases each when its queue gets a message', async () => {
    const c = await cluster({ topics: { [TOPIC]: 3 } });
    const broker = c.brokers[0]!;
    const admin = clients.admin(c.ns);
    const producer = clients.producer(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    expect(queues).toHaveLength(3);
    const heldPulls = async (): Promise<number> => (await admin.stats(broker.addr)).heldPulls;
    expect(await heldPulls()).toBe(0);

    // Two pulls wait on queue 0, one on queue 1, one on queue 2.
    const answered: string[] = [];
    const pull = (mq: MessageQueue, name: string): Promise<PullResult> =>
      admin.pull(mq, 0, { pollTimeoutMs: 10_000 }).then((r) => {
        answered.push(name);
        return r;
      });
    const pulls = [pull(queues[0]!, 'q0-a'), pull(queues[0]!, 'q0-b'), pull(queues[1]!, 'q1'), pull(queues[2]!, 'q2')];
    await waitUntil(() => broker.stats().heldPulls === 4, 'four held pulls');
    expect(await heldPulls()).toBe(4);

    const only = (queueId: number) => ({ selector: (qs: readonly MessageQueue[]) => qs.find((q) => q.queueId === queueId)! });
    await producer.send(TOPIC, { body: 'to queue 0' }, only(0));
    await waitUntil(() => answered.length === 2, 'the two pulls of queue 0');
    expect(answered.sort()).toEqual(['q0-a', 'q0-b']);
    expect(broker.stats().heldPulls).toBe(2);
    expect(await heldPulls()).toBe(2);

    await producer.send(TOPIC, { body: 'to queue 2' }, only(2));
    await waitUntil(() => answered.length === 3, 'the pull of queue 2');
    expect(broker.stats().heldPulls).toBe(1);

    await producer.send(TOPIC, { body: 'to queue 1' }, only(1));
    const results = await Promise.all(pulls);
    expect(results.map((r) => r.messages.map((m) => m.body.toString()))).toEqual([['to queue 0'], ['to queue 0'], ['to queue 1'], ['to queue 2']]);
    expect(broker.stats().heldPulls).toBe(0);
    expect(await heldPulls()).toBe(0);
  });
});
