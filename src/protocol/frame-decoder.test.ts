// FrameDecoder: a byte stream split into frames however it arrives (one chunk,
// byte by byte, seeded random splits, a large frame in many chunks, several
// frames per chunk), and a bad header making the stream fail for good while
// exposing that header's request id.
import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, MalformedFrameError } from '../common/index.js';
import { DEFAULT_MAX_FRAME_SIZE, encodeFrame, FRAME_HEADER_SIZE, FrameFlag, H_RESERVED, H_VERSION, type Frame, type FrameHeader } from './frame.js';
import { FrameDecoder } from './frame-decoder.js';
import { prng } from '../../test/helpers/messages.js';

interface Copied extends FrameHeader {
  body: Buffer;
}

/** Frames with hex bodies: deep equality on big Buffers is slow in expect(). */
function hex(frames: readonly Frame[]): (FrameHeader & { body: string })[] {
  return frames.map((f) => ({ ...f, body: f.body.toString('hex') }));
}

function makeFrames(n: number, rand: () => number, maxBody = 300): Copied[] {
  const out: Copied[] = [];
  for (let i = 0; i < n; i++) {
    const body = Buffer.alloc(Math.floor(rand() * maxBody));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(rand() * 256);
    out.push({ opcode: 1 + (i % 30), flags: i % 3 === 0 ? FrameFlag.Response : 0, requestId: (i * 2654435761) >>> 0, status: i % 7, body });
  }
  return out;
}

function stream(frames: readonly Copied[]): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(f, f.body)));
}

/** Pushes the chunks and returns copies of the frames (bodies are views, valid until the next push). */
function decodeAll(d: FrameDecoder, chunks: readonly Buffer[]): Copied[] {
  const out: Copied[] = [];
  const onFrame = (f: Frame): void => {
    out.push({ opcode: f.opcode, flags: f.flags, requestId: f.requestId, status: f.status, body: Buffer.from(f.body) });
  };
  for (const c of chunks) expect(d.push(c, onFrame)).toBeUndefined();
  return out;
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts.sort((a, b) => a - b), buf.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++) out.push(buf.subarray(points[i - 1], points[i]));
  return out;
}

describe('FrameDecoder', () => {
  it('decodes one frame in one chunk', () => {
    const f: Copied = { opcode: 2, flags: 0, requestId: 42, status: 0, body: Buffer.from('hello') };
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    expect(hex(decodeAll(d, [encodeFrame(f, f.body)]))).toEqual(hex([f]));
    expect(d.buffered).toBe(0);
    expect(d.failure).toBeUndefined();
  });

  it('decodes a header-only frame (empty body)', () => {
    const f: Copied = { opcode: 16, flags: 0, requestId: 1, status: 0, body: Buffer.alloc(0) };
    expect(hex(decodeAll(new FrameDecoder(DEFAULT_MAX_FRAME_SIZE), [encodeFrame(f)]))).toEqual(hex([f]));
  });

  it('decodes several frames from one chunk, in order', () => {
    const frames = makeFrames(20, prng(1));
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    expect(hex(decodeAll(d, [stream(frames)]))).toEqual(hex(frames));
    expect(d.buffered).toBe(0);
  });

  it('decodes a stream fed byte by byte', () => {
    const frames = makeFrames(10, prng(2), 64);
    const bytes = stream(frames);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    expect(hex(decodeAll(d, chunks))).toEqual(hex(frames));
    expect(d.buffered).toBe(0);
  });

  it('decodes a stream cut at seeded random points, every time the same frames', () => {
    const rand = prng(0x5eed);
    for (let round = 0; round < 200; round++) {
      const frames = makeFrames(1 + Math.floor(rand() * 12), rand);
      const bytes = stream(frames);
      const cuts = Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * (bytes.length + 1)));
      const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
      expect(hex(decodeAll(d, splitAt(bytes, cuts)))).toEqual(hex(frames));
      expect(d.buffered).toBe(0);
    }
  });

  it('keeps a partial tail buffered until the frame completes', () => {
    const f: Copied = { opcode: 1, flags: 0, requestId: 5, status: 0, body: Buffer.alloc(100, 7) };
    const bytes = encodeFrame(f, f.body);
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    expect(hex(decodeAll(d, [bytes.subarray(0, 10)]))).toEqual([]);
    expect(d.buffered).toBe(10);
    expect(hex(decodeAll(d, [bytes.subarray(10, 50)]))).toEqual([]);
    expect(d.buffered).toBe(50);
    expect(hex(decodeAll(d, [bytes.subarray(50)]))).toEqual(hex([f]));
    expect(d.buffered).toBe(0);
  });

  it('decodes a large frame arriving in many small chunks', () => {
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const f: Copied = { opcode: 1, flags: 0, requestId: 77, status: 0, body };
    const next: Copied = { opcode: 2, flags: 0, requestId: 78, status: 0, body: Buffer.from('after') };
    const bytes = stream([f, next]);
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    const got: Copied[] = [];
    for (let at = 0; at < bytes.length; at += 4000) {
      got.push(...decodeAll(d, [bytes.subarray(at, at + 4000)]));
      if (at + 4000 < FRAME_HEADER_SIZE + body.length) expect(got).toEqual([]);
    }
    expect(hex(got)).toEqual(hex([f, next]));
    expect(d.buffered).toBe(0);
  });

  it('hands a frame that spanned chunks over as owned (a body of its own), one within a chunk as a view', () => {
    const big: Copied = { opcode: 1, flags: 0, requestId: 9, status: 0, body: Buffer.alloc(5000, 3) };
    const small: Copied = { opcode: 2, flags: 0, requestId: 10, status: 0, body: Buffer.from('small') };
    const bytes = stream([small, big, small]);
    expect(bytes.length).toBeGreaterThan(5000);
    // One reused read buffer, as RequestClient reads a socket: a kept view would be overwritten (the owned body was not copied here).
    const read = Buffer.alloc(1000);
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    const got: { frame: Frame; owned: boolean }[] = [];
    // Cut inside the big frame's header too (at 3 bytes into it).
    const cuts = [FRAME_HEADER_SIZE + 5 + 3, 1000, 2000, 3000, 4000, 5000, bytes.length];
    let from = 0;
    for (const to of cuts) {
      const n = bytes.copy(read, 0, from, to);
      expect(d.push(read.subarray(0, n), (frame, owned) => got.push({ frame: owned ? frame : { ...frame, body: Buffer.from(frame.body) }, owned }))).toBeUndefined();
      read.fill(0xee);
      from = to;
    }
    expect(got.map((g) => g.owned)).toEqual([false, true, false]);
    expect(hex(got.map((g) => g.frame))).toEqual(hex([small, big, small]));
    expect(d.buffered).toBe(0);
  });

  it('ignores an empty chunk', () => {
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    expect(hex(decodeAll(d, [Buffer.alloc(0)]))).toEqual([]);
    expect(d.buffered).toBe(0);
  });

  it('accepts a frame of exactly the max size and refuses one byte more', () => {
    const max = 1000;
    const ok: Copied = { opcode: 1, flags: 0, requestId: 1, status: 0, body: Buffer.alloc(max - FRAME_HEADER_SIZE) };
    expect(hex(decodeAll(new FrameDecoder(max), [encodeFrame(ok, ok.body)]))).toEqual(hex([ok]));
    const d = new FrameDecoder(max);
    const big = encodeFrame({ opcode: 1, flags: 0, requestId: 31337, status: 0 }, Buffer.alloc(max - FRAME_HEADER_SIZE + 1));
    const failure = d.push(big.subarray(0, FRAME_HEADER_SIZE), () => expect.unreachable());
    expect(failure?.error).toBeInstanceOf(FrameTooLargeError);
    expect(failure?.error.code).toBe('METAQ_FRAME_TOO_LARGE');
    expect(failure?.header?.requestId).toBe(31337);
  });

  it('delivers the good frames before a bad one, then fails for good', () => {
    const good = makeFrames(3, prng(3));
    const bad = encodeFrame({ opcode: 2, flags: 0, requestId: 0xabcdef01, status: 0 }, Buffer.from('x'));
    bad[H_VERSION] = 7;
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    const got: Frame[] = [];
    const failure = d.push(Buffer.concat([stream(good), bad, stream(good)]), (f) => got.push({ ...f, body: Buffer.from(f.body) }));
    expect(hex(got)).toEqual(hex(good));
    expect(failure).toBeDefined();
    expect(failure!.error).toBeInstanceOf(MalformedFrameError);
    expect(failure!.error.code).toBe('METAQ_MALFORMED_FRAME');
    expect(failure!.header).toEqual({ opcode: 2, flags: 0, requestId: 0xabcdef01, status: 0 });
    expect(d.failure).toBe(failure);
    // Sticky: nothing more is decoded, even valid frames.
    expect(d.push(stream(good), () => expect.unreachable())).toBe(failure);
    expect(d.failure).toBe(failure);
  });

  it('fails only once a bad header is complete, across chunks', () => {
    const bad = encodeFrame({ opcode: 4, flags: 0, requestId: 4242, status: 0 }, Buffer.alloc(8));
    bad.writeUInt16BE(1, H_RESERVED);
    const d = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE);
    for (let i = 0; i < FRAME_HEADER_SIZE - 1; i++) expect(d.push(bad.subarray(i, i + 1), () => expect.unreachable())).toBeUndefined();
    const failure = d.push(bad.subarray(FRAME_HEADER_SIZE - 1), () => expect.unreachable());
    expect(failure?.error).toBeInstanceOf(MalformedFrameError);
    expect(failure?.header?.requestId).toBe(4242);
  });

  it('fails on each kind of bad header', () => {
    const cases: [string, (b: Buffer) => void, new (...a: never[]) => Error][] = [
      ['version', (b) => (b[H_VERSION] = 0), MalformedFrameError],
      ['length < header', (b) => b.writeUInt32BE(15, 0), MalformedFrameError],
      ['length > max', (b) => b.writeUInt32BE(DEFAULT_MAX_FRAME_SIZE + 1, 0), FrameTooLargeError],
      ['unknown flags', (b) => b.writeUInt16BE(4, 6), MalformedFrameError],
      ['reserved', (b) => b.writeUInt16BE(1, H_RESERVED), MalformedFrameError],
    ];
    for (const [, corrupt, type] of cases) {
      const b = encodeFrame({ opcode: 3, flags: 0, requestId: 8, status: 0 }, Buffer.alloc(4));
      corrupt(b);
      const failure = new FrameDecoder(DEFAULT_MAX_FRAME_SIZE).push(b, () => expect.unreachable());
      expect(failure?.error).toBeInstanceOf(type);
      expect(failure?.header?.requestId).toBe(8);
    }
  });
});
