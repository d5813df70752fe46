// Producer send batching against real brokers over TCP: 1,000 concurrent
// single sends coalesced into batches arrive exactly once each, in per-key
// order, and each caller's message id, queue and queue offset are those the
// consumer receives; a killed broker fails every caller of its batches, a
// sync master that cannot prove it is not behind its slave refuses every one
// of them, and a sync master whose slave died answers every caller
// SLAVE_NOT_AVAILABLE: never SEND_OK for a message that was not acknowledged.
import { describe, expect, it } from 'vitest';
import type { BrokerConfig } from '../../src/broker/index.js';
import { MasterBehindSlaveError, MetaqError } from '../../src/common/index.js';
import type { Producer, SendResult } from '../../src/client/index.js';
import { useCluster } from '../helpers/cluster.js';
import { Collector, useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { haBrokerConfig, masterHa, useBrokerProcesses, useLocalBrokers } from '../ha/ha-helpers.js';

const TOPIC = 'Batched';
const QUEUES = 4;
const KEYS = 30;
const PER_KEY = 20;
const PLAIN = 400;

type Outcome = { ok: true; r: SendResult } | { ok: false; err: unknown };

/** Waits until the name server routes the topic (a broker in a child process registers on its own time). */
async function routed(producer: Producer): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await producer.refreshQueues(TOPIC).catch(() => [])).length === 0) {
    if (Date.now() > deadline) throw new Error(`topic ${TOPIC} was not routed within 10 s`);
    await sleep(50);
  }
}

function settle(p: Promise<SendResult>): Promise<Outcome> {
  return p.then(
    (r) => ({ ok: true, r }),
    (err: unknown) => ({ ok: false, err }),
  );
}

describe('producer batching against a real broker', () => {
  const tempDir = useTempDirs('batching');
  const cluster = useCluster();
  const clients = useClients();
  const startProcess = useBrokerProcesses();
  const startLocal = useLocalBrokers();

  it('1,000 concurrent sends: coalesced, each delivered exactly once, per-key order kept, each caller\'s id and offset those the consumer sees', async () => {
    const c = await cluster({ topics: { [TOPIC]: QUEUES } });
    const batchSizes: number[] = [];
    const producer = clients.producer(c.ns, { batching: { lingerMs: 2, maxMessages: 64, onBatch: (n) => batchSizes.push(n) } });
    await producer.queues(TOPIC);

    const sends: { body: string; key: string | undefined; seq: number; p: Promise<SendResult> }[] = [];
    // Keyed and plain sends interleaved (2 plain in every 5), as from concurrent requests.
    let k = 0;
    for (let i = 0; i < KEYS * PER_KEY + PLAIN; i++) {
      if (i % 5 < 2) {
        const body = `plain:${i}`;
        sends.push({ body, key: undefined, seq: i, p: producer.send(TOPIC, { body }) });
        continue;
      }
      const key = `user${k % KEYS}`;
      const seq = Math.floor(k++ / KEYS);
      const body = `${key}:${seq}`;
      sends.push({ body, key, seq, p: producer.send(TOPIC, { body, keys: key }, { shardingKey: key }) });
    }
    expect(sends).toHaveLength(KEYS * PER_KEY + PLAIN);
    const results = await Promise.all(sends.map((s) => s.p));
    expect(results.every((r) => r.status === 'SEND_OK' && r.count === 1)).toBe(true);
    // Coalesced: far fewer requests than messages.
    const stats = producer.batchingStats()!;
    expect(stats.messages).toBe(sends.length);
    expect(stats.batches).toBe(batchSizes.length);
    expect(stats.batches).toBeLessThan(sends.length / 4);
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);

    const collector = new Collector();
    const consumer = clients.consumer({ namesrv: c.ns, group: 'batching-check' });
    consumer.subscribe(TOPIC);
    await consumer.start(collector.handler());
    await collector.waitForAll(sends.map((s) => s.body));
    // Exactly once: no duplicate at all (nothing was retried, no consumer failed).
    expect(collector.duplicates).toBe(0);
    expect(collector.distinct).toBe(sends.length);

    const delivered = new Map(collector.deliveries.map((d) => [d.body, d]));
    for (const [i, s] of sends.entries()) {
      const d = delivered.get(s.body)!;
      const r = results[i]!;
      expect({ body: s.body, id: r.messageId, queue: r.queueId, offset: r.queueOffset, broker: r.brokerName }).toEqual({ body: s.body, id: d.messageId, queue: d.queueId, offset: d.queueOffset, broker: d.brokerName });
    }
    // Per-key order: one queue per key, offsets rising with the sequence number.
    for (let k = 0; k < KEYS; k++) {
      const mine = sends.map((s, i) => ({ s, r: results[i]! })).filter((x) => x.s.key === `user${k}`);
      expect(new Set(mine.map((x) => x.r.queueId)).size).toBe(1);
      const offsets = mine.map((x) => x.r.queueOffset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      const received = collector.deliveries.filter((d) => d.body.startsWith(`user${k}:`));
      expect(received.map((d) => Number(d.body.split(':')[1]))).toEqual([...Array(PER_KEY).keys()]);
    }
    // Plain sends still spread over every queue (the round robin of unbatched sends).
    expect(new Set(sends.flatMap((s, i) => (s.key === undefined ? [results[i]!.queueId] : []))).size).toBe(QUEUES);
  });

  it('bad messages in a batch (too large for the broker, unencodable) fail alone; the others of their batch are stored, in order', async () => {
    const c = await cluster({ brokers: 0, topics: { [TOPIC]: QUEUES } });
    await c.startBroker({ store: { maxMessageSize: 1024 } as BrokerConfig['store'] });
    const producer = clients.producer(c.ns, { batching: { lingerMs: 5 } });
    await producer.queues(TOPIC);
    const send = (body: string, tags?: string): Promise<Outcome> => settle(producer.send(TOPIC, { body, tags }, { shardingKey: 'one-key' }));
    // One batch the broker refuses whole (a body over its maxMessageSize), one the producer cannot encode (tags over 255 bytes).
    const refused = await Promise.all([send('g0'), send('x'.repeat(2000)), send('g1')]);
    const unencodable = await Promise.all([send('g2'), send('g3', 't'.repeat(300)), send('g4')]);
    const out = [...refused, ...unencodable];
    expect(out.map((o) => (o.ok ? o.r.status : (o.err as MetaqError).code))).toEqual(['SEND_OK', 'METAQ_MESSAGE_TOO_LARGE', 'SEND_OK', 'SEND_OK', 'METAQ_MALFORMED_FRAME', 'SEND_OK']);
    const offsets = out.flatMap((o) => (o.ok ? [o.r.queueOffset] : []));
    expect(offsets).toEqual([0, 1, 2, 3]);
  });

  it('a broker killed while messages wait in its batches: every caller fails with a typed error, none is SEND_OK', async () => {
    const c = await cluster({ brokers: 0 });
    const b = await startProcess(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: 'batch-killed', topics: { [TOPIC]: QUEUES }, role: 'master' }));
    const producer = clients.producer(c.ns, { requestTimeoutMs: 1000, batching: { lingerMs: 300 } });
    await routed(producer);
    const outcomes = Array.from({ length: 200 }, (_, i) => settle(producer.send(TOPIC, { body: `k${i}` }, i % 2 === 0 ? { shardingKey: `u${i % 7}` } : {})));
    await b.kill('SIGKILL');
    const settled = await Promise.all(outcomes);
    expect(settled.filter((o) => o.ok)).toEqual([]);
    for (const o of settled) expect(!o.ok && o.err instanceof MetaqError).toBe(true);
  });

  it('a sync master that has not heard from its slave refuses the batch: every caller gets MasterBehindSlaveError', async () => {
    const c = await cluster({ brokers: 0 });
    await startLocal(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: 'batch-sync', topics: { [TOPIC]: QUEUES }, role: 'master', replicationMode: 'sync' }));
    const producer = clients.producer(c.ns, { batching: { lingerMs: 5 } });
    await producer.queues(TOPIC);
    const settled = await Promise.all(Array.from({ length: 100 }, (_, i) => settle(producer.send(TOPIC, { body: `s${i}` }, i % 2 === 0 ? { shardingKey: `u${i % 3}` } : {}))));
    expect(settled.filter((o) => o.ok)).toEqual([]);
    for (const o of settled) expect(!o.ok && o.err instanceof MasterBehindSlaveError).toBe(true);
  });

  it('a sync master whose slave was killed: every caller of every batch reports SLAVE_NOT_AVAILABLE with its own id, none SEND_OK', async () => {
    const c = await cluster({ brokers: 0 });
    const topics = { [TOPIC]: QUEUES };
    const { broker: master } = await startLocal(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: 'batch-noslave', topics, role: 'master', replicationMode: 'sync', slaveTimeoutMs: 1000 }));
    const slave = await startProcess(haBrokerConfig({ ns: c.ns, dir: tempDir(), brokerName: 'batch-noslave', topics, role: 'slave', masterHaAddr: master.haAddr! }));
    await waitUntil(() => masterHa(master.stats()).slaveConnected, 'the slave to connect', 15_000, 10);
    const producer = clients.producer(c.ns, { batching: { lingerMs: 5 } });
    // With the slave there: SEND_OK.
    expect((await producer.send(TOPIC, { body: 'first' })).status).toBe('SEND_OK');
    await slave.kill('SIGKILL');
    await waitUntil(() => !masterHa(master.stats()).slaveConnected, 'the master to notice the slave is gone', 10_000, 5);
    const n = 300;
    const settled = await Promise.all(Array.from({ length: n }, (_, i) => settle(producer.send(TOPIC, { body: `n${i}` }, i % 3 === 0 ? { shardingKey: `u${i % 5}` } : {}))));
    const statuses = settled.map((o) => (o.ok ? o.r.status : `error ${(o.err as Error).name}`));
    expect(new Set(statuses)).toEqual(new Set(['SLAVE_NOT_AVAILABLE']));
    expect(new Set(settled.map((o) => (o.ok ? o.r.messageId : ''))).size).toBe(n);
    expect(producer.batchingStats()!.batches).toBeLessThan(n / 4);
  });
});
