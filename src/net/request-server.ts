// A TCP server that answers framed requests: the part the broker and the name
// server share. It owns connections, dispatches each request to the handler
// of its opcode, turns thrown typed errors into error responses, and closes a
// connection that sent a malformed frame (after answering it) while every
// other connection carries on. Its ConnectionLimits bound what one peer can
// hold: connections, requests in flight, queued output (FrameConnection's
// backpressure) and a stalled partial frame; each refusal is counted.
import type { Server, Socket } from 'node:net';
import { LimitExceededError, MalformedFrameError, MetaqError, FrameTooLargeError, UnknownOpcodeError, type RefusalCounters } from '../common/index.js';
import {
  encodeErrorBody,
  FrameFlag,
  Opcode,
  opcodeName,
  Status,
  statusForError,
  type Frame,
  type FrameStreamFailure,
} from '../protocol/index.js';
import { CONNECTION_LIMIT_DEFAULTS, LIMIT, type ConnectionLimits } from './connection-limits.js';
import { FrameConnection, ReadPause } from './frame-connection.js';
import type { ServerTls } from './tls-options.js';
import { createSocketServer, TLS_HANDSHAKE_REFUSAL, type SocketServer } from './transport.js';
import type { Authenticator, PendingAuth, Principal } from '../security/index.js';
import { ACCESS_DENIED, AuthGate, DEFAULT_AUTH_TIMEOUT_MS, type GatedConnection } from './auth-gate.js';

/** What a handler answers: a status (default Ok) and a body (one or several buffers). */
export interface Reply {
  status?: number;
  body?: Buffer | readonly Buffer[];
}

/** The connection a request came on, for handlers that keep per-client state. */
export interface RequestContext {
  readonly connectionId: number;
  readonly remote: string;
  /** Who authenticated on this connection (undefined on a server without accounts). */
  readonly principal: Principal | undefined;
  /** True once the connection closed (a held request then has nobody to answer). */
  readonly closed: boolean;
  /** Sends a oneway frame (a notification) to this peer. */
  notify(opcode: number, body: Buffer | readonly Buffer[]): void;
  /** Runs `fn` when the connection closes. */
  onClose(fn: () => void): void;
  /** Output to this peer is above its high-water mark (it reads slower than it is answered): make nothing more for it until whenWritable. */
  readonly congested: boolean;
  /**
   * Runs `produce` now, or once the peer's queued output has drained if it
   * is congested (never if the connection closes first). `produce` makes an
   * answer (a held request's) and returns its size in bytes, or 0 if it sent
   * it itself.
   */
  whenWritable(produce: () => number): void;
  /** Sends what is queued, then closes the connection (a peer this server gives up on); FrameConnection.end cuts a peer that does not take it after a grace period. */
  close(): void;
}

/** Returns the reply, a promise of it (answered when it settles), or throws a typed error. */
export type Handler = (frame: Frame, ctx: RequestContext) => Reply | Promise<Reply>;

export interface RequestServerOptions {
  host: string;
  port: number;
  maxFrameSize: number;
  handlers: ReadonlyMap<number, Handler>;
  /** Called for errors that are not the client's fault (for logging). */
  onInternalError?: (err: unknown, frame: Frame) => void;
  /** Where this server counts what its limits and security checks refused (the owner's stats). */
  refusals?: RefusalCounters;
  /** Serve over TLS (loadServerTls); default plain TCP. */
  tls?: ServerTls;
  /** Default CONNECTION_LIMIT_DEFAULTS. */
  limits?: ConnectionLimits;
  /** Accounts this server takes (security/): without one the server is open, as on a loopback-only broker. */
  authenticator?: Authenticator;
  /** A connection that has not authenticated after this long is closed. Default 10000 ms. */
  authTimeoutMs?: number;
}

const OK: Reply = {};

class Connection implements RequestContext, GatedConnection {
  readonly connectionId: number;
  readonly conn: FrameConnection;
  /** Requests answered asynchronously and not answered yet. */
  inFlight = 0;
  principal: Principal | undefined;
  pendingAuth: PendingAuth | undefined;
  authTimer: NodeJS.Timeout | undefined;
  #closeHooks: (() => void)[] = [];

  constructor(id: number, conn: FrameConnection) {
    this.connectionId = id;
    this.conn = conn;
  }

  get remote(): string {
    return this.conn.remote;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  notify(opcode: number, body: Buffer | readonly Buffer[]): void {
    this.conn.send({ opcode, flags: FrameFlag.Oneway, requestId: 0, status: Status.Ok }, body);
  }

  onClose(fn: () => void): void {
    this.#closeHooks.push(fn);
  }

  close(): void {
    this.conn.end();
  }

  get congested(): boolean {
    return this.conn.congested;
  }

  whenWritable(produce: () => number): void {
    this.conn.whenWritable(produce);
  }

  runCloseHooks(): void {
    const hooks = this.#closeHooks;
    this.#closeHooks = [];
    for (const h of hooks) h();
  }
}

export class RequestServer {
  readonly #server: Server;
  readonly #sockets: SocketServer;
  readonly #options: RequestServerOptions;
  readonly #connections = new Set<Connection>();
  readonly #limits: ConnectionLimits;
  readonly #onOutputPause: () => void;
  #sweep: NodeJS.Timeout | undefined;
  readonly #gate: AuthGate | undefined;
  #nextId = 1;
  #port = 0;

  private constructor(options: RequestServerOptions) {
    this.#options = options;
    this.#limits = options.limits ?? CONNECTION_LIMIT_DEFAULTS;
    this.#onOutputPause = () => options.refusals?.count(LIMIT.output);
    this.#sockets = createSocketServer(options.tls, (socket) => this.#accept(socket), () => options.refusals?.count(TLS_HANDSHAKE_REFUSAL));
    this.#server = this.#sockets.server;
    // Under TLS a connection reaches #accept (and its count) only after its handshake: bound the sockets still handshaking at the listener too.
    if (options.tls !== undefined) this.#server.maxConnections = this.#limits.maxConnections;
    this.#gate = options.authenticator === undefined ? undefined : new AuthGate(options.authenticator, options.refusals, options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS);
  }

  static async listen(options: RequestServerOptions): Promise<RequestServer> {
    const s = new RequestServer(options);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(options.port, options.host, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    // An accept that fails (out of file descriptors) is the server's trouble, not a crash: it keeps listening.
    s.#server.on('error', () => options.refusals?.count(ACCEPT_FAILED));
    const timeoutMs = s.#limits.partialFrameTimeoutMs;
    if (timeoutMs > 0) {
      s.#sweep = setInterval(() => s.#closeStalled(timeoutMs), Math.max(MIN_SWEEP_MS, Math.floor(timeoutMs / SWEEPS_PER_TIMEOUT)));
      s.#sweep.unref();
    }
    const addr = s.#server.address();
    s.#port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
    return s;
  }

  get port(): number {
    return this.#port;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#connections) c.conn.end();
    for (const c of this.#connections) c.conn.socket.destroy();
    this.#sockets.destroyAll();
    await closed;
  }

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.#limits.maxConnections) {
      this.#refuseConnection(socket);
      return;
    }
    const id = this.#nextId++;
    let ctx: Connection | undefined;
    const conn = new FrameConnection(
      socket,
      this.#options.maxFrameSize,
      {
        onFrame: (f) => this.#dispatch(f, ctx!),
        onStreamFailure: (failure) => this.#refuseStream(ctx!, failure),
        onClose: () => {
          this.#connections.delete(ctx!);
          this.#gate?.release(ctx!);
          ctx!.runCloseHooks();
        },
      },
      false,
      { outputHighWaterBytes: this.#limits.outputHighWaterBytes, onOutputPause: this.#onOutputPause },
    );
    ctx = new Connection(id, conn);
    this.#connections.add(ctx);
    this.#gate?.admit(ctx);
  }

  /** One connection over maxConnections: told why (request id 0), then closed. */
  #refuseConnection(socket: Socket): void {
    this.#options.refusals?.count(LIMIT.connections);
    const conn = new FrameConnection(socket, this.#options.maxFrameSize, { onFrame: () => undefined, onStreamFailure: () => undefined, onClose: () => undefined });
    const max = this.#limits.maxConnections;
    this.#closeWith(conn, new LimitExceededError(LIMIT.connections, `this server serves at most ${max} connections at once (maxConnections): try again later, or raise the limit`));
  }

  /** Closes connections whose partial frame got no byte for the timeout (a peer holding a frame open). */
  #closeStalled(timeoutMs: number): void {
    const now = Date.now();
    for (const c of this.#connections) {
      if (c.conn.closed || c.conn.partialFrameIdleMs(now) < timeoutMs) continue;
      this.#options.refusals?.count(LIMIT.partialFrame);
      this.#closeWith(c.conn, new LimitExceededError(LIMIT.partialFrame, `a frame begun on this connection got no further byte for ${timeoutMs} ms (partialFrameTimeoutMs): closing`));
    }
  }

  /** Tells the peer why this side closes (request id 0: no request of its own), then closes. */
  #closeWith(conn: FrameConnection, err: MetaqError): void {
    conn.send({ opcode: 0, flags: FrameFlag.Response, requestId: 0, status: statusForError(err) }, encodeErrorBody(err.message));
    conn.end();
  }

  #dispatch(frame: Frame, ctx: Connection): void {
    if ((frame.flags & FrameFlag.Response) !== 0) {
      this.#fail(ctx, frame, new MalformedFrameError('a server does not take responses'));
      return;
    }
    const gate = this.#gate;
    if (gate !== undefined) {
      // Per request: one byte read from the role's mask; the handshake ran once per connection.
      const p = ctx.principal;
      if (p === undefined) return gate.unauthenticated(frame, ctx);
      if (p.mask[frame.opcode] !== 1) return this.#fail(ctx, frame, AuthGate.denied(frame, p));
      if (frame.opcode === Opcode.AuthHello || frame.opcode === Opcode.AuthProof) return this.#fail(ctx, frame, AuthGate.again(frame));
    }
    const handler = this.#options.handlers.get(frame.opcode);
    if (handler === undefined) {
      this.#fail(ctx, frame, new UnknownOpcodeError(`${opcodeName(frame.opcode)} is not served here`));
      return;
    }
    let reply: Reply | Promise<Reply>;
    try {
      reply = handler(frame, ctx);
    } catch (err) {
      this.#fail(ctx, frame, err);
      return;
    }
    if (reply instanceof Promise) {
      // Only answers that wait count as in flight: a synchronous one is sent before the next frame is read.
      if (++ctx.inFlight >= this.#limits.maxInFlightPerConnection) this.#pauseInFlight(ctx);
      reply.then(
        (r) => {
          this.#settled(ctx);
          this.#answer(ctx, frame, r);
        },
        (err: unknown) => {
          this.#settled(ctx);
          this.#fail(ctx, frame, err);
        },
      );
    } else {
      this.#answer(ctx, frame, reply);
    }
  }

  #pauseInFlight(ctx: Connection): void {
    ctx.conn.pauseReading(ReadPause.InFlight);
    this.#options.refusals?.count(LIMIT.inFlight);
  }

  #settled(ctx: Connection): void {
    if (ctx.inFlight-- === this.#limits.maxInFlightPerConnection) ctx.conn.resumeReading(ReadPause.InFlight);
  }

  #answer(ctx: Connection, req: Frame, reply: Reply): void {
    if ((req.flags & FrameFlag.Oneway) !== 0) return;
    const r = reply ?? OK;
    ctx.conn.send({ opcode: req.opcode, flags: FrameFlag.Response, requestId: req.requestId, status: r.status ?? Status.Ok }, r.body);
  }

  /** Answers with the error's status; a frame the server could not parse also closes the connection. */
  #fail(ctx: Connection, req: Frame, err: unknown): void {
    const status = statusForError(err);
    if (status === Status.InternalError) this.#options.onInternalError?.(err, req);
    // The role's mask or a handler's scope check (a consumer's group, a broker's name).
    if (status === Status.AccessDenied) this.#options.refusals?.count(ACCESS_DENIED);
    const message = err instanceof Error ? err.message : String(err);
    if ((req.flags & FrameFlag.Oneway) === 0) ctx.conn.send({ opcode: req.opcode, flags: FrameFlag.Response, requestId: req.requestId, status }, encodeErrorBody(message));
    if (err instanceof MalformedFrameError || err instanceof UnknownOpcodeError || err instanceof FrameTooLargeError) ctx.conn.end();
  }

  #refuseStream(ctx: Connection, failure: FrameStreamFailure): void {
    const header = failure.header ?? { opcode: 0, flags: 0, requestId: 0, status: 0 };
    const err: MetaqError = failure.error;
    ctx.conn.send({ opcode: header.opcode, flags: FrameFlag.Response, requestId: header.requestId, status: statusForError(err) }, encodeErrorBody(err.message));
    ctx.conn.end();
  }
}

/** Counted when the listener fails to accept a connection (out of file descriptors): raise the process's limit above maxConnections. */
const ACCEPT_FAILED = 'acceptFailed';
/** The partial-frame sweep runs this often per timeout (a stalled peer is closed within 1.25 timeouts). */
const SWEEPS_PER_TIMEOUT = 4;
const MIN_SWEEP_MS = 10;
