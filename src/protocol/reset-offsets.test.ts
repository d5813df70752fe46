// RESET_OFFSETS bodies byte for byte, their round trips, and every way a bad
// body is refused (the offset errors' statuses: codecs.test.ts).
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../common/index.js';
import { expectMalformed, thrownBy } from '../../test/helpers/errors.js';
import { ALL_QUEUES, decodeQueueResets, decodeResetOffsets, encodeQueueResets, encodeResetOffsets, type QueueReset } from './reset-offsets.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('RESET_OFFSETS request', () => {
  it('encodes group, topic, queue, target kind and value in wire order', () => {
    const b = encodeResetOffsets({ group: 'g', topic: 'T', queueId: 3, target: { offset: 0x0102 } });
    expect(hex(b)).toBe('0167' + '0154' + '00000003' + '00' + '0000000000000102');
    const all = encodeResetOffsets({ group: 'g', topic: 'T', queueId: undefined, target: { timestamp: 1_700_000_000_000 } });
    expect(hex(all.subarray(4, 9))).toBe('ffffffff01');
    expect(all.readUInt32BE(4)).toBe(ALL_QUEUES);
  });

  it('round-trips both targets, one queue and every queue', () => {
    for (const req of [
      { group: 'grp-1', topic: 'Topic_A', queueId: 0, target: { offset: 0 } },
      { group: 'grp-1@client', topic: '%RETRY%grp-1', queueId: 4095, target: { offset: 2 ** 53 - 1 } },
      { group: 'g', topic: 'T', queueId: undefined, target: { timestamp: Date.UTC(2026, 11, 12) } },
    ]) {
      expect(decodeResetOffsets(encodeResetOffsets(req))).toEqual(req);
    }
  });

  it('refuses an unknown target kind, short bodies and trailing bytes', () => {
    const good = encodeResetOffsets({ group: 'g', topic: 'T', queueId: 1, target: { offset: 5 } });
    const badKind = Buffer.from(good);
    badKind[8] = 2; // after group (2 bytes), topic (2) and queueId (4)
    expect(thrownBy(() => decodeResetOffsets(badKind))).toBeInstanceOf(InvalidRequestError);
    for (let n = 0; n < good.length; n++) expectMalformed(() => decodeResetOffsets(good.subarray(0, n)));
    expectMalformed(() => decodeResetOffsets(Buffer.concat([good, Buffer.from([0])])));
    const tooBig = Buffer.from(good);
    tooBig.writeUInt32BE(0x00200000, good.length - 8);
    expectMalformed(() => decodeResetOffsets(tooBig));
  });
});

describe('RESET_OFFSETS answer', () => {
  const resets: QueueReset[] = [
    { queueId: 0, offset: 12, previousOffset: 40, clamped: undefined, membersRedirected: true },
    { queueId: 1, offset: 0, previousOffset: undefined, clamped: 'min', membersRedirected: false },
    { queueId: 7, offset: 99, previousOffset: 0, clamped: 'max', membersRedirected: false },
  ];

  it('encodes queueId, offset, previous offset and flags per queue', () => {
    const b = encodeQueueResets(resets.slice(0, 1));
    expect(hex(b)).toBe('0001' + '00000000' + '000000000000000c' + '0000000000000028' + '09');
    expect(hex(encodeQueueResets([]))).toBe('0000');
  });

  it('round-trips, telling "never committed" from a previous offset of 0', () => {
    expect(decodeQueueResets(encodeQueueResets(resets))).toEqual(resets);
  });

  it('refuses short bodies and trailing bytes', () => {
    const good = encodeQueueResets(resets);
    for (let n = 0; n < good.length; n++) expectMalformed(() => decodeQueueResets(good.subarray(0, n)));
    expectMalformed(() => decodeQueueResets(Buffer.concat([good, Buffer.from([0])])));
  });
});
