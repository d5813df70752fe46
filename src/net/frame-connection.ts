// One TCP connection speaking frames: decodes what arrives, and coalesces
// every frame sent during one task (a socket read, a store drain, a timer)
// and its microtasks into one socket write: a write costs ~5-7 us, and a busy
// broker answers hundreds of frames per task. A microtask rather than
// setImmediate: the frames still go out together, one event-loop turn sooner.
import type { Socket } from 'node:net';
import { MetaqError } from '../common/index.js';
import { encodeHeader, FrameDecoder, type Frame, type FrameHandler, type FrameHeader, type FrameStreamFailure } from '../protocol/index.js';

export interface FrameConnectionHandlers {
  onFrame(frame: Frame): void;
  /** The peer sent bytes that are not a valid frame stream. Reading has stopped. */
  onStreamFailure(failure: FrameStreamFailure): void;
  onClose(error: Error | undefined): void;
}

export class FrameConnection {
  readonly socket: Socket;
  readonly remote: string;
  #decoder: FrameDecoder;
  #handlers: FrameConnectionHandlers;
  readonly #onFrame: FrameHandler;
  #out: Buffer[] = [];
  #flushScheduled = false;
  #closed = false;
  /** end() was called: nothing more is read or sent. */
  #ending = false;

  /**
   * `readsIntoSharedBuffer`: the socket was opened with `onread` (one reused
   * read buffer, see RequestClient) and its reads are fed through `receive`;
   * frames are then copied out before they are handed on. Otherwise the
   * connection listens to 'data' itself.
   */
  constructor(socket: Socket, maxFrameSize: number, handlers: FrameConnectionHandlers, readsIntoSharedBuffer = false) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#decoder = new FrameDecoder(maxFrameSize);
    // A frame that spanned reads is already in memory of its own (the decoder's): only views into the read buffer are copied.
    this.#handlers = handlers;
    // A frame that spanned reads is already in memory of its own (the decoder's): only views into the shared read buffer are copied.
    this.#onFrame = readsIntoSharedBuffer ? (f, owned) => handlers.onFrame(owned ? f : { ...f, body: Buffer.from(f.body) }) : (f) => handlers.onFrame(f);
    socket.setNoDelay(true);
    if (!readsIntoSharedBuffer) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    let error: Error | undefined;
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#out = [];
      handlers.onClose(error);
    });
  }

  /** Bytes read from the socket. */
  receive(chunk: Buffer): void {
    if (this.#closed || this.#ending) return;
    const failure = this.#decoder.push(chunk, this.#onFrame);
    if (failure !== undefined) {
      this.socket.pause();
      this.#handlers.onStreamFailure(failure);
    }
  }

  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** Queues a frame; `body` may be several buffers (sent without copying them together). */
  send(header: FrameHeader, body?: Buffer | readonly Buffer[]): void {
    if (this.#closed || this.#ending) return;
    if (body === undefined) {
      this.#out.push(encodeHeader(header, 0));
    } else if (Buffer.isBuffer(body)) {
      this.#out.push(encodeHeader(header, body.length), body);
    } else {
      let n = 0;
      for (const b of body) n += b.length;
      this.#out.push(encodeHeader(header, n));
      for (const b of body) if (b.length > 0) this.#out.push(b);
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#closed) return;
    this.#out = [];
    if (out.length === 1) {
      this.socket.write(out[0]!);
      return;
    }
    // cork/uncork turns the writes into one writev syscall.
    this.socket.cork();
    for (const b of out) this.socket.write(b);
    this.socket.uncork();
  };

  /** Sends what is queued, then closes. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#flush();
    this.#ending = true;
    this.socket.end();
    // A peer that never reads must not keep the socket open forever.
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  destroy(error?: MetaqError): void {
    this.#closed = true;
    this.socket.destroy(error);
  }
}

const END_GRACE_MS = 2000;
