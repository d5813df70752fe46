import { describe, expect, it } from 'vitest';
import { AllocationRecord, type Allocation } from './allocation-record.js';

const alloc = (userId: number, offset: number): Allocation => ({ userId, activityId: 'a', seq: offset, msgId: `M${offset}`, topic: 'T', brokerName: 'b', queueId: 0, queueOffset: offset });

describe('AllocationRecord', () => {
  it('sends once per user: a repeat gets the recorded allocation without a send', async () => {
    const r = new AllocationRecord(10);
    let sends = 0;
    const send = (): Promise<Allocation> => Promise.resolve(alloc(7, ++sends));
    const first = r.claim(7, send);
    expect(first.repeat).toBe(false);
    expect(await first.allocation).toEqual(alloc(7, 1));
    const again = r.claim(7, send);
    expect(again.repeat).toBe(true);
    expect(await again.allocation).toEqual(alloc(7, 1));
    expect(sends).toBe(1);
  });

  it('joins a send in flight rather than starting a second one', async () => {
    const r = new AllocationRecord(10);
    let resolve!: (a: Allocation) => void;
    let sends = 0;
    const send = (): Promise<Allocation> => {
      sends++;
      return new Promise((res) => (resolve = res));
    };
    const a = r.claim(1, send);
    const b = r.claim(1, send);
    expect(sends).toBe(1);
    expect(r.pending).toBe(1);
    resolve(alloc(1, 5));
    expect(await a.allocation).toBe(await b.allocation);
    expect(r.pending).toBe(0);
  });

  it('records nothing for a failed send: the next scan sends again', async () => {
    const r = new AllocationRecord(10);
    await expect(r.claim(3, () => Promise.reject(new Error('SLAVE_NOT_AVAILABLE'))).allocation).rejects.toThrow('SLAVE');
    expect(r.size).toBe(0);
    const retry = r.claim(3, () => Promise.resolve(alloc(3, 9)));
    expect(retry.repeat).toBe(false);
    expect(await retry.allocation).toEqual(alloc(3, 9));
  });

  it('stays within its capacity by forgetting the oldest acknowledged user', async () => {
    const r = new AllocationRecord(2);
    for (const u of [1, 2, 3]) await r.claim(u, () => Promise.resolve(alloc(u, u))).allocation;
    expect(r.size).toBe(2);
    expect(r.claim(1, () => Promise.resolve(alloc(1, 10))).repeat).toBe(false);
    expect(r.claim(3, () => Promise.resolve(alloc(3, 11))).repeat).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new AllocationRecord(0)).toThrow(RangeError);
  });
});
