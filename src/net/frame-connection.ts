// One TCP connection speaking frames: decodes what arrives, and coalesces
// every frame sent during one task (a socket read, a store drain, a timer)
// and its microtasks into one socket write: a write costs ~5-7 us, and a busy
// broker answers hundreds of frames per task. A microtask rather than
// setImmediate: the frames still go out together, one event-loop turn sooner.
//
// Backpressure (servers): reading can be paused for reasons of the owner's
// (requests in flight) or its own (output above the high-water mark). While
// paused, frames already decoded from the last read wait here, in order, and
// the socket stops reading; a peer that never reads its answers therefore
// holds about the high-water mark, not whatever it asked for. Answers made
// later (a long poll woken) ask for room first (whenWritable) and say how
// big they are, so a burst of them stops at the mark too. The plain path pays
// an integer add and a comparison per frame sent and one length read per write.
import type { Socket } from 'node:net';
import { MetaqError } from '../common/index.js';
import { encodeHeader, FrameDecoder, type Frame, type FrameHandler, type FrameHeader, type FrameStreamFailure } from '../protocol/index.js';

export interface FrameConnectionHandlers {
  onFrame(frame: Frame): void;
  /** The peer sent bytes that are not a valid frame stream. Reading has stopped. */
  onStreamFailure(failure: FrameStreamFailure): void;
  onClose(error: Error | undefined): void;
}

/** How a connection's own output holds back its reading (servers; clients leave it off). */
export interface FrameConnectionFlow {
  /** Queued output above which reading pauses until the socket drains (see ConnectionLimits). */
  outputHighWaterBytes: number;
  /** Called each time reading pauses for output (the server counts it). */
  onOutputPause?: () => void;
}

/** Why reading is paused: bits, any of them pauses. */
export const ReadPause = {
  /** Output above the high-water mark (the connection's own). */
  Output: 1,
  /** Too many requests in flight (the server's). */
  InFlight: 2,
} as const;

export class FrameConnection {
  readonly socket: Socket;
  readonly remote: string;
  #decoder: FrameDecoder;
  #handlers: FrameConnectionHandlers;
  readonly #onFrame: FrameHandler;
  #out: Buffer[] = [];
  /** Bytes in #out, and those whenWritable's answers said they would add (until the next flush). */
  #queued = 0;
  #flushScheduled = false;
  #closed = false;
  /** end() was called: nothing more is read or sent. */
  #ending = false;
  /** Infinity when off: one comparison per frame sent. */
  readonly #highWater: number;
  readonly #onOutputPause: (() => void) | undefined;
  /** ReadPause bits. */
  #paused = 0;
  /** Frames read while paused, handed on from #deferredAt when reading resumes. */
  #deferred: Frame[] = [];
  #deferredAt = 0;
  /** A stream failure found behind deferred frames: reported once they are handed on. */
  #deferredFailure: FrameStreamFailure | undefined;
  #handingOn = false;
  /** Answers waiting for the output to drain (whenWritable). */
  #waiters: (() => number)[] = [];
  /** Bytes arrived since the last partialFrameIdleMs check. */
  #heard = false;
  #idleSince = 0;

  /**
   * `readsIntoSharedBuffer`: the socket was opened with `onread` (one reused
   * read buffer, see RequestClient) and its reads are fed through `receive`;
   * frames are then copied out before they are handed on. Otherwise the
   * connection listens to 'data' itself. `flow`: see FrameConnectionFlow.
   */
  constructor(socket: Socket, maxFrameSize: number, handlers: FrameConnectionHandlers, readsIntoSharedBuffer = false, flow?: FrameConnectionFlow) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.#decoder = new FrameDecoder(maxFrameSize);
    this.#handlers = handlers;
    this.#highWater = flow?.outputHighWaterBytes ?? Infinity;
    this.#onOutputPause = flow?.onOutputPause;
    // A frame that spanned reads is already in memory of its own (the decoder's): only views into the shared read buffer are copied.
    this.#onFrame = readsIntoSharedBuffer
      ? (f, owned) => {
          const frame = owned ? f : { ...f, body: Buffer.from(f.body) };
          if (this.#paused === 0) handlers.onFrame(frame);
          else this.#deferred.push(frame);
        }
      : (f) => {
          if (this.#paused === 0) handlers.onFrame(f);
          else this.#deferred.push(f);
        };
    socket.setNoDelay(true);
    if (!readsIntoSharedBuffer) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    if (this.#highWater !== Infinity) socket.on('drain', () => this.#drained());
    let error: Error | undefined;
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#out = [];
      this.#queued = 0;
      this.#deferred = [];
      this.#waiters = [];
      handlers.onClose(error);
    });
  }

  /** Bytes read from the socket. */
  receive(chunk: Buffer): void {
    if (this.#closed || this.#ending) return;
    this.#heard = true;
    const failure = this.#decoder.push(chunk, this.#onFrame);
    if (failure !== undefined) {
      this.socket.pause();
      if (this.#paused === 0) this.#handlers.onStreamFailure(failure);
      else this.#deferredFailure = failure;
    }
  }

  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /** The output is above its high-water mark: produce nothing more for this peer until whenWritable says so. */
  get congested(): boolean {
    return (this.#paused & ReadPause.Output) !== 0;
  }

  /** Bytes queued for this peer and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.#queued + this.socket.writableLength;
  }

  /**
   * Runs `produce` now if the output is below its high-water mark, else once
   * it has drained (never if the connection closes first). `produce` makes an
   * answer and returns its size in bytes (0 if it sent it itself): counted
   * toward the mark at once, so that answers made in a burst stop at it.
   */
  whenWritable(produce: () => number): void {
    if (this.#closed || this.#ending) return;
    if ((this.#paused & ReadPause.Output) === 0) this.#reserve(produce());
    else this.#waiters.push(produce);
  }

  /** Stops handing on frames and reading the socket until resumeReading for every reason given. */
  pauseReading(reason: number): void {
    if (this.#paused === 0) this.socket.pause();
    this.#paused |= reason;
  }

  resumeReading(reason: number): void {
    if ((this.#paused & reason) === 0) return;
    this.#paused &= ~reason;
    if (this.#paused === 0) this.#handOnDeferred();
  }

  /**
   * How long a frame begun has waited for its next byte, for the server's
   * sweep (called every fraction of its timeout): 0 when no frame is partial,
   * when bytes came since the last call, or while this side stopped reading.
   */
  partialFrameIdleMs(now: number): number {
    if (this.#heard || this.#paused !== 0 || this.#decoder.buffered === 0) {
      this.#heard = false;
      this.#idleSince = now;
      return 0;
    }
    return now - this.#idleSince;
  }

  /** Queues a frame; `body` may be several buffers (sent without copying them together). */
  send(header: FrameHeader, body?: Buffer | readonly Buffer[]): void {
    if (this.#closed || this.#ending) return;
    let n = 0;
    if (body === undefined) {
      this.#out.push(encodeHeader(header, 0));
    } else if (Buffer.isBuffer(body)) {
      n = body.length;
      this.#out.push(encodeHeader(header, n), body);
    } else {
      for (const b of body) n += b.length;
      this.#out.push(encodeHeader(header, n));
      for (const b of body) if (b.length > 0) this.#out.push(b);
    }
    // Answers produced within one task (a read of many pipelined requests) count before they reach the socket.
    if ((this.#queued += n) > this.#highWater && (this.#paused & ReadPause.Output) === 0) this.#pauseForOutput();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** An answer of `n` bytes is on its way (made in whenWritable): counted until the next flush, by which it is queued (or counted when it is). */
  #reserve(n: number): void {
    if (n <= 0 || this.#highWater === Infinity) return;
    if ((this.#queued += n) > this.#highWater && (this.#paused & ReadPause.Output) === 0) this.#pauseForOutput();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    this.#queued = 0;
    const out = this.#out;
    if (this.#closed) return;
    if (out.length === 0) {
      if (this.#highWater !== Infinity) this.#checkOutput();
      return;
    }
    this.#out = [];
    if (out.length === 1) {
      this.socket.write(out[0]!);
    } else {
      // cork/uncork turns the writes into one writev syscall.
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
    if (this.#highWater !== Infinity) this.#checkOutput();
  };

  /** After a write: pause while the socket holds more than the high-water mark ('drain' resumes), resume if it took everything. */
  #checkOutput(): void {
    const s = this.socket;
    // A length past the mark (above the socket's own) always means a write returned false: 'drain' follows.
    const over = s.writableLength > this.#highWater && s.writableNeedDrain;
    if (over) {
      if ((this.#paused & ReadPause.Output) === 0) this.#pauseForOutput();
    } else if ((this.#paused & ReadPause.Output) !== 0 && !s.writableNeedDrain) {
      this.#drained();
    }
  }

  #pauseForOutput(): void {
    this.pauseReading(ReadPause.Output);
    this.#onOutputPause?.();
  }

  /** The socket took what was queued: answers that waited for room go first, then reading resumes. */
  #drained(): void {
    if ((this.#paused & ReadPause.Output) === 0 || this.#closed || this.#ending) return;
    this.#paused &= ~ReadPause.Output;
    if (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      let i = 0;
      while (i < waiters.length && (this.#paused & ReadPause.Output) === 0 && !this.#closed && !this.#ending) this.#reserve(waiters[i++]!());
      if (this.#closed || this.#ending) return;
      // Those not run wait for the next drain (any added meanwhile went behind them).
      this.#waiters = i === waiters.length ? [] : waiters.slice(i);
    }
    if (this.#paused === 0) this.#handOnDeferred();
  }

  /** Hands on the frames read while paused, until paused again; then reads the socket again. */
  #handOnDeferred(): void {
    if (this.#handingOn) return; // a handler resumed reading from within the loop below: the loop carries on
    this.#handingOn = true;
    try {
      const d = this.#deferred;
      while (this.#deferredAt < d.length && this.#paused === 0 && !this.#closed && !this.#ending) {
        const f = d[this.#deferredAt]!;
        d[this.#deferredAt++] = undefined as unknown as Frame;
        this.#handlers.onFrame(f);
      }
      if (this.#deferredAt < d.length || this.#paused !== 0 || this.#closed || this.#ending) return;
      this.#deferred = [];
      this.#deferredAt = 0;
      const failure = this.#deferredFailure;
      if (failure !== undefined) {
        this.#deferredFailure = undefined;
        this.#handlers.onStreamFailure(failure);
        return;
      }
      this.socket.resume();
    } finally {
      this.#handingOn = false;
    }
  }

  /** Sends what is queued, then closes. */
  end(): void {
    if (this.#closed || this.#ending) return;
    // Ending first: the flush must not resume reading (and hand on requests) on the way out.
    this.#ending = true;
    this.#flush();
    this.#deferred = [];
    this.#waiters = [];
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
