// The client side of the handshake: proves it knows its secret, then checks
// that the server knows it too (a server that cannot prove it is refused,
// so a slave or a client is never fooled by an impostor holding no secrets).
import { randomBytes } from 'node:crypto';
import { AuthenticationError, UnknownOpcodeError } from '../common/index.js';
import {
  AUTH_NONCE_BYTES,
  AUTH_VERSION,
  decodeAuthChallenge,
  decodeAuthProofReply,
  encodeAuthHello,
  encodeAuthProof,
  Opcode,
} from '../protocol/index.js';
import type { Credential } from './credential.js';
import { clientProof, proofsEqual, serverProof } from './proofs.js';
import type { Role } from './roles.js';

/** Sends one request and resolves with the response body; an error status rejects with its typed error. */
export type CallFn = (opcode: number, body: Buffer) => Promise<Buffer>;

/** Runs the handshake over `call`; resolves with the role the server granted. */
export async function authenticate(call: CallFn, credential: Credential, server: string): Promise<Role> {
  const key = Buffer.from(credential.secret, 'utf8');
  const clientNonce = randomBytes(AUTH_NONCE_BYTES);
  let challenge: Buffer;
  try {
    challenge = await call(Opcode.AuthHello, encodeAuthHello({ version: AUTH_VERSION, name: credential.name, clientNonce }));
  } catch (err) {
    if (err instanceof UnknownOpcodeError) {
      throw new AuthenticationError(`${server} does not authenticate (it runs without accounts) but this client has a credential (${credential.name}): it cannot prove who it is, so it is not trusted; configure accounts there or connect without a credential`, { cause: err });
    }
    throw err;
  }
  const serverNonce = decodeAuthChallenge(challenge);
  const reply = decodeAuthProofReply(await call(Opcode.AuthProof, encodeAuthProof(clientProof(key, credential.name, clientNonce, serverNonce))));
  if (!proofsEqual(reply.serverProof, serverProof(key, credential.name, clientNonce, serverNonce))) {
    throw new AuthenticationError(`${server} accepted account ${JSON.stringify(credential.name)} but could not prove it knows its secret: not the server it claims to be`);
  }
  return reply.role;
}
