// Authentication frames: a challenge-response handshake, the first thing on a
// connection to a server that has accounts (docs/PROTOCOL.md
// "Authentication", docs/SECURITY.md). The secret never crosses the wire:
// each side proves it knows it with an HMAC over both nonces.
//
// AUTH_HELLO (client to server, request): version u8 | name str8 | clientNonce (32 bytes)
//   response: serverNonce (32 bytes)
// AUTH_PROOF (client to server, request): clientProof (32 bytes)
//   response: role u8 (AuthRole) | serverProof (32 bytes)
//   A wrong proof is answered UNAUTHENTICATED and the connection closed.
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';

/** The handshake's version; a server refuses others. */
export const AUTH_VERSION = 1;
/** Length of each nonce and each proof (HMAC-SHA256). */
export const AUTH_NONCE_BYTES = 32;
export const AUTH_PROOF_BYTES = 32;

/** Roles on the wire (the order is part of the contract). */
export const AUTH_ROLES = ['admin', 'producer', 'consumer', 'broker', 'replica'] as const;
export type AuthRole = (typeof AUTH_ROLES)[number];

export interface AuthHello {
  version: number;
  name: string;
  clientNonce: Buffer;
}

export interface AuthProofReply {
  role: AuthRole;
  serverProof: Buffer;
}

export function encodeAuthHello(h: AuthHello): Buffer {
  return new BodyWriter(2 + Buffer.byteLength(h.name) + AUTH_NONCE_BYTES).u8(h.version).str8(h.name, 'account name').bytes(h.clientNonce).finish();
}

export function decodeAuthHello(body: Buffer): AuthHello {
  const r = new BodyReader(body);
  const version = r.u8('version');
  const name = r.str8('account name');
  const clientNonce = r.bytes(AUTH_NONCE_BYTES, 'client nonce');
  r.done('AUTH_HELLO');
  return { version, name, clientNonce };
}

export function encodeAuthChallenge(serverNonce: Buffer): Buffer {
  return Buffer.from(serverNonce);
}

export function decodeAuthChallenge(body: Buffer): Buffer {
  const r = new BodyReader(body);
  const nonce = r.bytes(AUTH_NONCE_BYTES, 'server nonce');
  r.done('the AUTH_HELLO reply');
  return nonce;
}

export function encodeAuthProof(proof: Buffer): Buffer {
  return Buffer.from(proof);
}

export function decodeAuthProof(body: Buffer): Buffer {
  const r = new BodyReader(body);
  const proof = r.bytes(AUTH_PROOF_BYTES, 'proof');
  r.done('AUTH_PROOF');
  return proof;
}

export function encodeAuthProofReply(p: AuthProofReply): Buffer {
  return new BodyWriter(1 + AUTH_PROOF_BYTES).u8(AUTH_ROLES.indexOf(p.role)).bytes(p.serverProof).finish();
}

export function decodeAuthProofReply(body: Buffer): AuthProofReply {
  const r = new BodyReader(body);
  const i = r.u8('role');
  const role = AUTH_ROLES[i];
  if (role === undefined) throw new MalformedFrameError(`unknown role ${i}`);
  const serverProof = r.bytes(AUTH_PROOF_BYTES, 'server proof');
  r.done('the AUTH_PROOF reply');
  return { role, serverProof };
}
