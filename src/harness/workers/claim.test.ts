// The claim body: header encode/decode round trip wherever the body sits in
// memory (offset into a larger buffer, subarray, plain Uint8Array), rejection
// of other runs' and foreign or short bodies, the padded text template, and
// the message -> user permutation (a bijection on 0..total-1, not the identity).
import { describe, expect, it } from 'vitest';
import {
  CLAIM_HEADER_BYTES,
  CLAIM_MAGIC,
  claimTemplate,
  decodeClaim,
  encodeClaim,
  userIndexOf,
  userPermutation,
  USER_ID_BASE,
  type Claim,
} from './claim.js';

const claim: Claim = {
  nonce: 0xdeadbeef,
  producer: 65_000,
  seq: 4_000_000_123,
  userId: USER_ID_BASE + 987_654_321,
  intendedUs: 123_456_789_012.5,
};

describe('encodeClaim / decodeClaim', () => {
  it('round-trips at a non-zero offset inside a larger buffer, without touching the rest', () => {
    const big = Buffer.alloc(300, 0xab);
    const at = 77;
    encodeClaim(big, at, claim);
    expect(big.subarray(0, at).every((b) => b === 0xab)).toBe(true);
    expect(big.subarray(at + CLAIM_HEADER_BYTES).every((b) => b === 0xab)).toBe(true);
    expect(big.readUInt32BE(at)).toBe(CLAIM_MAGIC);
    expect(big.readUInt16BE(at + 10)).toBe(0); // reserved
    const body = big.subarray(at, at + 128);
    expect(body.byteOffset).toBeGreaterThan(0);
    expect(decodeClaim(body, claim.nonce)).toEqual(claim);
  });

  it('decodes a plain Uint8Array view with a byte offset into a shared ArrayBuffer', () => {
    const ab = new ArrayBuffer(256);
    const buf = Buffer.from(ab, 40, 100);
    encodeClaim(buf, 0, claim);
    const view = new Uint8Array(ab, 40, 100);
    expect(decodeClaim(view, claim.nonce)).toEqual(claim);
    // And a copy that owns its memory.
    expect(decodeClaim(Uint8Array.from(view), claim.nonce)).toEqual(claim);
  });

  it('decodes a body of exactly the header size', () => {
    const b = Buffer.alloc(CLAIM_HEADER_BYTES);
    encodeClaim(b, 0, { ...claim, producer: 0, seq: 0 });
    expect(decodeClaim(b, claim.nonce)).toEqual({ ...claim, producer: 0, seq: 0 });
  });

  it('gives undefined for another run (different nonce)', () => {
    const b = Buffer.alloc(64);
    encodeClaim(b, 0, claim);
    expect(decodeClaim(b, claim.nonce + 1)).toBeUndefined();
    expect(decodeClaim(b, 0)).toBeUndefined();
  });

  it('gives undefined for a wrong magic', () => {
    const b = Buffer.alloc(64);
    encodeClaim(b, 0, claim);
    b[0] = b[0]! ^ 0x01;
    expect(decodeClaim(b, claim.nonce)).toBeUndefined();
    expect(decodeClaim(Buffer.alloc(64, 0x20), claim.nonce)).toBeUndefined();
  });

  it('gives undefined for a body shorter than the header', () => {
    const b = Buffer.alloc(64);
    encodeClaim(b, 0, claim);
    expect(decodeClaim(b.subarray(0, CLAIM_HEADER_BYTES - 1), claim.nonce)).toBeUndefined();
    expect(decodeClaim(new Uint8Array(0), claim.nonce)).toBeUndefined();
  });
});

describe('claimTemplate', () => {
  it('is size bytes: a space-filled header area, then the claim text padded with spaces', () => {
    const t = claimTemplate(128, 'double12');
    expect(t.length).toBe(128);
    expect(t.subarray(0, CLAIM_HEADER_BYTES).every((b) => b === 0x20)).toBe(true);
    const text = t.toString('latin1', CLAIM_HEADER_BYTES);
    expect(text.startsWith('activity=double12;channel=qr-home;prize=lottery-ticket;')).toBe(true);
    expect(text.trimEnd().length).toBeLessThan(text.length);
    expect(/^ +$/.test(text.slice(text.trimEnd().length))).toBe(true);
  });

  it('keeps the text after encodeClaim writes the header', () => {
    const t = claimTemplate(128, 'sale');
    const textBefore = t.toString('latin1', CLAIM_HEADER_BYTES);
    encodeClaim(t, 0, claim);
    expect(t.toString('latin1', CLAIM_HEADER_BYTES)).toBe(textBefore);
    expect(decodeClaim(t, claim.nonce)).toEqual(claim);
  });

  it('truncates the text to the size (header only at 32 bytes)', () => {
    expect(claimTemplate(CLAIM_HEADER_BYTES, 'x').length).toBe(CLAIM_HEADER_BYTES);
    const t = claimTemplate(40, 'x');
    expect(t.length).toBe(40);
    expect(t.toString('latin1', CLAIM_HEADER_BYTES)).toBe('activity');
  });

  it('rejects sizes below the header with a RangeError', () => {
    expect(() => claimTemplate(31, 'x')).toThrow(RangeError);
    expect(() => claimTemplate(0, 'x')).toThrow(/at least 32 bytes, got 0/);
  });
});

describe('userPermutation / userIndexOf', () => {
  function checkBijection(total: number): { multiplier: number; identity: boolean } {
    const { multiplier } = userPermutation(total);
    expect(Number.isInteger(multiplier)).toBe(true);
    expect(multiplier).toBeGreaterThanOrEqual(1);
    const seen = new Uint8Array(total);
    let identity = true;
    for (let i = 0; i < total; i++) {
      const u = userIndexOf(i, total, multiplier);
      if (!(Number.isInteger(u) && u >= 0 && u < total)) throw new Error(`total ${total}: ${i} -> ${u} out of range`);
      if (seen[u] !== 0) throw new Error(`total ${total}: user ${u} hit twice (i = ${i})`);
      seen[u] = 1;
      if (u !== i) identity = false;
    }
    return { multiplier, identity };
  }

  it('is a bijection on 0..total-1 for small totals', () => {
    for (const total of [1, 2, 3, 7, 10, 12, 64, 97, 100, 1000, 1024]) checkBijection(total);
    expect(userIndexOf(0, 1, userPermutation(1).multiplier)).toBe(0);
  });

  it('is a bijection for a large prime total', () => {
    expect(checkBijection(999_983).identity).toBe(false);
  });

  it('is a bijection for a total with many small factors', () => {
    checkBijection(2 * 3 * 5 * 7 * 11 * 13 * 17); // 510510
  });

  it('is not the identity for larger totals', () => {
    for (const total of [1000, 1024, 4096, 100_000]) {
      const r = checkBijection(total);
      expect(r.identity, `total ${total}`).toBe(false);
      expect(r.multiplier).toBeGreaterThan(1);
    }
  });

  it('stays exact where i * multiplier passes 2^53 (the BigInt path)', () => {
    const total = 999_999_937; // prime, above 2^26.5
    const { multiplier } = userPermutation(total);
    expect(multiplier).toBe(2_654_435_761 % total);
    const i = total - 1;
    expect(i * multiplier).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    const expected = Number((BigInt(i) * BigInt(multiplier)) % BigInt(total));
    expect(userIndexOf(i, total, multiplier)).toBe(expected);
    // (total - 1) * m = -m (mod total)
    expect(expected).toBe(total - multiplier);
  });
});
