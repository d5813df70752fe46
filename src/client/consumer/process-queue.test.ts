// ProcessQueue bookkeeping: the committable offset never passes a message
// that is buffered, in the handler, or waiting for a local retry.
import { describe, expect, it } from 'vitest';
import { ProcessQueue } from './process-queue.js';
import type { ReceivedMessage } from '../received-message.js';

const mq = { topic: 'T', brokerName: 'b', addr: '127.0.0.1:1', queueId: 0 };
const msgs = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ queueOffset: from + i }) as ReceivedMessage);

describe('ProcessQueue', () => {
  it('commits up to the first unfinished batch, whatever order batches finish in', () => {
    const pq = new ProcessQueue(mq, 10);
    expect(pq.consumedOffset()).toBe(10);
    pq.add(msgs(10, 6), 16);
    expect(pq.consumedOffset()).toBe(10);
    const a = pq.take(2)!;
    const b = pq.take(2)!;
    expect(pq.consumedOffset()).toBe(10);
    pq.done(b);
    expect(pq.consumedOffset()).toBe(10); // a (10, 11) still in the handler
    pq.done(a);
    expect(pq.consumedOffset()).toBe(14); // 14, 15 still buffered
    const c = pq.take(10)!;
    expect(c.messages.map((m) => m.queueOffset)).toEqual([14, 15]);
    pq.done(c);
    expect(pq.consumedOffset()).toBe(16);
  });

  it('keeps a batch waiting for a local retry below the commit point and hands it out first', () => {
    const pq = new ProcessQueue(mq, 0);
    pq.add(msgs(0, 4), 4);
    const a = pq.take(2)!;
    pq.retryLater(a);
    expect(pq.consumedOffset()).toBe(0);
    const again = pq.take(2)!;
    expect(again).toBe(a);
    expect(again.attempts).toBe(1);
    pq.done(again);
    expect(pq.consumedOffset()).toBe(2);
  });

  it('drop discards buffered messages, pulls next from the first one not handed out, and waits for batches in the handler', async () => {
    const pq = new ProcessQueue(mq, 0);
    pq.add(msgs(0, 8), 8);
    const a = pq.take(3)!;
    pq.drop();
    expect(pq.buffered).toBe(0);
    expect(pq.nextPullOffset).toBe(3);
    expect(pq.consumedOffset()).toBe(0);
    let idle = false;
    const waiting = pq.idle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    pq.done(a);
    await waiting;
    expect(idle).toBe(true);
  });

  it('waitForRoom blocks the pull loop while the buffer is full', async () => {
    const pq = new ProcessQueue(mq, 0);
    pq.add(msgs(0, 4), 4);
    expect(pq.waitForRoom(8)).toBeUndefined();
    const room = pq.waitForRoom(4);
    expect(room).toBeDefined();
    let resumed = false;
    void room!.then(() => (resumed = true));
    await Promise.resolve();
    expect(resumed).toBe(false);
    pq.take(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(resumed).toBe(true);
  });
});

describe('ProcessQueue.drop', () => {
  it('commits past batches that finish after the drop (no re-delivery of handled messages)', () => {
    const pq = new ProcessQueue(mq, 0);
    pq.add(msgs(0, 20), 20);
    const a = pq.take(10)!;
    const b = pq.take(10)!;
    pq.done(a);
    pq.drop();
    expect(pq.consumedOffset()).toBe(10);
    pq.done(b);
    expect(pq.consumedOffset()).toBe(20);
  });

  it('keeps the commit point below a batch waiting for a local retry, and does not wait for it', async () => {
    const pq = new ProcessQueue(mq, 0);
    pq.add(msgs(0, 10), 10);
    const a = pq.take(4)!;
    pq.retryLater(a);
    pq.drop();
    expect(pq.consumedOffset()).toBe(0);
    await pq.idle();
  });
});
