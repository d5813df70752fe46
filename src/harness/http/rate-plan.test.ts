import { describe, expect, it } from 'vitest';
import { messagesDueAt, type Phase } from '../scenario/index.js';
import { connectionQuota, dueBySecond } from './rate-plan.js';

const CURVE: Phase[] = [
  { name: 'warmup', durationSec: 2, startRate: 100, endRate: 100 },
  { name: 'ramp', durationSec: 2.5, startRate: 100, endRate: 1000 },
];

describe('dueBySecond', () => {
  it('covers the curve second by second, the partial last second included, and adds up to every claim due', () => {
    const due = dueBySecond(CURVE);
    expect(due).toHaveLength(5);
    expect(due[0]).toBe(100);
    expect(due[1]).toBe(100);
    expect(due[2]!).toBeGreaterThan(100);
    expect(due.reduce((a, b) => a + b, 0)).toBe(messagesDueAt(CURVE, 4.5));
  });
});

describe('connectionQuota', () => {
  it('splits a second exactly over the connections, whatever the remainder', () => {
    for (const [due, conns] of [[0, 4], [3, 4], [10, 4], [1001, 64], [7, 1]] as const) {
      for (let second = 0; second < 5; second++) {
        let sum = 0;
        for (let c = 0; c < conns; c++) {
          const q = connectionQuota(due, second, c, conns);
          expect(q).toBeGreaterThanOrEqual(Math.floor(due / conns));
          expect(q).toBeLessThanOrEqual(Math.ceil(due / conns));
          sum += q;
        }
        expect(sum).toBe(due);
      }
    }
  });

  it('gives the remainder to other connections in the next second', () => {
    expect(connectionQuota(1, 0, 0, 4)).toBe(1);
    expect(connectionQuota(1, 1, 0, 4)).toBe(0);
    expect(connectionQuota(1, 1, 3, 4)).toBe(1);
  });
});
