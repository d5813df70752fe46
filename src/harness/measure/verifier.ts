// Zero-loss verification at the end of a run, from the shared arrays the
// producers and consumers filled: a message acknowledged (SEND_OK) and never
// received is lost; one received but never acknowledged is allowed (its
// acknowledgement was lost in flight, or it got a SLAVE_* status although
// stored). The business check: every ticket the activity system allocated
// (an acknowledged claim) was issued exactly once by the lottery system.
import { ACK_OK, USER_ID_BASE, userIndexOf, type SharedRunState } from '../workers/index.js';

export interface Verification {
  acked: number;
  consumed: number;
  duplicates: number;
  lost: number;
  unackedReceived: number;
  tickets: { allocated: number; issued: number; issuedTwice: number; neverIssued: number };
  /** A few lost messages (index, user id) to start an investigation from. */
  lostSamples: { index: number; userId: number }[];
}

const LOST_SAMPLES = 5;

export function verify(shared: SharedRunState, totalMessages: number, userMultiplier: number): Verification {
  const acked = new Uint8Array(shared.acked);
  const received = new Uint8Array(shared.received);
  const issued = new Uint8Array(shared.issued);
  const v: Verification = { acked: 0, consumed: 0, duplicates: 0, lost: 0, unackedReceived: 0, tickets: { allocated: 0, issued: 0, issuedTwice: 0, neverIssued: 0 }, lostSamples: [] };
  // One pass: users and messages are one to one, so user perm(i) claimed through message i.
  for (let i = 0; i < totalMessages; i++) {
    const r = received[i]!;
    const user = userIndexOf(i, totalMessages, userMultiplier);
    const tickets = issued[user]!;
    if (r > 0) {
      v.consumed++;
      v.duplicates += r - 1;
    }
    if (tickets > 0) v.tickets.issued++;
    if (tickets > 1) v.tickets.issuedTwice++;
    if (acked[i] === ACK_OK) {
      v.acked++;
      v.tickets.allocated++;
      if (tickets === 0) v.tickets.neverIssued++;
      if (r === 0) {
        v.lost++;
        if (v.lostSamples.length < LOST_SAMPLES) v.lostSamples.push({ index: i, userId: USER_ID_BASE + user });
      }
    } else if (r > 0) v.unackedReceived++;
  }
  return v;
}
