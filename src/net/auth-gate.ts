// The authentication gate of a RequestServer that has accounts: a new
// connection may send only the handshake (AUTH_HELLO, AUTH_PROOF) until it
// has authenticated; anything else, a failed proof, or a handshake not done
// within the timeout is answered UNAUTHENTICATED (when it expects an answer)
// and the connection closed. One handshake per connection: after it, each
// request costs one read of the principal's opcode mask (request-server.ts).
import { AccessDeniedError, AuthenticationError, InvalidRequestError, type RefusalCounters } from '../common/index.js';
import { encodeErrorBody, FrameFlag, Opcode, opcodeName, Status, statusForError, type Frame } from '../protocol/index.js';
import type { Authenticator, PendingAuth, Principal } from '../security/index.js';
import type { FrameConnection } from './frame-connection.js';

/** Refusal counter names (BROKER_STATS refusals, docs/SECURITY.md). */
export const UNAUTHENTICATED = 'unauthenticated';
export const ACCESS_DENIED = 'accessDenied';

/** How long a connection may take to authenticate by default. */
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;

/** A server-side connection's authentication state. */
export interface GatedConnection {
  readonly conn: FrameConnection;
  principal: Principal | undefined;
  pendingAuth: PendingAuth | undefined;
  authTimer: NodeJS.Timeout | undefined;
}

export class AuthGate {
  readonly #authenticator: Authenticator;
  readonly #refusals: RefusalCounters | undefined;
  readonly #timeoutMs: number;

  constructor(authenticator: Authenticator, refusals: RefusalCounters | undefined, timeoutMs: number) {
    this.#authenticator = authenticator;
    this.#refusals = refusals;
    this.#timeoutMs = timeoutMs;
  }

  /** A new connection: closed unless it authenticates within the timeout. */
  admit(c: GatedConnection): void {
    c.authTimer = setTimeout(() => {
      c.authTimer = undefined;
      if (c.principal !== undefined || c.conn.closed) return;
      this.#refusals?.count(UNAUTHENTICATED);
      c.conn.end();
    }, this.#timeoutMs);
    c.authTimer.unref();
  }

  /** The connection closed: its timer goes with it. */
  release(c: GatedConnection): void {
    if (c.authTimer !== undefined) clearTimeout(c.authTimer);
    c.authTimer = undefined;
  }

  /** A frame on a connection that has not authenticated: the handshake's next step, or a refusal that closes it. */
  unauthenticated(frame: Frame, c: GatedConnection): void {
    if (c.conn.closed) return; // frames read with a refused one: already answered
    try {
      if (frame.opcode === Opcode.AuthHello && c.pendingAuth === undefined) {
        const { reply, pending } = this.#authenticator.hello(frame.body);
        c.pendingAuth = pending;
        this.#reply(c, frame, Status.Ok, reply);
      } else if (frame.opcode === Opcode.AuthProof && c.pendingAuth !== undefined) {
        const pending = c.pendingAuth;
        c.pendingAuth = undefined;
        const { principal, reply } = this.#authenticator.prove(pending, frame.body);
        c.principal = principal;
        this.release(c);
        this.#reply(c, frame, Status.Ok, reply);
      } else {
        throw new AuthenticationError(`${opcodeName(frame.opcode)} refused: this server takes requests only from authenticated connections: give the client a credential (docs/SECURITY.md), which sends AUTH_HELLO and AUTH_PROOF first`);
      }
    } catch (err) {
      this.#refusals?.count(err instanceof AccessDeniedError ? ACCESS_DENIED : UNAUTHENTICATED);
      const e = err instanceof AuthenticationError || err instanceof AccessDeniedError ? err : new AuthenticationError(`handshake refused: ${(err as Error).message}`, { cause: err });
      this.#reply(c, frame, statusForError(e), encodeErrorBody(e.message));
      c.conn.end();
    }
  }

  /** A second handshake on an authenticated connection. */
  static again(frame: Frame): InvalidRequestError {
    return new InvalidRequestError(`${opcodeName(frame.opcode)}: this connection has authenticated already (one handshake per connection)`);
  }

  /** The refusal of a request the principal's role may not make (counted where it is answered). */
  static denied(frame: Frame, principal: Principal): AccessDeniedError {
    return new AccessDeniedError(`account ${JSON.stringify(principal.name)} (${principal.role}) may not send ${opcodeName(frame.opcode)} (docs/SECURITY.md "Credentials and roles")`);
  }

  #reply(c: GatedConnection, req: Frame, status: number, body: Buffer): void {
    if ((req.flags & FrameFlag.Oneway) !== 0) return;
    c.conn.send({ opcode: req.opcode, flags: FrameFlag.Response, requestId: req.requestId, status }, body);
  }
}
