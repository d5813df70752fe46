// The frame: what every request and response looks like on the wire. Pure
// functions over bytes; the transport (src/net) feeds sockets through them.
//
// Big-endian header, FRAME_HEADER_SIZE bytes, then the body:
//   0 length u32   whole frame, header included
//   4 version u8   PROTOCOL_VERSION
//   5 opcode u8    see opcodes.ts
//   6 flags u16    FrameFlag bits
//   8 requestId u32  echoed in the response; pipelining matches on it
//  12 status u16   0 in requests; the outcome in responses (status.ts)
//  14 reserved u16 must be 0
import { FrameTooLargeError, MalformedFrameError } from '../common/index.js';

export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_SIZE = 16;
/** Large enough for a 4 MiB message plus headers, small enough to bound a reader's buffer. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const H_LENGTH = 0;
export const H_VERSION = 4;
export const H_OPCODE = 5;
export const H_FLAGS = 6;
export const H_REQUEST_ID = 8;
export const H_STATUS = 12;
export const H_RESERVED = 14;

export const FrameFlag = {
  /** The frame answers the request with the same id. */
  Response: 1 << 0,
  /** A request that wants no response (notifications). */
  Oneway: 1 << 1,
} as const;
const KNOWN_FLAGS = FrameFlag.Response | FrameFlag.Oneway;

export interface FrameHeader {
  opcode: number;
  flags: number;
  requestId: number;
  status: number;
}

/** A decoded frame. `body` is a view into the receive buffer: copy it to keep it. */
export interface Frame extends FrameHeader {
  body: Buffer;
}

export function isResponse(f: FrameHeader): boolean {
  return (f.flags & FrameFlag.Response) !== 0;
}

/** Writes the header for a frame whose body is `bodyLength` bytes into `buf` at `at`. */
export function writeHeader(buf: Buffer, at: number, h: FrameHeader, bodyLength: number): void {
  buf.writeUInt32BE(FRAME_HEADER_SIZE + bodyLength, at + H_LENGTH);
  buf[at + H_VERSION] = PROTOCOL_VERSION;
  buf[at + H_OPCODE] = h.opcode;
  buf.writeUInt16BE(h.flags, at + H_FLAGS);
  buf.writeUInt32BE(h.requestId >>> 0, at + H_REQUEST_ID);
  buf.writeUInt16BE(h.status, at + H_STATUS);
  buf.writeUInt16BE(0, at + H_RESERVED);
}

/** One buffer holding header and body: for small frames. */
export function encodeFrame(h: FrameHeader, body: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + body.length);
  writeHeader(out, 0, h, body.length);
  out.set(body, FRAME_HEADER_SIZE);
  return out;
}

/** Just the header, for a body sent as separate buffers (no copy of large payloads). */
export function encodeHeader(h: FrameHeader, bodyLength: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  writeHeader(out, 0, h, bodyLength);
  return out;
}

const EMPTY = Buffer.alloc(0);

/**
 * Checks the header at `at` of `buf` (at least FRAME_HEADER_SIZE bytes there)
 * and returns the frame length. Throws MalformedFrameError or FrameTooLargeError;
 * the request id is readable from the bytes even then, for the error response.
 */
export function checkHeader(buf: Buffer, at: number, maxFrameSize: number): number {
  const length = buf.readUInt32BE(at + H_LENGTH);
  const version = buf[at + H_VERSION]!;
  if (version !== PROTOCOL_VERSION) throw new MalformedFrameError(`unsupported protocol version ${version} (this side speaks ${PROTOCOL_VERSION})`);
  if (length < FRAME_HEADER_SIZE) throw new MalformedFrameError(`frame length ${length} is shorter than the ${FRAME_HEADER_SIZE}-byte header`);
  if (length > maxFrameSize) throw new FrameTooLargeError(`frame of ${length} bytes exceeds the maximum frame size of ${maxFrameSize}`);
  const flags = buf.readUInt16BE(at + H_FLAGS);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new MalformedFrameError(`unknown frame flags 0x${flags.toString(16)}`);
  if (buf.readUInt16BE(at + H_RESERVED) !== 0) throw new MalformedFrameError('reserved header field is not zero');
  return length;
}

/** Reads the header fields at `at` (no checks: call checkHeader first). */
export function readHeader(buf: Buffer, at: number): FrameHeader {
  return {
    opcode: buf[at + H_OPCODE]!,
    flags: buf.readUInt16BE(at + H_FLAGS),
    requestId: buf.readUInt32BE(at + H_REQUEST_ID),
    status: buf.readUInt16BE(at + H_STATUS),
  };
}
