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

export class FrameDecoder {
  readonly maxFrameSize: number;
  /** Unfinished tail: chunks not yet joined (joining on every chunk would be quadratic for big frames). */
  #parts: Buffer[] = [];
  #partsLength = 0;
  /** Length of the frame being collected, once its header is known. */
  #need = FRAME_HEADER_SIZE;
  #failed: FrameStreamFailure | undefined;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#partsLength;
  }

  get failure(): FrameStreamFailure | undefined {
    return this.#failed;
  }

  /**
   * Adds a chunk and calls `onFrame` for each whole frame now available, in
   * order. Frame bodies are views into the chunk or an internal buffer: copy
   * what must outlive the callback when the chunk's memory is reused. The
   * decoder keeps no reference to `chunk` after it returns. Returns the
   * failure if the stream turned bad.
   */
  push(chunk: Buffer, onFrame: (f: Frame) => void): FrameStreamFailure | undefined {
    if (this.#failed !== undefined) return this.#failed;
    if (this.#partsLength > 0 && this.#partsLength + chunk.length < this.#need) {
      // Copied: the caller may reuse the chunk's memory for its next read (a socket's onread buffer).
      this.#parts.push(Buffer.from(chunk));
      this.#partsLength += chunk.length;
      return undefined;
    }
    const buf = this.#partsLength === 0 ? chunk : Buffer.concat([...this.#parts, chunk]);
    this.#parts = [];
    this.#partsLength = 0;
    this.#need = FRAME_HEADER_SIZE;
    let at = 0;
    while (buf.length - at >= FRAME_HEADER_SIZE) {
      let length: number;
      try {
        length = checkHeader(buf, at, this.maxFrameSize);
      } catch (err) {
        this.#failed = { error: err as MetaqError, header: readHeader(buf, at) };
        return this.#failed;
      }
      if (buf.length - at < length) {
        this.#need = length;
        break;
      }
      const h = readHeader(buf, at);
      onFrame({ opcode: h.opcode, flags: h.flags, requestId: h.requestId, status: h.status, body: buf.subarray(at + FRAME_HEADER_SIZE, at + length) });
      at += length;
    }
    if (at < buf.length) {
      // Copy the tail so that a whole chunk is not kept alive by its last few bytes.
      this.#parts = [Buffer.from(buf.subarray(at))];
      this.#partsLength = buf.length - at;
    }
    return undefined;
  }
}
