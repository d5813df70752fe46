// verify() on hand-filled shared run state: lost (acked, never received),
// duplicates, unacked-but-received, consumed, the ticket check (issued is
// indexed by user index, through the claim permutation) and the lost samples.
import { describe, expect, it } from 'vitest';
import { ACK_FAILED, ACK_NONE, ACK_OK, createSharedRunState, USER_ID_BASE, userIndexOf, userPermutation, type SharedRunState } from '../workers/index.js';
import { verify } from './verifier.js';

interface Views {
  shared: SharedRunState;
  acked: Uint8Array;
  received: Uint8Array;
  ledger: Uint8Array;
  issued: Uint8Array;
}

function state(total: number): Views {
  const shared = createSharedRunState(total, 0);
  return {
    shared,
    acked: new Uint8Array(shared.acked),
    received: new Uint8Array(shared.received),
    ledger: new Uint8Array(shared.ledger),
    issued: new Uint8Array(shared.issued),
  };
}

/** A clean run: every message acked, received once, its user's ticket issued once. */
function cleanRun(total: number, multiplier: number): Views {
  const v = state(total);
  v.acked.fill(ACK_OK);
  v.received.fill(1);
  v.ledger.fill(1);
  v.issued.fill(1);
  expect(userPermutation(total).multiplier).toBe(multiplier);
  return v;
}

const TOTAL = 1_000;
const { multiplier: M } = userPermutation(TOTAL);

describe('verify', () => {
  it('uses a permutation that is not the identity here (so user indexing is really tested)', () => {
    expect(userIndexOf(1, TOTAL, M)).not.toBe(1);
  });

  it('reports a clean run as clean', () => {
    const v = cleanRun(TOTAL, M);
    expect(verify(v.shared, TOTAL, M)).toEqual({
      acked: TOTAL,
      consumed: TOTAL,
      duplicates: 0,
      lost: 0,
      unackedReceived: 0,
      tickets: { allocated: TOTAL, issued: TOTAL, issuedTwice: 0, neverIssued: 0 },
      lostSamples: [],
    });
  });

  it('counts an acked message that was never received as lost, with its user id', () => {
    const v = cleanRun(TOTAL, M);
    v.received[17] = 0;
    v.issued[userIndexOf(17, TOTAL, M)] = 0;
    const r = verify(v.shared, TOTAL, M);
    expect(r.lost).toBe(1);
    expect(r.consumed).toBe(TOTAL - 1);
    expect(r.acked).toBe(TOTAL);
    expect(r.lostSamples).toEqual([{ index: 17, userId: USER_ID_BASE + userIndexOf(17, TOTAL, M) }]);
    expect(r.lostSamples[0]!.userId).not.toBe(USER_ID_BASE + 17);
    expect(r.tickets).toEqual({ allocated: TOTAL, issued: TOTAL - 1, issuedTwice: 0, neverIssued: 1 });
  });

  it('keeps at most five lost samples, the first ones by index', () => {
    const v = cleanRun(TOTAL, M);
    const lostIdx = [3, 5, 99, 100, 400, 401, 999];
    for (const i of lostIdx) v.received[i] = 0;
    const r = verify(v.shared, TOTAL, M);
    expect(r.lost).toBe(7);
    expect(r.lostSamples.map((s) => s.index)).toEqual([3, 5, 99, 100, 400]);
    for (const s of r.lostSamples) expect(s.userId).toBe(USER_ID_BASE + userIndexOf(s.index, TOTAL, M));
  });

  it('counts every reception after the first as a duplicate', () => {
    const v = cleanRun(TOTAL, M);
    v.received[0] = 2;
    v.received[10] = 3;
    v.received[999] = 255; // saturated
    const r = verify(v.shared, TOTAL, M);
    expect(r.consumed).toBe(TOTAL);
    expect(r.duplicates).toBe(1 + 2 + 254);
    expect(r.lost).toBe(0);
  });

  it('allows a message received but never acknowledged, and counts it', () => {
    const v = cleanRun(TOTAL, M);
    v.acked[4] = ACK_NONE; // the acknowledgement was lost in flight
    v.acked[5] = ACK_FAILED; // a SLAVE_* status, but stored
    v.acked[6] = ACK_FAILED;
    v.received[6] = 0; // failed and really not stored: neither lost nor unacked-received
    v.issued[userIndexOf(6, TOTAL, M)] = 0;
    const r = verify(v.shared, TOTAL, M);
    expect(r.acked).toBe(TOTAL - 3);
    expect(r.unackedReceived).toBe(2);
    expect(r.lost).toBe(0);
    expect(r.consumed).toBe(TOTAL - 1);
    // Tickets: only acked claims are allocated; a failed claim's user is not owed a ticket.
    expect(r.tickets).toEqual({ allocated: TOTAL - 3, issued: TOTAL - 1, issuedTwice: 0, neverIssued: 0 });
  });

  it('reads tickets through the user permutation: a double issue and a missing one', () => {
    const v = cleanRun(TOTAL, M);
    const twice = userIndexOf(250, TOTAL, M);
    const never = userIndexOf(251, TOTAL, M);
    v.issued[twice] = 2;
    v.issued[never] = 0;
    const r = verify(v.shared, TOTAL, M);
    expect(r.tickets).toEqual({ allocated: TOTAL, issued: TOTAL - 1, issuedTwice: 1, neverIssued: 1 });
    expect(r.lost).toBe(0);
  });

  it('does not mistake message indices for user indices', () => {
    // Message 251 was acked and its ticket never issued; user index 251 belongs to another message.
    const v = cleanRun(TOTAL, M);
    v.issued[251] = 0;
    const owner = Array.from({ length: TOTAL }, (_, i) => i).find((i) => userIndexOf(i, TOTAL, M) === 251)!;
    expect(owner).not.toBe(251);
    v.acked[owner] = ACK_NONE;
    // The only unissued user belongs to an unacknowledged message: nothing was owed.
    const r = verify(v.shared, TOTAL, M);
    expect(r.tickets).toEqual({ allocated: TOTAL - 1, issued: TOTAL - 1, issuedTwice: 0, neverIssued: 0 });
  });

  it('counts everything for an empty-handed run', () => {
    const v = state(50);
    const { multiplier } = userPermutation(50);
    v.acked.fill(ACK_OK, 0, 20);
    const r = verify(v.shared, 50, multiplier);
    expect(r.acked).toBe(20);
    expect(r.lost).toBe(20);
    expect(r.consumed).toBe(0);
    expect(r.lostSamples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    expect(r.tickets).toEqual({ allocated: 20, issued: 0, issuedTwice: 0, neverIssued: 20 });
  });

  it('ignores the ledger (the idempotency record is not the ticket count)', () => {
    const v = cleanRun(TOTAL, M);
    v.ledger.fill(0);
    expect(verify(v.shared, TOTAL, M).tickets).toEqual({ allocated: TOTAL, issued: TOTAL, issuedTwice: 0, neverIssued: 0 });
  });
});
