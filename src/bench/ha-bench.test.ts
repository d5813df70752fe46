import { describe, expect, it } from 'vitest';
import { roleCpu } from './ha-bench.js';

const sample = (atUs: number, master: number | undefined, slave: number, loadGenerator: number) => ({ atUs, cpuUs: { master, slave, loadGenerator } });

describe('roleCpu', () => {
  it('gives each role its share of a core between the first and last reading, and µs per acknowledged message over the window', () => {
    // 2 s between readings: the master used 1.6 s (80%), the slave 0.4 s, the generator 1 s; 100,000 acked over a 2.5 s window.
    const c = roleCpu([sample(1_000_000, 5_000_000, 1_000_000, 0), sample(2_000_000, 6_000_000, 1_100_000, 500_000), sample(3_000_000, 6_600_000, 1_400_000, 1_000_000)], 100_000, 2_500_000);
    expect(c).toEqual({
      master: { share: 0.8, usPerMessage: 20 },
      slave: { share: 0.2, usPerMessage: 5 },
      loadGenerator: { share: 0.5, usPerMessage: 12.5 },
    });
  });

  it('gives null for a role it could not read, with fewer than two readings, or without messages', () => {
    const c = roleCpu([sample(1_000_000, undefined, 0, 0), sample(2_000_000, 1_000, 1_000, 1_000)], 10, 1_000_000);
    expect(c.master).toBeNull();
    expect(c.slave).not.toBeNull();
    expect(roleCpu([sample(1_000_000, 0, 0, 0)], 10, 1_000_000)).toEqual({ master: null, slave: null, loadGenerator: null });
    expect(roleCpu([sample(1_000_000, 0, 0, 0), sample(2_000_000, 1, 1, 1)], 0, 1_000_000).loadGenerator).toBeNull();
  });
});
