// The handshake's proofs: HMAC-SHA256 keyed by the account's secret over a
// label (which side proves, and the protocol's version), the account name and
// both nonces. Both nonces bind a proof to one connection: a recorded proof
// is useless on another. The labels differ so neither side's proof can be
// replayed as the other's.
import { createHmac, timingSafeEqual } from 'node:crypto';

const CLIENT_LABEL = 'metaq-auth-v1 client';
const SERVER_LABEL = 'metaq-auth-v1 server';

function proof(label: string, key: Buffer, name: string, clientNonce: Buffer, serverNonce: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  return createHmac('sha256', key)
    .update(label)
    .update(Buffer.from([0, nameBytes.length]))
    .update(nameBytes)
    .update(clientNonce)
    .update(serverNonce)
    .digest();
}

export function clientProof(key: Buffer, name: string, clientNonce: Buffer, serverNonce: Buffer): Buffer {
  return proof(CLIENT_LABEL, key, name, clientNonce, serverNonce);
}

export function serverProof(key: Buffer, name: string, clientNonce: Buffer, serverNonce: Buffer): Buffer {
  return proof(SERVER_LABEL, key, name, clientNonce, serverNonce);
}

/** Constant-time comparison of two proofs (a length mismatch is just false). */
export function proofsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
