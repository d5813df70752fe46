// BodyWriter and BodyReader: the field encodings (u8, u16, u32, u64 < 2^53,
// str8, str16, bytes32) byte for byte, and every way a read past the end, a
// too-large u64 or a too-long string becomes a MalformedFrameError.
import { describe, expect, it } from 'vitest';
import { expectMalformed } from '../../test/helpers/errors.js';
import { BodyReader, BodyWriter } from './body.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('BodyWriter encodings', () => {
  it('writes integers big-endian', () => {
    expect(hex(new BodyWriter().u8(0xab).finish())).toBe('ab');
    expect(hex(new BodyWriter().u16(0x0102).finish())).toBe('0102');
    expect(hex(new BodyWriter().u32(0x01020304).finish())).toBe('01020304');
    expect(hex(new BodyWriter().u32(0xffffffff).finish())).toBe('ffffffff');
    expect(hex(new BodyWriter().u64(0x0102030405).finish())).toBe('0000000102030405');
    expect(hex(new BodyWriter().u64(2 ** 53 - 1).finish())).toBe('001fffffffffffff');
    expect(hex(new BodyWriter().u64(0).finish())).toBe('0000000000000000');
  });

  it('writes strings as length + UTF-8, the length in bytes', () => {
    expect(hex(new BodyWriter().str8('ab').finish())).toBe('026162');
    expect(hex(new BodyWriter().str8('é').finish())).toBe('02c3a9');
    expect(hex(new BodyWriter().str8('').finish())).toBe('00');
    expect(hex(new BodyWriter().str16('hi').finish())).toBe('00026869');
    expect(hex(new BodyWriter().bytes32(Buffer.from([9, 8])).finish())).toBe('000000020908');
    expect(hex(new BodyWriter().bytes(Buffer.from([9, 8])).finish())).toBe('0908');
  });

  it('refuses strings longer than their length field', () => {
    expect(new BodyWriter().str8('x'.repeat(255)).length).toBe(256);
    expectMalformed(() => new BodyWriter().str8('x'.repeat(256)));
    expectMalformed(() => new BodyWriter().str8('é'.repeat(128)));
    expect(new BodyWriter().str16('x'.repeat(0xffff)).length).toBe(0x10001);
    expectMalformed(() => new BodyWriter().str16('x'.repeat(0x10000)));
  });

  it('refuses values that do not fit their width instead of wrapping', () => {
    expectMalformed(() => new BodyWriter().u8(256));
    expectMalformed(() => new BodyWriter().u8(-1));
    expectMalformed(() => new BodyWriter().u16(0x10000));
    expectMalformed(() => new BodyWriter().u32(2 ** 32));
    expectMalformed(() => new BodyWriter().u32(-1));
    expectMalformed(() => new BodyWriter().u32(Number.NaN));
    expectMalformed(() => new BodyWriter().u64(2 ** 53));
    expectMalformed(() => new BodyWriter().u64(-1));
  });

  it('grows from any initial capacity, zero included', () => {
    for (const cap of [0, 1, 3, 256]) {
      const w = new BodyWriter(cap);
      for (let i = 0; i < 2000; i++) w.u8(i & 0xff).u16(i).u32(i * 7).u64(i * 2 ** 40).str8('abc');
      const r = new BodyReader(w.finish());
      for (let i = 0; i < 2000; i++) {
        expect([r.u8(), r.u16(), r.u32(), r.u64(), r.str8()]).toEqual([i & 0xff, i, i * 7, i * 2 ** 40, 'abc']);
      }
      r.done('the body');
    }
  });
});

describe('BodyReader', () => {
  it('reads back what the writer wrote', () => {
    const w = new BodyWriter()
      .u8(200)
      .u16(65535)
      .u32(4000000000)
      .u64(2 ** 53 - 1)
      .str8('grüße')
      .str16('s'.repeat(1000))
      .bytes32(Buffer.from('payload'));
    const r = new BodyReader(w.finish());
    expect(r.u8()).toBe(200);
    expect(r.u16()).toBe(65535);
    expect(r.u32()).toBe(4000000000);
    expect(r.u64()).toBe(2 ** 53 - 1);
    expect(r.str8()).toBe('grüße');
    expect(r.str16()).toBe('s'.repeat(1000));
    expect(r.bytes32().toString()).toBe('payload');
    expect(r.remaining).toBe(0);
    r.done('the body');
  });

  it('refuses a u64 of 2^53 or more', () => {
    expect(new BodyReader(Buffer.from('001fffffffffffff', 'hex')).u64()).toBe(2 ** 53 - 1);
    expectMalformed(() => new BodyReader(Buffer.from('0020000000000000', 'hex')).u64());
    expectMalformed(() => new BodyReader(Buffer.from('ffffffffffffffff', 'hex')).u64());
  });

  it('throws MalformedFrameError, never RangeError, when a field runs past the end', () => {
    const reads: [number, (r: BodyReader) => unknown][] = [
      [1, (r) => r.u8()],
      [2, (r) => r.u16()],
      [4, (r) => r.u32()],
      [8, (r) => r.u64()],
    ];
    for (const [size, read] of reads) {
      for (let n = 0; n < size; n++) expectMalformed(() => read(new BodyReader(Buffer.alloc(n))));
    }
    expectMalformed(() => new BodyReader(Buffer.from('03616263', 'hex').subarray(0, 3)).str8());
    expectMalformed(() => new BodyReader(Buffer.from('0003616263', 'hex').subarray(0, 4)).str16());
    expectMalformed(() => new BodyReader(Buffer.from('00000003010203', 'hex').subarray(0, 6)).bytes32());
    expectMalformed(() => new BodyReader(Buffer.from('ffffffff', 'hex')).bytes32());
    expectMalformed(() => new BodyReader(Buffer.alloc(3)).bytes(4));
  });

  it('reads only within its window', () => {
    const buf = Buffer.from('ff0102ff', 'hex');
    const r = new BodyReader(buf, 1, 3);
    expect(r.remaining).toBe(2);
    expect(r.u16()).toBe(0x0102);
    expectMalformed(() => r.u8());
    r.done('the window');
  });

  it('done() refuses trailing bytes', () => {
    const r = new BodyReader(Buffer.from([1, 2]));
    r.u8();
    expectMalformed(() => r.done('the body'));
  });

  it('bytes() and rest() are views, not copies', () => {
    const buf = Buffer.from([1, 2, 3, 4]);
    const r = new BodyReader(buf);
    const head = r.bytes(2);
    const rest = r.rest();
    buf[0] = 9;
    buf[3] = 8;
    expect([...head]).toEqual([9, 2]);
    expect([...rest]).toEqual([3, 8]);
    expect(r.rest().length).toBe(0);
  });
});
