// Replication bodies: the handshake (with the slave's flush mode and durable
// offset), its reply (CatchUp carries the master's newest record), HA_DATA /
// HA_CATCH_UP; exact layouts, round trips and refusals of bad bodies.
import { describe, expect, it } from 'vitest';
import { MalformedFrameError } from '../common/index.js';
import { decodeHaCatchUp, decodeHaData, decodeHaHandshake, decodeHaHandshakeReply, encodeHaCatchUpHead, encodeHaDataHead, encodeHaHandshake, encodeHaHandshakeReply, HaAction, type HaHandshake } from './ha.js';

const handshake: HaHandshake = {
  maxOffset: 5000,
  durableOffset: 4096,
  segmentSize: 2 * 1024 * 1024,
  flushMode: 'sync',
  records: [
    { offset: 100, size: 200, crc: 0xdeadbeef },
    { offset: 300, size: 50, crc: 7 },
  ],
};

describe('HA_HANDSHAKE', () => {
  it('lays out maxOffset, durableOffset, segmentSize, flushMode, then the records', () => {
    const body = encodeHaHandshake(handshake);
    expect(body.length).toBe(8 + 8 + 8 + 1 + 2 + 2 * 16);
    expect(body.readBigUInt64BE(0)).toBe(5000n);
    expect(body.readBigUInt64BE(8)).toBe(4096n);
    expect(body.readBigUInt64BE(16)).toBe(BigInt(2 * 1024 * 1024));
    expect(body[24]).toBe(1);
    expect(body.readUInt16BE(25)).toBe(2);
    expect(body.readBigUInt64BE(27)).toBe(100n);
    expect(body.readUInt32BE(35)).toBe(200);
    expect(body.readUInt32BE(39)).toBe(0xdeadbeef);
    expect(decodeHaHandshake(body)).toEqual(handshake);
    const async = { ...handshake, flushMode: 'async' as const, records: [] };
    expect(encodeHaHandshake(async)[24]).toBe(0);
    expect(decodeHaHandshake(encodeHaHandshake(async))).toEqual(async);
  });

  it('refuses an unknown flush mode, a durable offset past the log end, short and long bodies', () => {
    const body = encodeHaHandshake(handshake);
    const badMode = Buffer.from(body);
    badMode[24] = 2;
    expect(() => decodeHaHandshake(badMode)).toThrow(MalformedFrameError);
    expect(() => decodeHaHandshake(encodeHaHandshake({ ...handshake, durableOffset: 5001 }))).toThrow(/durable offset 5001 is past the log end 5000/);
    for (const n of [0, 8, 24, 26, body.length - 1]) expect(() => decodeHaHandshake(body.subarray(0, n)), `${n} bytes`).toThrow(MalformedFrameError);
    expect(() => decodeHaHandshake(Buffer.concat([body, Buffer.alloc(1)]))).toThrow(MalformedFrameError);
  });
});

describe('HA_HANDSHAKE reply', () => {
  it('carries action, offset and the master record (zeros when none)', () => {
    const stream = encodeHaHandshakeReply({ action: HaAction.Stream, offset: 77 });
    expect(stream.length).toBe(1 + 8 + 16);
    expect(stream.subarray(9).equals(Buffer.alloc(16))).toBe(true);
    expect(decodeHaHandshakeReply(stream)).toEqual({ action: HaAction.Stream, offset: 77 });
    expect(decodeHaHandshakeReply(encodeHaHandshakeReply({ action: HaAction.Truncate, offset: 12 }))).toEqual({ action: HaAction.Truncate, offset: 12 });
    const catchUp = { action: HaAction.CatchUp, offset: 1000, masterRecord: { offset: 900, size: 100, crc: 0xffffffff } };
    const body = encodeHaHandshakeReply(catchUp);
    expect(body[0]).toBe(3);
    expect(body.readBigUInt64BE(9)).toBe(900n);
    expect(decodeHaHandshakeReply(body)).toEqual(catchUp);
    // An empty master has no newest record.
    expect(decodeHaHandshakeReply(encodeHaHandshakeReply({ action: HaAction.CatchUp, offset: 0 }))).toEqual({ action: HaAction.CatchUp, offset: 0 });
  });

  it('refuses an unknown action and bodies of the wrong length', () => {
    const body = encodeHaHandshakeReply({ action: HaAction.Stream, offset: 1 });
    const bad = Buffer.from(body);
    bad[0] = 4;
    expect(() => decodeHaHandshakeReply(bad)).toThrow(/unknown handshake action 4/);
    expect(() => decodeHaHandshakeReply(body.subarray(0, 9))).toThrow(MalformedFrameError);
    expect(() => decodeHaHandshakeReply(Buffer.concat([body, Buffer.alloc(1)]))).toThrow(MalformedFrameError);
  });
});

describe('HA_DATA and HA_CATCH_UP', () => {
  it('HA_DATA carries an offset, the CRC of the bytes, and the raw bytes that follow', () => {
    const bytes = Buffer.from('records');
    const head = encodeHaDataHead(4096, 0xcafef00d);
    expect(head.length).toBe(12);
    expect(head.readUInt32BE(8)).toBe(0xcafef00d);
    const body = Buffer.concat([head, bytes]);
    const d = decodeHaData(body);
    expect(d.offset).toBe(4096);
    expect(d.crc).toBe(0xcafef00d);
    expect(d.bytes.equals(bytes)).toBe(true);
    expect(() => decodeHaData(body.subarray(0, 11))).toThrow(MalformedFrameError);
  });

  it('HA_CATCH_UP carries an offset and the raw bytes that follow', () => {
    const bytes = Buffer.from('records');
    const body = Buffer.concat([encodeHaCatchUpHead(4096), bytes]);
    const d = decodeHaCatchUp(body);
    expect(d.offset).toBe(4096);
    expect(d.bytes.equals(bytes)).toBe(true);
    expect(() => decodeHaCatchUp(body.subarray(0, 7))).toThrow(MalformedFrameError);
  });
});
