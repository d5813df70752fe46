// The 16-byte frame header: exact bytes at offsets 0..15 (big-endian), and
// checkHeader's refusals (bad version, length below the header or above the
// max frame size, unknown flags, nonzero reserved) with their typed errors.
import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, MalformedFrameError } from '../common/index.js';
import {
  checkHeader,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  encodeHeader,
  FRAME_HEADER_SIZE,
  FrameFlag,
  H_FLAGS,
  H_LENGTH,
  H_OPCODE,
  H_REQUEST_ID,
  H_RESERVED,
  H_STATUS,
  H_VERSION,
  isResponse,
  PROTOCOL_VERSION,
  readHeader,
  writeHeader,
} from './frame.js';
import { Opcode } from './opcodes.js';
import { Status } from './status.js';
import { thrownBy } from '../../test/helpers/errors.js';

function validHeader(): Buffer {
  return encodeHeader({ opcode: Opcode.Pull, flags: 0, requestId: 0xcafebabe, status: 0 }, 10);
}

describe('frame header layout', () => {
  it('has the documented constants', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(FRAME_HEADER_SIZE).toBe(16);
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16 * 1024 * 1024);
    expect([H_LENGTH, H_VERSION, H_OPCODE, H_FLAGS, H_REQUEST_ID, H_STATUS, H_RESERVED]).toEqual([0, 4, 5, 6, 8, 12, 14]);
    expect(FrameFlag).toEqual({ Response: 1, Oneway: 2 });
  });

  it('encodes every header field at its offset, big-endian', () => {
    const f = encodeFrame({ opcode: Opcode.Pull, flags: FrameFlag.Response, requestId: 0x01020304, status: 0x0a0b }, Buffer.from([0xaa, 0xbb]));
    expect([...f]).toEqual([
      0x00, 0x00, 0x00, 0x12, // length 18 = 16 + 2
      0x01, // version
      0x02, // opcode PULL
      0x00, 0x01, // flags: Response
      0x01, 0x02, 0x03, 0x04, // requestId
      0x0a, 0x0b, // status
      0x00, 0x00, // reserved
      0xaa, 0xbb, // body
    ]);
  });

  it('encodes an empty-body frame as the header alone', () => {
    const f = encodeFrame({ opcode: Opcode.BrokerStats, flags: 0, requestId: 7, status: 0 });
    expect(f.toString('hex')).toBe('00000010' + '01' + '10' + '0000' + '00000007' + '0000' + '0000');
  });

  it('encodeHeader gives the same bytes as the head of encodeFrame', () => {
    const h = { opcode: Opcode.Send, flags: FrameFlag.Oneway, requestId: 99, status: Status.Ok };
    const body = Buffer.alloc(300, 1);
    expect(encodeHeader(h, body.length)).toEqual(encodeFrame(h, body).subarray(0, FRAME_HEADER_SIZE));
  });

  it('writes the request id as unsigned 32 bits (ids may wrap)', () => {
    expect(encodeHeader({ opcode: 1, flags: 0, requestId: 0xffffffff, status: 0 }, 0).readUInt32BE(H_REQUEST_ID)).toBe(0xffffffff);
    expect(encodeHeader({ opcode: 1, flags: 0, requestId: -1, status: 0 }, 0).readUInt32BE(H_REQUEST_ID)).toBe(0xffffffff);
  });

  it('writeHeader writes at an offset; readHeader and checkHeader read it back', () => {
    const buf = Buffer.alloc(40, 0xee);
    const h = { opcode: Opcode.GetRoute, flags: FrameFlag.Response, requestId: 123456, status: Status.NoRoute };
    writeHeader(buf, 5, h, 3);
    expect(buf[4]).toBe(0xee);
    expect(checkHeader(buf, 5, DEFAULT_MAX_FRAME_SIZE)).toBe(19);
    expect(readHeader(buf, 5)).toEqual(h);
    expect(isResponse(readHeader(buf, 5))).toBe(true);
    expect(isResponse({ ...h, flags: FrameFlag.Oneway })).toBe(false);
  });
});

describe('checkHeader refusals', () => {
  it('accepts a valid header and returns its length', () => {
    expect(checkHeader(validHeader(), 0, DEFAULT_MAX_FRAME_SIZE)).toBe(26);
  });

  it('refuses an unsupported version', () => {
    for (const v of [0, 2, 255]) {
      const b = validHeader();
      b[H_VERSION] = v;
      const err = thrownBy(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE));
      expect(err).toBeInstanceOf(MalformedFrameError);
      expect((err as MalformedFrameError).code).toBe('METAQ_MALFORMED_FRAME');
    }
  });

  it('refuses a length shorter than the header', () => {
    for (const len of [0, 1, 15]) {
      const b = validHeader();
      b.writeUInt32BE(len, H_LENGTH);
      expect(thrownBy(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE))).toBeInstanceOf(MalformedFrameError);
    }
    const b = validHeader();
    b.writeUInt32BE(16, H_LENGTH);
    expect(checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE)).toBe(16);
  });

  it('refuses a length above the max frame size with FrameTooLargeError', () => {
    const b = validHeader();
    b.writeUInt32BE(1001, H_LENGTH);
    expect(checkHeader(b.subarray(0), 0, 1001)).toBe(1001);
    const err = thrownBy(() => checkHeader(b, 0, 1000));
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).code).toBe('METAQ_FRAME_TOO_LARGE');
    b.writeUInt32BE(0xffffffff, H_LENGTH);
    expect(thrownBy(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE))).toBeInstanceOf(FrameTooLargeError);
  });

  it('refuses unknown flags', () => {
    for (const flags of [1 << 2, 1 << 15, 0xffff, FrameFlag.Response | 0x10]) {
      const b = validHeader();
      b.writeUInt16BE(flags, H_FLAGS);
      expect(thrownBy(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE))).toBeInstanceOf(MalformedFrameError);
    }
    const b = validHeader();
    b.writeUInt16BE(FrameFlag.Response | FrameFlag.Oneway, H_FLAGS);
    expect(checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE)).toBe(26);
  });

  it('refuses a nonzero reserved field', () => {
    for (const r of [1, 0x8000]) {
      const b = validHeader();
      b.writeUInt16BE(r, H_RESERVED);
      expect(thrownBy(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE))).toBeInstanceOf(MalformedFrameError);
    }
  });

  it('leaves the request id readable from a refused header', () => {
    const b = validHeader();
    b[H_VERSION] = 9;
    expect(() => checkHeader(b, 0, DEFAULT_MAX_FRAME_SIZE)).toThrow(MalformedFrameError);
    expect(readHeader(b, 0).requestId).toBe(0xcafebabe);
  });
});
