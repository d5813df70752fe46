import { describe, expect, it } from 'vitest';
import { RefusalCounters } from './refusal-counters.js';

describe('RefusalCounters', () => {
  it('counts per name and snapshots every counter', () => {
    const c = new RefusalCounters();
    expect(c.snapshot()).toEqual({});
    c.count('unauthenticated');
    c.count('unauthenticated');
    c.count('heldPollsTotal', 5);
    expect(c.get('unauthenticated')).toBe(2);
    expect(c.get('never')).toBe(0);
    expect(c.snapshot()).toEqual({ unauthenticated: 2, heldPollsTotal: 5 });
  });
});
