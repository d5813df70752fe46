// Unit tests of the record codec on bytes: round trip, and that every kind
// of damage recovery relies on detecting is detected.
import { describe, expect, it } from 'vitest';
import {
  BLANK_MARKER_SIZE,
  checkRecord,
  decodeRecord,
  decodeRecords,
  OFF_CRC,
  RECORD_OVERHEAD,
  RecordCheck,
  recordSize,
  writeBlankMarker,
  writeRecord,
  type RecordFields,
} from './index.js';

const MAX = 1 << 20;

function fields(over: Partial<RecordFields> = {}): RecordFields {
  const properties = 'TAGS\u0001red\u0002KEYS\u0001k1 k2\u0002x\u0001é\u0002';
  return {
    body: Buffer.from('hello, lottery'),
    topic: Buffer.from('tickets'),
    properties,
    propertiesLength: Buffer.byteLength(properties),
    queueId: 7,
    queueOffset: 2 ** 40 + 5,
    physicalOffset: 2 ** 33 + 11,
    flag: 3,
    sysFlag: 1,
    bornTimestamp: 1_790_000_000_123,
    storeTimestamp: 1_790_000_000_456,
    reconsumeTimes: 2,
    tagsCode: 0xdeadbeef,
    ...over,
  };
}

function encode(f: RecordFields): Buffer {
  const buf = Buffer.alloc(recordSize(f.body.length, f.topic.length, f.propertiesLength));
  expect(writeRecord(buf, 0, f)).toBe(buf.length);
  return buf;
}

describe('record codec', () => {
  it('round-trips every field', () => {
    const f = fields();
    const m = decodeRecord(encode(f));
    expect(m).toMatchObject({
      topic: 'tickets',
      queueId: 7,
      queueOffset: 2 ** 40 + 5,
      physicalOffset: 2 ** 33 + 11,
      flag: 3,
      sysFlag: 1,
      bornTimestamp: 1_790_000_000_123,
      storeTimestamp: 1_790_000_000_456,
      reconsumeTimes: 2,
      tagsCode: 0xdeadbeef,
      tags: 'red',
      keys: ['k1', 'k2'],
      properties: { TAGS: 'red', KEYS: 'k1 k2', x: 'é' },
    });
    expect(m.body.toString()).toBe('hello, lottery');
  });

  it('has the documented fixed overhead', () => {
    expect(RECORD_OVERHEAD).toBe(75);
    expect(encode(fields({ body: Buffer.alloc(128), topic: Buffer.from('bench-0'), properties: '', propertiesLength: 0 })).length).toBe(210);
  });

  it('accepts a valid record and decodes concatenations', () => {
    const a = encode(fields({ physicalOffset: 0 }));
    const b = encode(fields({ physicalOffset: a.length, body: Buffer.alloc(0) }));
    const both = Buffer.concat([a, b]);
    expect(checkRecord(both, 0, both.length, MAX, 0, true)).toBe(RecordCheck.Ok);
    expect(checkRecord(both, a.length, both.length, MAX, a.length, true)).toBe(RecordCheck.Ok);
    expect(decodeRecords(both).map((m) => m.body.length)).toEqual([14, 0]);
  });

  it('detects a flipped bit anywhere after the CRC field', () => {
    const good = encode(fields({ physicalOffset: 0 }));
    for (let i = OFF_CRC + 4; i < good.length; i += 3) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x10;
      expect(checkRecord(bad, 0, bad.length, MAX, 0, true), `byte ${i}`).not.toBe(RecordCheck.Ok);
    }
  });

  it('reports a cut record as short, zeros and garbage as invalid', () => {
    const good = encode(fields({ physicalOffset: 0 }));
    expect(checkRecord(good, 0, good.length - 1, MAX, 0, true)).toBe(RecordCheck.Short);
    expect(checkRecord(Buffer.alloc(64), 0, 64, MAX, 0, true)).toBe(RecordCheck.Invalid);
    const huge = Buffer.from(good);
    huge.writeUInt32BE(MAX + 1, 0);
    expect(checkRecord(huge, 0, huge.length, MAX, 0, true)).toBe(RecordCheck.Invalid);
  });

  it('rejects a valid record found at the wrong position (stale data)', () => {
    const good = encode(fields({ physicalOffset: 4096 }));
    expect(checkRecord(good, 0, good.length, MAX, 0, true)).toBe(RecordCheck.Invalid);
  });

  it('recognises the blank marker', () => {
    const buf = Buffer.alloc(BLANK_MARKER_SIZE);
    writeBlankMarker(buf, 0, 1000);
    expect(checkRecord(buf, 0, buf.length, MAX, 0, true)).toBe(RecordCheck.Blank);
  });
});
