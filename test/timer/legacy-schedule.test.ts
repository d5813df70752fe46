// Upgrade: re-deliveries that an older broker left waiting in
// SCHEDULE_TOPIC_XXXX (one queue per delay level, progress in the group
// %SCHEDULE%) are moved into the timer once at start and delivered to their
// real queue when due, never before; a restart after the move moves nothing
// again.
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../../src/client/index.js';
import { PROPERTY_DELAY_LEVEL, PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC, SCHEDULE_TOPIC } from '../../src/common/index.js';
import { MessageStore } from '../../src/store/index.js';
import { useCluster } from '../helpers/cluster.js';
import { useClients } from '../helpers/consume.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/wait.js';

const TOPIC = 'Legacy';
const DELAYS = [300, 600];
const PER_LEVEL = 5;

describe('legacy SCHEDULE_TOPIC', () => {
  const startCluster = useCluster();
  const clients = useClients();
  const tempDir = useTempDirs('timer-legacy');

  it('is moved into the timer once: each waiting re-delivery arrives once, not before its time, and a restart adds none', async () => {
    const dir = tempDir();
    const store = await MessageStore.open({ dir });
    store.createTopic(TOPIC, 2);
    store.createTopic(SCHEDULE_TOPIC, DELAYS.length);
    const storedAt: number[] = [];
    for (let level = 0; level < DELAYS.length; level++) {
      const messages = Array.from({ length: PER_LEVEL }, (_, i) => ({
        body: Buffer.from(`old-${level}-${i}`),
        properties: { [PROPERTY_REAL_TOPIC]: TOPIC, [PROPERTY_REAL_QUEUE_ID]: '1', [PROPERTY_DELAY_LEVEL]: String(level + 1) },
        reconsumeTimes: level + 1,
      }));
      storedAt[level] = (await store.put(SCHEDULE_TOPIC, level, messages)).storeTimestamp;
    }
    await store.close();

    const c = await startCluster({ topics: { [TOPIC]: 2 }, broker: { retryDelaysMs: DELAYS }, brokers: 0 });
    const b = await c.startBroker({ dir, brokerName: 'broker-legacy' });
    const admin = clients.admin(c.ns);
    const read = async (addr: string) => {
      const mq: MessageQueue = { topic: TOPIC, brokerName: 'broker-legacy', addr, queueId: 1 };
      return (await admin.pull(mq, 0, { maxCount: 100, pollTimeoutMs: 0 })).messages;
    };
    let got = await read(b.addr);
    const deadline = Date.now() + 15_000;
    while (got.length < DELAYS.length * PER_LEVEL && Date.now() < deadline) {
      await sleep(50);
      got = await read(b.addr);
    }
    const bodies = got.map((m) => m.body.toString()).sort();
    const expected = DELAYS.flatMap((_, level) => Array.from({ length: PER_LEVEL }, (_, i) => `old-${level}-${i}`)).sort();
    expect(bodies).toEqual(expected);
    for (const m of got) {
      const level = Number(m.body.toString().split('-')[1]);
      expect(m.storeTimestamp).toBeGreaterThanOrEqual(storedAt[level]! + DELAYS[level]!);
      expect(m.reconsumeTimes).toBe(level + 1);
    }
    // Long enough for the moved offsets to be persisted (offsetPersistIntervalMs), then a restart moves nothing again.
    await sleep(500);
    await c.stopBroker(b);
    const again = await c.startBroker({ dir, brokerName: 'broker-legacy' });
    await sleep(1500);
    expect((await read(again.addr)).map((m) => m.body.toString()).sort()).toEqual(expected);
  });
});
