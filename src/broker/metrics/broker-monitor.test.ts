// The broker monitor over a stand-in store: the queue list is bounded (the
// rest counted, the message total still over every queue), rates come from
// two readings (the timer's interval is an hour here: the test ticks), the disk is read, and a rule's change of state is logged
// once each way (flushFailures: the store's failed-flush state).
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { checkAlertRules } from './alert-rules.js';
import { BrokerMonitor, MAX_QUEUE_ENTRIES } from './broker-monitor.js';

const QUEUES_PER_TOPIC = 1000;

function fakeStore(topics: number) {
  const state = { perQueue: 1, written: 0, unavailable: undefined as string | undefined };
  const store = {
    config: { dir: tmpdir() },
    topicNames: () => Array.from({ length: topics }, (_, i) => `t${String(i).padStart(3, '0')}`),
    queueCount: () => QUEUES_PER_TOPIC,
    maxOffset: () => state.perQueue,
    minOffset: () => 0,
    getMessages: () => ({ status: 'NO_NEW_MESSAGE', count: 0, records: Buffer.alloc(0), nextOffset: 0, minOffset: 0, maxOffset: 0 }),
    stats: () => ({ minOffset: 0, appendOffset: state.written, writtenOffset: state.written, flushedOffset: state.written, unavailable: state.unavailable }),
  };
  return { store, state };
}

describe('BrokerMonitor', () => {
  it('bounds the queue list, sums every queue, derives rates and reads the disk', async () => {
    const { store, state } = fakeStore(5);
    const m = new BrokerMonitor('broker-a', { store: store as never, offsets: () => ({}), ha: () => undefined, rules: [], intervalMs: 3_600_000, log: () => undefined });
    m.start();
    const first = m.view();
    expect(first.queues).toHaveLength(MAX_QUEUE_ENTRIES);
    expect(first.queuesOmitted).toBe(5 * QUEUES_PER_TOPIC - MAX_QUEUE_ENTRIES);
    expect(first.msgsIn).toBe(5 * QUEUES_PER_TOPIC);
    await new Promise((r) => setTimeout(r, 200));
    state.perQueue = 2;
    state.written = 1_000_000;
    m.pulled(10, 500);
    await m.tick();
    const v = m.view();
    expect(v.msgsIn).toBe(10_000);
    // Per second of the time between the two readings, whatever it was.
    const sec = (v.atMs - first.atMs) / 1000;
    expect(v.msgsInPerSec).toBe(Math.round(5000 / sec));
    expect(v.bytesInPerSec).toBe(Math.round(1_000_000 / sec));
    expect(v.msgsOutPerSec).toBe(Math.round(10 / sec));
    expect(v.msgsOut).toBe(10);
    expect(v.bytesOut).toBe(500);
    expect(v.commitLogBytes).toBe(1_000_000);
    expect(v.diskTotalBytes).toBeGreaterThan(0);
    m.close();
  });

  it('logs a rule firing and resolving once each', async () => {
    const { store, state } = fakeStore(1);
    const logs: string[] = [];
    const rules = checkAlertRules([{ name: 'flush', kind: 'flushFailures', above: 0 }]);
    const m = new BrokerMonitor('broker-a', { store: store as never, offsets: () => ({}), ha: () => undefined, rules, intervalMs: 3_600_000, log: (l) => logs.push(l) });
    m.start();
    await m.tick();
    expect(logs).toEqual([]);
    state.unavailable = 'METAQ_FLUSH_FAILED: fdatasync of the commit log [0, 10) failed';
    await m.tick();
    await m.tick();
    expect(logs).toEqual(['alert flush FIRING on broker broker-a: flushFailures is 1, above 0']);
    expect(m.firingAlerts.map((a) => a.name)).toEqual(['flush']);
    // Another cause of unavailability is not a flush failure.
    state.unavailable = 'METAQ_STORE_WRITE_FAILED: pwrite failed';
    await m.tick();
    expect(logs[1]).toBe('alert flush RESOLVED on broker broker-a: flushFailures is 0, not above 0');
    expect(m.view().alerts[0]).toMatchObject({ name: 'flush', firing: false, value: 0 });
    m.close();
  });
});
