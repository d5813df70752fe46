// The server side of the handshake (protocol/auth.ts): answers AUTH_HELLO
// with a fresh nonce, checks AUTH_PROOF in constant time, proves in turn that
// it knows the secret, and names the principal. An unknown name is answered
// like a known one and fails at the proof: the reply does not tell which
// names exist. A server may take only some roles (a replication port takes
// replica accounts only).
import { randomBytes } from 'node:crypto';
import { AccessDeniedError, AuthenticationError } from '../common/index.js';
import {
  AUTH_NONCE_BYTES,
  AUTH_VERSION,
  decodeAuthHello,
  decodeAuthProof,
  encodeAuthChallenge,
  encodeAuthProofReply,
} from '../protocol/index.js';
import type { Accounts } from './accounts.js';
import type { Principal } from './principal.js';
import { clientProof, proofsEqual, serverProof } from './proofs.js';
import type { Role } from './roles.js';

/** What the server remembers between AUTH_HELLO and AUTH_PROOF on one connection. */
export interface PendingAuth {
  readonly name: string;
  readonly clientNonce: Buffer;
  readonly serverNonce: Buffer;
}

export interface AuthenticatorOptions {
  accounts: Accounts;
  /** Roles this server takes (all when absent); another role's valid proof is refused with ACCESS_DENIED. */
  roles?: readonly Role[];
  /** What this server is, for messages ("broker broker-a", "replication port of broker-a"). */
  what?: string;
}

/** Keys an unknown name's proof is checked against, so that it costs the same and always fails. */
const UNKNOWN_KEY = randomBytes(32);

export class Authenticator {
  readonly #accounts: Accounts;
  readonly #roles: ReadonlySet<Role> | undefined;
  readonly #what: string;

  constructor(o: AuthenticatorOptions) {
    this.#accounts = o.accounts;
    this.#roles = o.roles === undefined ? undefined : new Set(o.roles);
    this.#what = o.what ?? 'this server';
  }

  /** AUTH_HELLO: the reply body and what the proof will be checked against. */
  hello(body: Buffer): { reply: Buffer; pending: PendingAuth } {
    const h = decodeAuthHello(body);
    if (h.version !== AUTH_VERSION) throw new AuthenticationError(`${this.#what} speaks authentication version ${AUTH_VERSION}, not ${h.version}`);
    const serverNonce = randomBytes(AUTH_NONCE_BYTES);
    // Copied: the body may be a view of a reused read buffer.
    return { reply: encodeAuthChallenge(serverNonce), pending: { name: h.name, clientNonce: Buffer.from(h.clientNonce), serverNonce } };
  }

  /** AUTH_PROOF: the principal and the reply body (the server's proof); throws if the proof is wrong or the role not taken here. */
  prove(pending: PendingAuth, body: Buffer): { principal: Principal; reply: Buffer } {
    const proof = decodeAuthProof(body);
    const account = this.#accounts.lookup(pending.name);
    const expected = clientProof(account?.key ?? UNKNOWN_KEY, pending.name, pending.clientNonce, pending.serverNonce);
    if (!proofsEqual(proof, expected) || account === undefined) {
      throw new AuthenticationError(`${this.#what}: authentication failed for account ${JSON.stringify(pending.name)}: unknown name or wrong secret`);
    }
    const principal = account.principal;
    if (this.#roles !== undefined && !this.#roles.has(principal.role)) {
      throw new AccessDeniedError(`${this.#what} takes only ${[...this.#roles].join(', ')} accounts; ${JSON.stringify(principal.name)} is a ${principal.role} account`);
    }
    const reply = encodeAuthProofReply({ role: principal.role, serverProof: serverProof(account.key, pending.name, pending.clientNonce, pending.serverNonce) });
    return { principal, reply };
  }
}
