// The body of an error response: a human-readable UTF-8 message (str16).
import { BodyReader, BodyWriter } from './body.js';

const MAX_MESSAGE_BYTES = 1024;

export function encodeErrorBody(message: string): Buffer {
  let m = message;
  while (Buffer.byteLength(m) > MAX_MESSAGE_BYTES) m = m.slice(0, Math.floor(m.length * 0.9));
  return new BodyWriter().str16(m).finish();
}

/** Lenient on purpose: an error must stay readable even if its body is odd. */
export function decodeErrorBody(body: Buffer): string {
  try {
    return new BodyReader(body).str16('error message');
  } catch {
    return body.toString('utf8');
  }
}
