// Bounds-checked readers and writers for frame bodies. Every decoder reads
// through BodyReader so that a short or lying body becomes a
// MalformedFrameError, never a RangeError or a garbage value.
//
// Field encodings (big-endian): u8, u16, u32, u64 (must be < 2^53), str8
// (u8 length + UTF-8), str16 (u16 length + UTF-8), bytes32 (u32 length + bytes).
import { TWO_POW_32, MalformedFrameError } from '../common/index.js';

export class BodyReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new MalformedFrameError(`frame body ends inside ${what} (needs ${n} bytes at ${this.pos}, has ${this.end - this.pos})`);
  }

  u8(what = 'a u8'): number {
    this.#need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'a u16'): number {
    this.#need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'a u32'): number {
    this.#need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what = 'a u64'): number {
    this.#need(8, what);
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_POW_32 + lo;
    if (!Number.isSafeInteger(v)) throw new MalformedFrameError(`${what} is beyond 2^53`);
    return v;
  }

  str8(what = 'a string'): string {
    const n = this.u8(what);
    return this.#str(n, what);
  }

  str16(what = 'a string'): string {
    const n = this.u16(what);
    return this.#str(n, what);
  }

  #str(n: number, what: string): string {
    if (n === 0) return ''; // most messages have no tags, keys or properties: skip the decoder call
    this.#need(n, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what = 'bytes'): Buffer {
    this.#need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  bytes32(what = 'a byte string'): Buffer {
    return this.bytes(this.u32(what), what);
  }

  /** The rest of the body as a view. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Decoders call this last: trailing bytes mean the two sides disagree on the layout. */
  done(what: string): void {
    if (this.pos !== this.end) throw new MalformedFrameError(`${this.end - this.pos} unexpected bytes after ${what}`);
  }
}

const INITIAL_CAPACITY = 256;

/** A count or field that does not fit its width would otherwise wrap silently (a u8 count of 256 becomes 0). */
function checkRange(v: number, max: number, type: string): void {
  if (!(v >= 0 && v <= max)) throw new MalformedFrameError(`${v} does not fit in a ${type} (0..${max})`);
}

/** A growable body builder. `finish()` returns the bytes written. */
export class BodyWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    this.#buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.#pos;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let cap = Math.max(this.#buf.length * 2, 16);
    while (cap < this.#pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  u8(v: number): this {
    checkRange(v, 0xff, 'u8');
    this.#room(1);
    this.#buf[this.#pos++] = v;
    return this;
  }

  u16(v: number): this {
    checkRange(v, 0xffff, 'u16');
    this.#room(2);
    this.#buf.writeUInt16BE(v, this.#pos);
    this.#pos += 2;
    return this;
  }

  u32(v: number): this {
    checkRange(v, 0xffff_ffff, 'u32');
    this.#room(4);
    this.#buf.writeUInt32BE(v >>> 0, this.#pos);
    this.#pos += 4;
    return this;
  }

  u64(v: number): this {
    checkRange(v, Number.MAX_SAFE_INTEGER, 'u64');
    this.#room(8);
    this.#buf.writeUInt32BE(Math.floor(v / TWO_POW_32), this.#pos);
    this.#buf.writeUInt32BE(v >>> 0, this.#pos + 4);
    this.#pos += 8;
    return this;
  }

  str8(s: string, what = 'string'): this {
    if (s === '') return this.u8(0); // the common case (no tags): skip the encoder calls
    const n = Buffer.byteLength(s);
    if (n > 0xff) throw new MalformedFrameError(`${what} is ${n} bytes; at most 255 fit`);
    this.u8(n);
    this.#room(n);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
    return this;
  }

  str16(s: string, what = 'string'): this {
    if (s === '') return this.u16(0);
    const n = Buffer.byteLength(s);
    if (n > 0xffff) throw new MalformedFrameError(`${what} is ${n} bytes; at most 65535 fit`);
    this.u16(n);
    this.#room(n);
    this.#pos += this.#buf.write(s, this.#pos, 'utf8');
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  bytes32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  /** The written bytes (a view of the internal buffer; do not write after). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}
