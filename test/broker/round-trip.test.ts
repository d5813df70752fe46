// End to end over real brokers: 5000 messages (single sends and batches of
// 100, with and without tags, keys and properties, many sends in flight) to
// an 8-queue topic spread over 2 brokers; one consumer gets each exactly
// once, intact and in queue order, and commits everything it consumed.
import { describe, expect, it } from 'vitest';
import type { Message, SendResult } from '../../src/client/index.js';
import { decodeMessageId, encodeMessageId } from '../../src/common/index.js';
import { useCluster } from '../helpers/cluster.js';
import { Collector, queueKey, useClients } from '../helpers/consume.js';
import { sleep } from '../helpers/wait.js';

const TOPIC = 'RoundTrip';
const GROUP = 'rt-group';
const N = 5000;
const BATCH = 100;
const BATCHES = 30; // 3000 messages in batches, 2000 single sends
const IN_FLIGHT = 64;

interface Sent {
  index: number;
  message: Message;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  messageId: string;
  batched: boolean;
}

function messageFor(i: number): Message {
  const m: Message = { body: `rt-${i}|${'é中🙂'.repeat(i % 5)}${'x'.repeat((i * 37) % 400)}` };
  const t = i % 4;
  if (t === 0) m.tags = 'TagA';
  else if (t === 1) m.tags = 'TagB';
  else if (t === 2) m.tags = '标签';
  const k = i % 3;
  if (k === 0) m.keys = `key-${i}`;
  else if (k === 1) m.keys = [`key-${i}`, `shared-${i % 10}`];
  if (i % 2 === 0) m.properties = { seq: String(i), 'with space': 'v = 1 = 2', empty: '', unicode: 'é中文🙂' };
  return m;
}

/** The properties a consumer sees: the user's, plus TAGS and KEYS. */
function expectedProperties(m: Message): Record<string, string> {
  const p: Record<string, string> = { ...(m.properties ?? {}) };
  if (m.tags !== undefined) p.TAGS = m.tags;
  const keys = m.keys === undefined ? [] : typeof m.keys === 'string' ? [m.keys] : [...m.keys];
  if (keys.length > 0) p.KEYS = keys.join(' ');
  return p;
}

describe('round trip over 2 brokers', () => {
  const cluster = useCluster();
  const clients = useClients();

  it(`${N} messages (singles and batches, ${IN_FLIGHT} sends in flight) are consumed exactly once, intact and in queue order; offsets are committed`, async () => {
    const c = await cluster({ brokers: 2, topics: { [TOPIC]: 4 } });
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    expect(queues.map(queueKey)).toEqual(['broker-a/0', 'broker-a/1', 'broker-a/2', 'broker-a/3', 'broker-b/0', 'broker-b/1', 'broker-b/2', 'broker-b/3']);

    const collector = new Collector();
    const consumer = clients.consumer({ namesrv: c.ns, group: GROUP });
    const producer = clients.producer(c.ns);
    try {
      consumer.subscribe(TOPIC, '*');
      await consumer.start(collector.handler());

      // The sends: 30 batches of 100 and 2000 singles, interleaved.
      const units: number[][] = [];
      let next = 0;
      const unitCount = N - BATCHES * BATCH + BATCHES;
      const batchAt = new Set(Array.from({ length: BATCHES }, (_, b) => Math.floor(((b + 0.5) * unitCount) / BATCHES)));
      for (let u = 0; u < unitCount; u++) units.push(batchAt.has(u) ? Array.from({ length: BATCH }, () => next++) : [next++]);
      expect(next).toBe(N);
      const sent: Sent[] = new Array<Sent>(N);
      const byBody = new Map<string, Sent>();
      let cursor = 0;
      let maxInFlight = 0;
      let inFlight = 0;
      const started = Date.now();
      const sender = async (): Promise<void> => {
        while (cursor < units.length) {
          const unit = units[cursor++]!;
          const msgs = unit.map(messageFor);
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          let r: SendResult;
          try {
            r = await producer.send(TOPIC, unit.length === 1 ? msgs[0]! : msgs);
          } finally {
            inFlight--;
          }
          expect(r.count).toBe(unit.length);
          expect(r.messageIds).toHaveLength(unit.length);
          unit.forEach((i, j) => {
            const s: Sent = { index: i, message: msgs[j]!, brokerName: r.brokerName, queueId: r.queueId, queueOffset: r.queueOffset + j, messageId: r.messageIds[j]!, batched: unit.length > 1 };
            sent[i] = s;
            byBody.set(msgs[j]!.body as string, s);
          });
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
      const sendMs = Date.now() - started;
      expect(maxInFlight).toBe(IN_FLIGHT);
      expect(byBody.size).toBe(N);

      // The acks: every queue position handed out once, with no gap.
      const sentOffsets = new Map<string, number[]>();
      for (const s of sent) {
        const k = queueKey(s);
        const list = sentOffsets.get(k) ?? [];
        list.push(s.queueOffset);
        sentOffsets.set(k, list);
      }
      expect([...sentOffsets.keys()].sort()).toEqual(queues.map(queueKey));
      for (const [k, list] of sentOffsets) {
        list.sort((a, b) => a - b);
        expect(list, `acked offsets of ${k}`).toEqual(list.map((_, i) => i));
      }
      expect(new Set(sent.map((s) => s.messageId)).size).toBe(N);

      await collector.waitForAll([...byBody.keys()], 20_000);
      const consumeMs = Date.now() - started;
      await sleep(300); // room for a (wrong) second delivery to show up
      await consumer.shutdown();
      console.log(`round trip: ${N} messages sent in ${sendMs} ms (max ${maxInFlight} in flight), all consumed after ${consumeMs} ms; ${collector.duplicates} duplicates`);

      // Exactly once, fields intact.
      expect(collector.duplicates).toBe(0);
      expect(collector.deliveries).toHaveLength(N);
      for (const d of collector.deliveries) {
        const s = byBody.get(d.body);
        if (s === undefined) throw new Error(`consumed a message never sent: ${d.body.slice(0, 40)}`);
        const where = `message ${s.index}`;
        expect(d.topic, where).toBe(TOPIC);
        expect(d.storeTopic, where).toBe(TOPIC);
        expect(d.brokerName, where).toBe(s.brokerName);
        expect(d.queueId, where).toBe(s.queueId);
        expect(d.queueOffset, where).toBe(s.queueOffset);
        expect(d.messageId, where).toBe(s.messageId);
        expect(d.tags, where).toBe(s.message.tags);
        expect(d.keys, where).toEqual(s.message.keys === undefined ? [] : typeof s.message.keys === 'string' ? [s.message.keys] : s.message.keys);
        expect(d.properties, where).toEqual(expectedProperties(s.message));
        expect(d.reconsumeTimes, where).toBe(0);
      }

      // In queue order: each queue's deliveries are 0, 1, 2, ... with no gap.
      const delivered = collector.offsetsByQueue();
      expect([...delivered.keys()].sort()).toEqual(queues.map(queueKey));
      for (const [k, offsets] of delivered) {
        expect(offsets, `delivery order of ${k}`).toEqual(offsets.map((_, i) => i));
        expect(offsets.length).toBe(sentOffsets.get(k)!.length);
      }

      // After a clean shutdown, the group's committed offset is the end of every queue.
      for (const mq of queues) {
        const { maxOffset } = await admin.queueOffsets(mq);
        expect(maxOffset, queueKey(mq)).toBe(sentOffsets.get(queueKey(mq))!.length);
        expect(await admin.committedOffset(GROUP, mq), `committed offset of ${queueKey(mq)}`).toBe(maxOffset);
      }
      expect(consumer.errors.filter((e) => !/route|NoRoute/i.test(e.message)), 'consumer errors').toEqual([]);

      // Lookups: by key (a unique key, and the first of two keys) and by message id.
      const picks = [0, 3, 1, 4, sent.find((s) => s.batched && s.index % 3 === 0)!.index, sent.find((s) => s.batched && s.index % 3 === 1)!.index, N - 1 - ((N - 1) % 3)];
      for (const i of picks) {
        const s = sent[i]!;
        const found = await admin.queryByKey(TOPIC, `key-${i}`);
        expect(found.map((m) => m.body.toString('utf8')), `query by key-${i}`).toEqual([s.message.body]);
        expect(found[0]!.queueOffset).toBe(s.queueOffset);
        expect(found[0]!.brokerName).toBe(s.brokerName);
      }
      // A key shared by several messages finds several (up to maxCount per broker).
      const shared = await admin.queryByKey(TOPIC, 'shared-4', 1000);
      const expectShared = sent.filter((s) => s.index % 3 === 1 && s.index % 10 === 4).map((s) => s.message.body as string);
      expect(shared.map((m) => m.body.toString('utf8')).sort()).toEqual(expectShared.sort());
      expect(await admin.queryByKey(TOPIC, 'no-such-key')).toEqual([]);

      for (const i of [...picks, 1234, 4321]) {
        const s = sent[i]!;
        const m = await admin.queryById(s.messageId);
        expect(m, `query by id of message ${i}`).toBeDefined();
        expect(m!.body.toString('utf8')).toBe(s.message.body);
        expect(m!.topic).toBe(TOPIC);
        expect(m!.queueId).toBe(s.queueId);
        expect(m!.queueOffset).toBe(s.queueOffset);
        expect(m!.tags).toBe(s.message.tags);
        expect(m!.messageId).toBe(s.messageId);
      }
      // An id naming a position past the end of the broker's log finds nothing.
      const { host, port } = decodeMessageId(sent[0]!.messageId);
      expect(await admin.queryById(encodeMessageId(host, port, 2 ** 40))).toBeUndefined();
    } finally {
      producer.shutdown();
      await consumer.shutdown();
    }
  });
});
