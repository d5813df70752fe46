// ReplicaWaiters: one slave report releases every send it covers, in order;
// the rest wait, time out, or learn that no slave is there.
import { describe, expect, it } from 'vitest';
import { ReplicaWaiters } from './replica-waiters.js';

describe('ReplicaWaiters', () => {
  it('releases every waiter a report covers at once, and only those', async () => {
    const w = new ReplicaWaiters();
    try {
      const outcomes: string[] = [];
      const all = [100, 200, 300].map((end) => w.wait(end, 60_000).then((o) => outcomes.push(`${end}:${o}`)));
      w.confirmed(250);
      await Promise.all(all.slice(0, 2));
      expect(outcomes).toEqual(['100:confirmed', '200:confirmed']);
      expect(w.waiting).toBe(1);
      w.confirmed(300);
      await all[2];
      expect(outcomes).toEqual(['100:confirmed', '200:confirmed', '300:confirmed']);
      expect(w.waiting).toBe(0);
    } finally {
      w.close();
    }
  });

  it('times out a waiter the slave does not confirm', async () => {
    const w = new ReplicaWaiters();
    try {
      expect(await w.wait(100, 30)).toBe('timeout');
    } finally {
      w.close();
    }
  });

  it('tells every waiter when the slave is gone', async () => {
    const w = new ReplicaWaiters();
    const a = w.wait(1, 60_000);
    const b = w.wait(2, 60_000);
    w.failAll('no-slave');
    expect(await Promise.all([a, b])).toEqual(['no-slave', 'no-slave']);
    w.close();
  });
});
