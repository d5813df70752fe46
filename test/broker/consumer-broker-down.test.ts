// A consumer whose only broker goes down (no slave to read from) keeps
// running: its periodic commits and heartbeats fail, are noted in
// `consumer.errors`, and are tried again; none becomes an unhandled
// rejection, which would end a consumer's process (a harness's worker
// thread died of exactly that). When the broker is back, it consumes on.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../helpers/cluster.js';
import { Collector, useClients } from '../helpers/consume.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const TOPIC = 'BrokerDown';
const COMMIT_INTERVAL_MS = 100;

describe('a consumer whose broker goes down, with no slave', () => {
  const cluster = useCluster();
  const clients = useClients();

  it('notes the failed commits and heartbeats instead of crashing, and consumes again once the broker is back', async () => {
    const c = await cluster({ topics: { [TOPIC]: 2 } });
    const producer = clients.producer(c.ns);
    const seen = new Collector();
    const consumer = clients.consumer({ namesrv: c.ns, group: 'down', commitIntervalMs: COMMIT_INTERVAL_MS, heartbeatIntervalMs: COMMIT_INTERVAL_MS });
    consumer.subscribe(TOPIC);
    await consumer.start(seen.handler('c'));
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): number => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      await producer.send(TOPIC, [{ body: 'before' }]);
      await waitUntil(() => seen.deliveries.length >= 1, 'the first delivery');
      const old = c.brokers[0]!;
      const port = Number(old.addr.split(':')[1]);
      const dir = await c.stopBroker(old);
      // Several commit and heartbeat rounds against a broker that is not there.
      await sleep(COMMIT_INTERVAL_MS * 8);
      expect(consumer.errors.length).toBeGreaterThan(0);
      expect(unhandled).toEqual([]);
      await c.startBroker({ dir, brokerName: old.config.brokerName, port });
      await producer.send(TOPIC, [{ body: 'after' }]);
      await waitUntil(() => seen.deliveries.some((d) => d.body === 'after'), 'a delivery after the restart', 20_000);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);
});
