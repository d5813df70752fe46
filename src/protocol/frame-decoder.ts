// Splits a byte stream into frames. Pure: push chunks in, get frames out.
// A bad header throws and leaves the decoder failed, because after a bad
// length nothing that follows can be trusted; the caller answers and closes.
import { MetaqError } from '../common/index.js';
import { checkHeader, FRAME_HEADER_SIZE, readHeader, type Frame, type FrameHeader } from './frame.js';

/** Thrown by FrameDecoder.push: the stream is unusable from here on. */
export interface FrameStreamFailure {
  error: MetaqError;
  /** The header of the bad frame when its bytes were available (for the error response). */
  header: FrameHeader | undefined;
}

/**
 * Called per whole frame. `owned`: the body lies in memory of the decoder's
 * own that nothing else uses (a frame that spanned chunks), so the callee may
 * keep it without copying; otherwise it is a view into the pushed chunk.
 */
export type FrameHandler = (f: Frame, owned: boolean) => void;

export class FrameDecoder {
  readonly maxFrameSize: number;
  /**
   * A frame longer than what has arrived, once its header is known: a buffer
   * of its whole length (bounded by maxFrameSize), filled up to #filled.
   * Each byte is copied once, however many chunks the frame spans.
   */
  #frame: Buffer | undefined;
  #filled = 0;
  /** The start of a header cut by a chunk's end. */
  readonly #head = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  #headLength = 0;
  #failed: FrameStreamFailure | undefined;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#frame !== undefined ? this.#filled : this.#headLength;
  }

  get failure(): FrameStreamFailure | undefined {
    return this.#failed;
  }

  /**
   * Adds a chunk and calls `onFrame` for each whole frame now available, in
   * order. Frame bodies are views into the chunk unless `owned` (see
   * FrameHandler): copy what must outlive the callback when the chunk's
   * memory is reused. The decoder keeps no reference to `chunk` after it
   * returns. Returns the failure if the stream turned bad.
   */
  push(chunk: Buffer, onFrame: FrameHandler): FrameStreamFailure | undefined {
    if (this.#failed !== undefined) return this.#failed;
    let at = 0;
    if (this.#headLength > 0) {
      // Completes the cut header first, copying no more than it needs.
      const n = Math.min(FRAME_HEADER_SIZE - this.#headLength, chunk.length);
      chunk.copy(this.#head, this.#headLength, 0, n);
      this.#headLength += n;
      at = n;
      if (this.#headLength < FRAME_HEADER_SIZE) return undefined;
      this.#headLength = 0;
      const length = this.#check(this.#head, 0);
      if (length === undefined) return this.#failed;
      this.#frame = Buffer.allocUnsafe(length);
      this.#head.copy(this.#frame, 0);
      this.#filled = FRAME_HEADER_SIZE;
    }
    if (this.#frame !== undefined) {
      const frame = this.#frame;
      const n = Math.min(frame.length - this.#filled, chunk.length - at);
      chunk.copy(frame, this.#filled, at, at + n);
      this.#filled += n;
      at += n;
      if (this.#filled < frame.length) return undefined;
      this.#frame = undefined;
      this.#filled = 0;
      onFrame(this.#frameAt(frame, 0, frame.length), true);
    }
    while (chunk.length - at >= FRAME_HEADER_SIZE) {
      const length = this.#check(chunk, at);
      if (length === undefined) return this.#failed;
      if (chunk.length - at < length) {
        // Copied: the caller may reuse the chunk's memory for its next read (a socket's onread buffer).
        this.#frame = Buffer.allocUnsafe(length);
        this.#filled = chunk.copy(this.#frame, 0, at);
        return undefined;
      }
      onFrame(this.#frameAt(chunk, at, length), false);
      at += length;
    }
    if (at < chunk.length) this.#headLength = chunk.copy(this.#head, 0, at);
    return undefined;
  }

  /** The frame length of the header at `at`, or undefined having failed the stream. */
  #check(buf: Buffer, at: number): number | undefined {
    try {
      return checkHeader(buf, at, this.maxFrameSize);
    } catch (err) {
      this.#failed = { error: err as MetaqError, header: readHeader(buf, at) };
      return undefined;
    }
  }

  #frameAt(buf: Buffer, at: number, length: number): Frame {
    const h = readHeader(buf, at);
    return { opcode: h.opcode, flags: h.flags, requestId: h.requestId, status: h.status, body: buf.subarray(at + FRAME_HEADER_SIZE, at + length) };
  }
}
