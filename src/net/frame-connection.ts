// One TCP connection speaking frames: decodes what arrives, and coalesces
// everything sent during one event-loop turn into one socket write (a write
// costs ~5-7 us; a busy broker answers hundreds of frames per turn).
import type { Socket } from 'node:net';
import { MetaqError } from '../common/errors.js';
import { encodeHeader, FrameDecoder, type Frame, type FrameHeader, type FrameStreamFailure } from '../protocol/index.js';

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
  #out: Buffer[] = [];
  #flushScheduled = false;
  #closed = false;
  /** end() was called: nothing more is read or sent. */
  #ending = false;

  constructor(socket: Socket, maxFrameSize: number, handlers: FrameConnectionHandlers) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#decoder = new FrameDecoder(maxFrameSize);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.#closed || this.#ending) return;
      const failure = this.#decoder.push(chunk, handlers.onFrame);
      if (failure !== undefined) {
        socket.pause();
        handlers.onStreamFailure(failure);
      }
    });
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

  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** Bytes queued in the socket and not yet handed to the kernel. */
  get backlogBytes(): number {
    return this.socket.writableLength;
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
      setImmediate(this.#flush);
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
