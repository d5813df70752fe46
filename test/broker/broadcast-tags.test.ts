// Broadcasting (every member of the group gets every message) and tag
// filtering (a subscription to 'a || b' gets exactly the messages tagged a or
// b; the broker already leaves the others out of its pull answers).
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { Collector, queueKey, useClients } from '../helpers/consume.js';
import { sleep } from '../helpers/wait.js';

describe('broadcasting', () => {
  const cluster = useCluster();
  const clients = useClients();

  it('two members of one broadcasting group each receive every message once', async () => {
    const TOPIC = 'Broadcast';
    const GROUP = 'bc-group';
    const c = await cluster({ brokers: 2, topics: { [TOPIC]: 2 } });
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    expect(queues).toHaveLength(4);
    const collector = new Collector();
    const members = ['bc-1', 'bc-2'].map((clientId) => clients.consumer({ namesrv: c.ns, group: GROUP, clientId, mode: 'broadcasting' }));
    const producer = clients.producer(c.ns);
    try {
      for (const m of members) {
        m.subscribe(TOPIC);
        await m.start(collector.handler(m.clientId));
      }
      // Each member reads every queue: broadcasting does not split.
      for (const m of members) expect(m.assignment().map(queueKey).sort()).toEqual(queues.map(queueKey).sort());

      const bodies = Array.from({ length: 400 }, (_, i) => `bc-${i}`);
      for (let i = 0; i < bodies.length; i += 20) await producer.send(TOPIC, bodies.slice(i, i + 20).map((body) => ({ body })));
      await sleep(0);
      const perMember = (id: string) => collector.deliveries.filter((d) => d.consumer === id);
      const deadline = Date.now() + 10_000;
      while (members.some((m) => new Set(perMember(m.clientId).map((d) => d.body)).size < bodies.length)) {
        if (Date.now() > deadline) throw new Error(`broadcast incomplete: ${members.map((m) => `${m.clientId} ${perMember(m.clientId).length}`).join(', ')}`);
        await sleep(20);
      }
      await sleep(300); // room for (wrong) extra deliveries
      for (const m of members) {
        const got = perMember(m.clientId).map((d) => d.body);
        expect(got.length, `${m.clientId} deliveries`).toBe(bodies.length);
        expect([...got].sort()).toEqual([...bodies].sort());
      }
      console.log(`broadcast: ${bodies.length} messages, ${members.map((m) => `${m.clientId} got ${perMember(m.clientId).length}`).join(', ')}`);
      // Each member keeps its own progress; the group as such commits nothing.
      for (const m of members) await m.shutdown();
      for (const mq of queues) {
        const { maxOffset } = await admin.queueOffsets(mq);
        for (const m of members) expect(await admin.committedOffset(`${GROUP}@${m.clientId}`, mq), `${m.clientId} on ${queueKey(mq)}`).toBe(maxOffset);
        expect(await admin.committedOffset(GROUP, mq)).toBeUndefined();
      }
    } finally {
      producer.shutdown();
      for (const m of members) await m.shutdown();
    }
  });
});

describe('tag filtering', () => {
  const cluster = useCluster();
  const clients = useClients();

  const TAGS = ['a', 'b', 'c', undefined, 'ab', 'A'] as const;

  it("a consumer subscribed to 'a || b' gets exactly the messages tagged a or b", async () => {
    const TOPIC = 'Tags';
    const c = await cluster({ topics: { [TOPIC]: 4 } });
    const admin = clients.admin(c.ns);
    const queues = await admin.waitForRoute(TOPIC);
    const producer = clients.producer(c.ns);
    const messages: Message[] = Array.from({ length: 600 }, (_, i) => {
      const tag = TAGS[i % TAGS.length];
      return tag === undefined ? { body: `tag-${i}-none` } : { body: `tag-${i}-${tag}`, tags: tag };
    });
    for (let i = 0; i < messages.length; i += 30) await producer.send(TOPIC, messages.slice(i, i + 30));
    const wanted = messages.filter((m) => m.tags === 'a' || m.tags === 'b').map((m) => m.body as string);
    expect(wanted).toHaveLength(200);

    const filtered = new Collector();
    const everything = new Collector();
    const tagged = clients.consumer({ namesrv: c.ns, group: 'tags-ab' });
    const all = clients.consumer({ namesrv: c.ns, group: 'tags-all' });
    try {
      tagged.subscribe(TOPIC, 'a || b');
      all.subscribe(TOPIC, '*');
      await tagged.start(filtered.handler('a||b'));
      await all.start(everything.handler('*'));
      await filtered.waitForAll(wanted, 10_000, "the messages tagged 'a' or 'b'");
      await everything.waitForAll(messages.map((m) => m.body as string), 10_000, 'every message');
      await sleep(300); // room for anything that should not come

      const seenTags = new Set(filtered.deliveries.map((d) => String(d.tags)));
      console.log(`tags: 'a || b' consumer saw tags ${[...seenTags].sort().join(', ')} (${filtered.deliveries.length} messages); '*' consumer saw ${everything.deliveries.length}`);
      expect([...seenTags].sort()).toEqual(['a', 'b']);
      expect(filtered.deliveries.map((d) => d.body).sort()).toEqual([...wanted].sort());
      expect(filtered.duplicates).toBe(0);
      expect(everything.deliveries).toHaveLength(messages.length);
      // The filtered consumer still moved past the messages it does not want: its offsets reach the end.
      await tagged.shutdown();
      for (const mq of queues) {
        expect(await admin.committedOffset('tags-ab', mq), queueKey(mq)).toBe((await admin.queueOffsets(mq)).maxOffset);
      }
    } finally {
      await tagged.shutdown();
      await all.shutdown();
      producer.shutdown();
    }
  });

  it('the broker filters: a pull with tags returns only matching messages and skips the rest', async () => {
    const TOPIC = 'TagPull';
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const admin = clients.admin(c.ns);
    const [mq] = await admin.waitForRoute(TOPIC);
    const producer = clients.producer(c.ns);
    // 0..29: c or untagged; 30: c; 31..60: cycling through every tag.
    const first: Message[] = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? { body: `p-${i}`, tags: 'c' } : { body: `p-${i}` }));
    const second: Message[] = Array.from({ length: 30 }, (_, i) => {
      const tag = TAGS[i % TAGS.length];
      return tag === undefined ? { body: `p-${30 + i}` } : { body: `p-${30 + i}`, tags: tag };
    });
    await producer.send(TOPIC, first);

    // Nothing matches in the first 30: the broker says so and tells where to go on.
    const none = await admin.pull(mq!, 0, { tags: ['a', 'b'], maxCount: 10 });
    expect(none.status).toBe('NO_MATCHED_MESSAGE');
    expect(none.messages).toEqual([]);
    expect(none.nextOffset).toBe(30);
    // At the end of the queue, a filtered pull is held like any other, and a
    // message of another tag wakes it without matching.
    const held = admin.pull(mq!, 30, { tags: ['a', 'b'], pollTimeoutMs: 5000 });
    await sleep(100);
    await producer.send(TOPIC, { body: 'p-c-late', tags: 'c' });
    const woken = await held;
    expect(woken.status).toBe('NO_MATCHED_MESSAGE');
    expect(woken.nextOffset).toBe(31);
    await producer.send(TOPIC, second);

    // Read the whole queue with the filter: only a and b come back, in order.
    const got: { offset: number; tags: string | undefined }[] = [];
    let offset = 0;
    let pulls = 0;
    while (offset < 61) {
      const r = await admin.pull(mq!, offset, { tags: ['a', 'b'], maxCount: 4 });
      pulls++;
      expect(['FOUND', 'NO_MATCHED_MESSAGE']).toContain(r.status);
      for (const m of r.messages) got.push({ offset: m.queueOffset, tags: m.tags });
      expect(r.nextOffset).toBeGreaterThan(offset);
      offset = r.nextOffset;
      if (pulls > 100) throw new Error('the filtered read does not move on');
    }
    const expected = second.map((m, i) => ({ offset: 31 + i, tags: m.tags })).filter((m) => m.tags === 'a' || m.tags === 'b');
    expect(got).toEqual(expected);
    // The same pull without a filter returns everything.
    const unfiltered = await admin.pull(mq!, 0, { maxCount: 100 });
    expect(unfiltered.messages).toHaveLength(61);
  });
});
