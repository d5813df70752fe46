// The activity system's message: one ticket claim. The body starts with a
// fixed binary header the verifier and the latency measurement need, then a
// readable claim record padded to the scenario's body size:
//
//   0  u32  magic 'CLM1'
//   4  u32  run nonce (messages of another run on the same topic are ignored)
//   8  u16  producer index
//  10  u16  reserved (0)
//  12  u32  sequence within the producer
//  16  f64  user id
//  24  f64  intended send time, µs on the shared monotonic clock (process.hrtime)
//  32  ...  text: "activity=...;channel=...;prize=..." padded with spaces
//
// Message i of the run (over all producers) is producer i % P, sequence
// floor(i / P); user ids are a permutation of the message indices, so every
// user claims exactly once and the ticket ledger can be a flat array.

export const CLAIM_MAGIC = 0x434c4d31;
export const CLAIM_HEADER_BYTES = 32;
export const USER_ID_BASE = 10_000_000_000;

const OFF_MAGIC = 0;
const OFF_NONCE = 4;
const OFF_PRODUCER = 8;
const OFF_SEQ = 12;
const OFF_USER = 16;
const OFF_INTENDED = 24;

export interface Claim {
  nonce: number;
  producer: number;
  seq: number;
  userId: number;
  intendedUs: number;
}

/** A body of `size` bytes with the text part filled in; encodeClaim writes the header. */
export function claimTemplate(size: number, activity: string): Buffer {
  if (size < CLAIM_HEADER_BYTES) throw new RangeError(`claim bodies need at least ${CLAIM_HEADER_BYTES} bytes, got ${size}`);
  const b = Buffer.alloc(size, 0x20);
  b.write(`activity=${activity};channel=qr-home;prize=lottery-ticket;region=cn-east;`, CLAIM_HEADER_BYTES, 'latin1');
  return b;
}

export function encodeClaim(into: Buffer, at: number, c: Claim): void {
  writeClaimHeader(new DataView(into.buffer, into.byteOffset, into.byteLength), at, c.nonce, c.producer, c.seq, c.userId, c.intendedUs);
}

/** encodeClaim without a Claim object (the generator's per-message path): the header at `at` of `view`'s bytes. */
export function writeClaimHeader(view: DataView, at: number, nonce: number, producer: number, seq: number, userId: number, intendedUs: number): void {
  view.setUint32(at + OFF_MAGIC, CLAIM_MAGIC);
  view.setUint32(at + OFF_NONCE, nonce);
  view.setUint16(at + OFF_PRODUCER, producer);
  view.setUint16(at + OFF_PRODUCER + 2, 0);
  view.setUint32(at + OFF_SEQ, seq);
  view.setFloat64(at + OFF_USER, userId);
  view.setFloat64(at + OFF_INTENDED, intendedUs);
}

/** The claim in a received body, or undefined when it is not one of this run's claims. */
export function decodeClaim(body: Uint8Array, nonce: number): Claim | undefined {
  if (body.length < CLAIM_HEADER_BYTES) return undefined;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (v.getUint32(OFF_MAGIC) !== CLAIM_MAGIC || v.getUint32(OFF_NONCE) !== nonce) return undefined;
  return {
    nonce,
    producer: v.getUint16(OFF_PRODUCER),
    seq: v.getUint32(OFF_SEQ),
    userId: v.getFloat64(OFF_USER),
    intendedUs: v.getFloat64(OFF_INTENDED),
  };
}

/**
 * Maps message indices 0..total-1 one to one onto user indices (a user id is
 * USER_ID_BASE + the user index): i -> (i * multiplier) mod total, with a
 * multiplier coprime to total, so that users do not arrive in id order.
 */
export function userPermutation(total: number): { multiplier: number } {
  let m = 2_654_435_761 % Math.max(1, total);
  if (m < 2) m = 1;
  while (total > 1 && gcd(m, total) !== 1) m++;
  return { multiplier: m };
}

export function userIndexOf(i: number, total: number, multiplier: number): number {
  // Both factors are below total: the product is exact in a double while total < 2^26.5.
  const product = i * multiplier;
  return product <= Number.MAX_SAFE_INTEGER ? product % total : Number((BigInt(i) * BigInt(multiplier)) % BigInt(total));
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
