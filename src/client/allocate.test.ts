// Queue allocation among clustering consumers: every queue owned exactly once,
// shares differ by at most one, the remainder goes to the first members.
import { describe, expect, it } from 'vitest';
import { allocateAveragely } from './allocate.js';

describe('allocateAveragely', () => {
  const queues = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('splits 12 queues among 1, 2, 3, 5 and 13 members with no overlap and no orphan', () => {
    for (const m of [1, 2, 3, 5, 13]) {
      const members = Array.from({ length: m }, (_, i) => `c${String(i).padStart(2, '0')}`);
      const shares = members.map((me) => allocateAveragely(queues(12), members, me));
      expect(shares.flat().sort((a, b) => a - b)).toEqual(queues(12));
      const sizes = shares.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // Larger shares first: the remainder goes to the first members in sorted order.
      expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    }
  });

  it('gives contiguous ranges in member order', () => {
    const members = ['a', 'b', 'c'];
    expect(members.map((me) => allocateAveragely(queues(8), members, me))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
  });

  it('gives nothing to a client not in the member list, and nothing from no queues', () => {
    expect(allocateAveragely(queues(4), ['a'], 'z')).toEqual([]);
    expect(allocateAveragely([], ['a'], 'a')).toEqual([]);
  });
});
