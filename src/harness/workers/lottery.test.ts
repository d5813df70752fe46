// The lottery's idempotency by user id, on real shared run state checked by
// the real verifier: every claim received twice (a redelivery, a producer's
// re-send) issues one ticket per user; --inject-double-issue N makes exactly N
// users hold two tickets and the verifier counts them; --inject-drop still
// records nothing; bodies that are not this run's claims are counted apart.
import { describe, expect, it } from 'vitest';
import { verify } from '../measure/index.js';
import { USER_ID_BASE, userIndexOf, userPermutation, type Claim } from './claim.js';
import { Lottery } from './lottery.js';
import { ACK_OK, CONTROL_DOUBLE_ISSUE_LEFT, CONTROL_DOUBLE_ISSUED, CONTROL_DROPPED, CONTROL_FOREIGN, createSharedRunState } from './shared-state.js';

const TOTAL = 600;
const PRODUCERS = 3;
const NONCE = 7;
const { multiplier: M } = userPermutation(TOTAL);

/** Message i's claim, as producer i % P sent it. */
function claimOf(i: number): Claim {
  return { nonce: NONCE, producer: i % PRODUCERS, seq: Math.floor(i / PRODUCERS), userId: USER_ID_BASE + userIndexOf(i, TOTAL, M), intendedUs: 0 };
}

/** Every message acknowledged, then received `times` times (each pass over all of them, like a whole redelivery). */
function run(injectDrop: number, injectDoubleIssue: number, times: number): { shared: ReturnType<typeof createSharedRunState>; receptions: string[] } {
  const shared = createSharedRunState(TOTAL, injectDrop, injectDoubleIssue);
  new Uint8Array(shared.acked).fill(ACK_OK);
  const lottery = new Lottery(shared, PRODUCERS);
  const receptions: string[] = [];
  for (let t = 0; t < times; t++) for (let i = 0; i < TOTAL; i++) receptions.push(lottery.receive(claimOf(i)));
  return { shared, receptions };
}

describe('Lottery', () => {
  it('issues one ticket per user however often the claim arrives: duplicates > 0, issuedTwice 0', () => {
    const { shared, receptions } = run(0, 0, 3);
    expect(receptions.filter((r) => r === 'first')).toHaveLength(TOTAL);
    expect(receptions.filter((r) => r === 'duplicate')).toHaveLength(2 * TOTAL);
    const v = verify(shared, TOTAL, M);
    expect(v.duplicates).toBe(2 * TOTAL);
    expect(v.tickets).toEqual({ allocated: TOTAL, issued: TOTAL, issuedTwice: 0, neverIssued: 0 });
    expect(new Uint8Array(shared.issued).every((n) => n === 1)).toBe(true);
  });

  it('--inject-double-issue N: the first N claims go past the check once more, and the verifier counts exactly N users issued twice', () => {
    const n = 4;
    const { shared } = run(0, n, 2);
    const control = new Int32Array(shared.control);
    expect(control[CONTROL_DOUBLE_ISSUE_LEFT]).toBeLessThanOrEqual(0);
    expect(control[CONTROL_DOUBLE_ISSUED]).toBe(n);
    const v = verify(shared, TOTAL, M);
    expect(v.tickets.issuedTwice).toBe(n);
    expect(v.tickets.issued).toBe(TOTAL);
    // The users of the first N claims handled: messages 0..N-1.
    const issued = new Uint8Array(shared.issued);
    for (let i = 0; i < n; i++) expect(issued[userIndexOf(i, TOTAL, M)]).toBe(2);
    expect(issued[userIndexOf(n, TOTAL, M)]).toBe(1);
  });

  it('--inject-drop N records nothing for N claims (lost N, never issued N), and the fault counters say so', () => {
    const { shared, receptions } = run(5, 0, 1);
    expect(receptions.filter((r) => r === 'dropped')).toHaveLength(5);
    expect(new Int32Array(shared.control)[CONTROL_DROPPED]).toBe(5);
    const v = verify(shared, TOTAL, M);
    expect(v.lost).toBe(5);
    expect(v.tickets.neverIssued).toBe(5);
    expect(v.tickets.issuedTwice).toBe(0);
  });

  it('counts bodies that are not claims of this run, or name a producer or sequence outside it, as foreign and records nothing', () => {
    const shared = createSharedRunState(TOTAL, 0, 0);
    const lottery = new Lottery(shared, PRODUCERS);
    expect(lottery.receive(undefined)).toBe('foreign');
    expect(lottery.receive({ ...claimOf(0), producer: PRODUCERS })).toBe('foreign');
    expect(lottery.receive({ ...claimOf(0), seq: TOTAL })).toBe('foreign');
    expect(new Int32Array(shared.control)[CONTROL_FOREIGN]).toBe(3);
    expect(new Uint8Array(shared.received).every((n) => n === 0)).toBe(true);
    expect(new Uint8Array(shared.issued).every((n) => n === 0)).toBe(true);
  });
});
