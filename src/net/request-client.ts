// The client side of a framed connection: pipelined requests matched to
// responses by request id, a timeout per request (checked by one sweep timer,
// not a timer per request), typed errors for error statuses, and oneway
// notifications handed to a listener.
import { ConnectError, ConnectionClosedError, MetaqError, RequestTimeoutError } from '../common/index.js';
import {
  decodeErrorBody,
  DEFAULT_MAX_FRAME_SIZE,
  errorForStatus,
  FrameFlag,
  isErrorStatus,
  opcodeName,
  type Frame,
} from '../protocol/index.js';
import { parseAddress } from './address.js';
import { FrameConnection } from './frame-connection.js';
import type { ClientTls } from './tls-options.js';
import { connectFailure, openSocket } from './transport.js';
import { authenticate, type Credential, type Role } from '../security/index.js';

export interface RequestClientOptions {
  connectTimeoutMs?: number;
  maxFrameSize?: number;
  /** Oneway frames from the server. */
  onNotify?: (frame: Frame) => void;
  /** The connection closed (after all pending requests were failed). */
  onClose?: (error: Error | undefined) => void;
  /** Connect over TLS (loadClientTls); default plain TCP. */
  tls?: ClientTls;
  /**
   * Authenticates with this account before `connect` resolves (one handshake
   * per connection; the server must prove it knows the secret too). A wrong
   * secret, an unknown name or a server without accounts rejects with
   * AuthenticationError.
   */
  credential?: Credential;
}

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  deadline: number;
  opcode: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const SWEEP_INTERVAL_MS = 50;
const MAX_REQUEST_ID = 0xffffffff;
const READ_BUFFER_SIZE = 256 * 1024;

export class RequestClient {
  readonly addr: string;
  #conn: FrameConnection;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #sweep: NodeJS.Timeout;
  #closeError: Error | undefined;
  /** The server answered at least once (a connection closed before that is worth a hint). */
  #answered = false;
  /** Why the server said it closes this connection (an error frame with request id 0: a limit), given to every request it fails. */
  #serverError: MetaqError | undefined;
  /** The role the server granted (undefined without a credential). */
  role: Role | undefined;

  private constructor(addr: string, conn: FrameConnection) {
    this.addr = addr;
    this.#conn = conn;
    this.#sweep = setInterval(() => this.#expire(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  static async connect(addr: string, options: RequestClientOptions = {}): Promise<RequestClient> {
    const client = await RequestClient.#open(addr, options);
    const credential = options.credential;
    if (credential === undefined) return client;
    try {
      client.role = await authenticate(async (opcode, body) => (await client.call(opcode, body, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)).body, credential, addr);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  static #open(addr: string, options: RequestClientOptions): Promise<RequestClient> {
    const { host, port } = parseAddress(addr);
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let client: RequestClient | undefined;
      let conn: FrameConnection | undefined;
      // One reused read buffer instead of a fresh 64 KiB one per read: a
      // consumer reading thousands of times a second otherwise made V8 run a
      // full mark-compact every ~0.4 s for the external memory alone (the
      // largest part of its latency tail). Frames are copied out of it.
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
      const onread = {
        buffer: readBuffer,
        callback: (n: number) => {
          conn?.receive(readBuffer.subarray(0, n));
          return true;
        },
      };
      const { socket, ready } = openSocket(host, port, onread, options.tls);
      // Under TLS, 'connect' is the TCP connection: a failure after it is the handshake's.
      let tcpConnected = false;
      if (options.tls !== undefined) socket.once('connect', () => (tcpConnected = true));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectError(`connecting to ${addr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        if (client !== undefined) return;
        clearTimeout(timer);
        reject(connectFailure(addr, err, options.tls, tcpConnected));
      });
      socket.once(ready, () => {
        clearTimeout(timer);
        conn = new FrameConnection(socket, options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, {
          onFrame: (f) => client!.#onFrame(f, options),
          onStreamFailure: (failure) => {
            client!.#closeError = failure.error;
            socket.destroy();
          },
          onClose: (err) => {
            client!.#failAll(err);
            options.onClose?.(err);
          },
        }, true);
        client = new RequestClient(addr, conn);
        resolve(client);
      });
    });
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request and resolves with the response frame whatever its status
   * (callers that treat some statuses as normal outcomes, like PULL's, need
   * them); use `call` to get error statuses as typed errors.
   */
  request(opcode: number, body: Buffer | readonly Buffer[] | undefined, timeoutMs: number): Promise<Frame> {
    if (this.#conn.closed) return Promise.reject(this.#closedError());
    const requestId = this.#nextId;
    this.#nextId = this.#nextId === MAX_REQUEST_ID ? 1 : this.#nextId + 1;
    return new Promise<Frame>((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject, deadline: Date.now() + timeoutMs, opcode });
      this.#conn.send({ opcode, flags: 0, requestId, status: 0 }, body);
    });
  }

  /** Like `request`, but an error status rejects with the matching typed error. */
  async call(opcode: number, body: Buffer | readonly Buffer[] | undefined, timeoutMs: number): Promise<Frame> {
    const f = await this.request(opcode, body, timeoutMs);
    if (isErrorStatus(f.status)) throw errorForStatus(f.status, `${this.addr}: ${decodeErrorBody(f.body)}`);
    return f;
  }

  /** Sends a frame that expects no answer. */
  notify(opcode: number, body: Buffer): void {
    this.#conn.send({ opcode, flags: FrameFlag.Oneway, requestId: 0, status: 0 }, body);
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#conn.end();
    this.#failAll(undefined);
  }

  #onFrame(f: Frame, options: RequestClientOptions): void {
    this.#answered = true;
    if ((f.flags & FrameFlag.Response) === 0) {
      options.onNotify?.(f);
      return;
    }
    const p = this.#pending.get(f.requestId);
    if (p === undefined) {
      // Request id 0 is never a request's: the server's reason for closing (a limit reached).
      if (f.requestId === 0 && isErrorStatus(f.status)) this.#serverError = errorForStatus(f.status, `${this.addr}: ${decodeErrorBody(f.body)}`);
      return; // or timed out already: the late answer has nobody waiting
    }
    this.#pending.delete(f.requestId);
    p.resolve(f);
  }

  #expire(): void {
    if (this.#pending.size === 0) return;
    const now = Date.now();
    for (const [id, p] of this.#pending) {
      if (p.deadline <= now) {
        this.#pending.delete(id);
        p.reject(new RequestTimeoutError(`${opcodeName(p.opcode)} to ${this.addr} got no answer in time`));
      }
    }
  }

  #closedError(): MetaqError {
    if (this.#serverError !== undefined) return this.#serverError;
    // A plain client on a TLS port (or one a server drops at once) sees only the close: say what may be wrong.
    const hint = this.#answered || this.#closeError !== undefined ? '' : ' (the server closed it without answering anything: if it serves TLS, connect with TLS options, e.g. --tls-ca)';
    return new ConnectionClosedError(`connection to ${this.addr} is closed${hint}`, { cause: this.#closeError });
  }

  #failAll(err: Error | undefined): void {
    clearInterval(this.#sweep);
    if (err !== undefined && this.#closeError === undefined) this.#closeError = err;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const p of pending.values()) p.reject(this.#closedError());
  }
}
