// Committed offsets survive a broker restart: a consumer takes about half of
// 2000 messages and shuts down cleanly, the broker is stopped and started
// again on the same directory, name and port, and a new consumer of the same
// group resumes at the committed offsets.
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../../src/client/index.js';
import { useCluster, type TestCluster } from '../helpers/cluster.js';
import { Collector, queueKey, useClients, type Clients } from '../helpers/consume.js';

const TOPIC = 'Restart';
const N = 2000;
const HALF = N / 2;

interface Outcome {
  queues: MessageQueue[];
  /** Per queue: offsets handled in the first run, in order. */
  first: Map<string, number[]>;
  /** Per queue: offsets handled after the restart, in order. */
  second: Map<string, number[]>;
  /** Per queue: committed offset after the first run's shutdown (before and after the restart). */
  committed: Map<string, number>;
  committedAfterRestart: Map<string, number>;
  maxOffsets: Map<string, number>;
  /** Messages of the first run handled again after the restart. */
  duplicates: number;
}

/** Produce N, consume about half, shut down, restart the broker, consume the rest. */
async function consumeAcrossRestart(cluster: () => Promise<TestCluster>, clients: Clients, group: string): Promise<Outcome> {
  const c = await cluster();
  const admin = clients.admin(c.ns);
  const queues = await admin.waitForRoute(TOPIC);
  expect(queues).toHaveLength(4);
  const producer = clients.producer(c.ns);
  for (let i = 0; i < N; i += 50) {
    await producer.send(
      TOPIC,
      Array.from({ length: 50 }, (_, j) => ({ body: `restart-${i + j}`, keys: `k-${i + j}` })),
    );
  }
  producer.shutdown();
  const maxOffsets = new Map<string, number>();
  for (const mq of queues) maxOffsets.set(queueKey(mq), (await admin.queueOffsets(mq)).maxOffset);
  expect([...maxOffsets.values()].reduce((a, b) => a + b, 0)).toBe(N);

  // First run: one batch of 10 at a time; shut down (cleanly) once half is handled.
  const first = new Collector();
  const consumer1 = clients.consumer({ namesrv: c.ns, group, batchSize: 10, concurrency: 1 });
  let stopping: Promise<void> | undefined;
  try {
    consumer1.subscribe(TOPIC);
    let stopped!: () => void;
    const half = new Promise<void>((resolve) => (stopped = resolve));
    await consumer1.start(
      first.handler('first', async () => {
        if (first.deliveries.length >= HALF && stopping === undefined) {
          stopping = consumer1.shutdown();
          stopped();
          // This batch is still being handled when the shutdown begins, and
          // completes (successfully) before the shutdown commits.
          await new Promise((r) => setTimeout(r, 200));
          return;
        }
        // A handler that takes a moment: batches of every queue take turns.
        await new Promise((r) => setTimeout(r, 1));
      }),
    );
    await half;
    await stopping;
  } finally {
    await consumer1.shutdown();
  }
  expect(first.duplicates).toBe(0);
  const committed = new Map<string, number>();
  // A queue the group never committed on starts at its first offset (consumeFrom 'first').
  for (const mq of queues) committed.set(queueKey(mq), (await admin.committedOffset(group, mq)) ?? 0);

  // Restart the broker on the same directory, name and port.
  const old = c.brokers[0]!;
  const { brokerName } = old.config;
  const port = old.port;
  const dir = await c.stopBroker(old);
  const restarted = await c.startBroker({ dir, brokerName, port });
  expect(restarted.addr).toBe(old.addr);
  const committedAfterRestart = new Map<string, number>();
  for (const mq of queues) committedAfterRestart.set(queueKey(mq), (await admin.committedOffset(group, mq)) ?? 0);

  // Second run, same group: consume until every message was handled by one run or the other.
  const second = new Collector();
  const consumer2 = clients.consumer({ namesrv: c.ns, group });
  try {
    consumer2.subscribe(TOPIC);
    await consumer2.start(second.handler('second'));
    const all = Array.from({ length: N }, (_, i) => `restart-${i}`);
    const deadline = Date.now() + 15_000;
    while (all.some((b) => !first.counts.has(b) && !second.counts.has(b))) {
      if (Date.now() > deadline) throw new Error(`messages never consumed: ${all.filter((b) => !first.counts.has(b) && !second.counts.has(b)).length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300)); // room for late deliveries
  } finally {
    await consumer2.shutdown();
  }
  let duplicates = 0;
  for (const b of second.counts.keys()) if (first.counts.has(b)) duplicates++;
  return { queues, first: first.offsetsByQueue(), second: second.offsetsByQueue(), committed, committedAfterRestart, maxOffsets, duplicates };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

describe('broker restart', () => {
  const cluster = useCluster();
  const clients = useClients();
  const start = () => cluster({ topics: { [TOPIC]: 4 } });

  it('committed offsets survive a restart; a new consumer of the group resumes at them and gets every message', async () => {
    const o = await consumeAcrossRestart(start, clients, 'restart-group');
    const firstTotal = [...o.first.values()].reduce((a, l) => a + l.length, 0);
    console.log(
      `restart: first run handled ${firstTotal}, committed ${JSON.stringify(Object.fromEntries(o.committed))} of ${JSON.stringify(Object.fromEntries(o.maxOffsets))}; ` +
        `${o.duplicates} handled again after the restart`,
    );
    expect(firstTotal).toBeGreaterThanOrEqual(HALF);
    expect(firstTotal).toBeLessThan(N);
    for (const mq of o.queues) {
      const k = queueKey(mq);
      const first = o.first.get(k) ?? [];
      const second = o.second.get(k) ?? [];
      const committed = o.committed.get(k)!;
      // The first run handled a prefix of each queue, in order, and committed no further than it handled.
      expect(first, `first run on ${k}`).toEqual(range(0, first.length));
      expect(committed, `committed offset of ${k}`).toBeGreaterThanOrEqual(0);
      expect(committed, `committed offset of ${k}`).toBeLessThanOrEqual(first.length);
      // The restart kept the committed offsets.
      expect(o.committedAfterRestart.get(k), `committed offset of ${k} after the restart`).toBe(committed);
      // The second run started exactly at the committed offset: nothing before it again, nothing skipped.
      expect(second, `second run on ${k}`).toEqual(range(committed, o.maxOffsets.get(k)!));
    }
  });

  it('a clean shutdown commits everything handled: nothing is handled twice across the restart', async () => {
    const o = await consumeAcrossRestart(start, clients, 'restart-clean-group');
    console.log(`restart (clean shutdown): handled ${JSON.stringify(Object.fromEntries([...o.first].map(([k, l]) => [k, l.length])))}, committed ${JSON.stringify(Object.fromEntries(o.committed))}; ${o.duplicates} handled again`);
    for (const mq of o.queues) {
      const k = queueKey(mq);
      expect(o.committed.get(k), `committed offset of ${k} after a clean shutdown`).toBe((o.first.get(k) ?? []).length);
    }
    expect(o.duplicates).toBe(0);
  });
});
