// SendRequestBuilder: the bytes it writes in place are the bytes
// encodeSendRequest gives for the same messages, and it refuses to write a
// request that would not decode.
import { describe, expect, it } from 'vitest';
import { MalformedFrameError } from '../common/index.js';
import { decodeSendRequest, decodeSendResponse, encodeSendRequest, encodeSendResponse, SendRequestBuilder, SendRequestTemplate } from './send.js';

const BORN = 1_733_100_000_123;

function built(topic: string, bodies: Buffer[], keys: number[]): Buffer {
  const b = new SendRequestBuilder(topic, bodies.length, bodies[0]!.length);
  bodies.forEach((body, j) => body.copy(b.bytes, b.add(BORN, body.length, keys[j]!)));
  return new SendRequestTemplate(topic, b).forQueue(0);
}

describe('SendRequestBuilder', () => {
  it('writes what encodeSendRequest writes, key digits included', () => {
    const keys = [0, 7, 10, 99_999_999, 100_000_000, 100_000_007, 10_000_000_000, 10_018_799_999, Number.MAX_SAFE_INTEGER];
    const bodies = keys.map((_, j) => Buffer.alloc(32, j + 1));
    const expected = encodeSendRequest({ topic: 'LOTTERY_CLAIM', queueId: 0, messages: bodies.map((body, j) => ({ body, keys: String(keys[j]), bornTimestamp: BORN })) });
    expect(built('LOTTERY_CLAIM', bodies, keys).equals(expected)).toBe(true);
    const req = decodeSendRequest(built('LOTTERY_CLAIM', bodies, keys));
    expect(req.messages.map((m) => m.keys)).toEqual(keys.map((k) => [String(k)]));
    expect(req.messages[3]!.body.equals(bodies[3]!)).toBe(true);
  });

  it('patches the queue id per attempt like any template', () => {
    const b = new SendRequestBuilder('t', 1, 4);
    b.add(BORN, 4, 1);
    const t = new SendRequestTemplate('t', b);
    expect(decodeSendRequest(t.forQueue(5)).queueId).toBe(5);
    expect(decodeSendRequest(t.forQueue(9)).queueId).toBe(9);
  });

  it('refuses a request that would not decode: too few or too many messages, a bad key, an oversized body', () => {
    const b = new SendRequestBuilder('t', 2, 4);
    b.add(BORN, 4, 1);
    expect(() => new SendRequestTemplate('t', b)).toThrow(MalformedFrameError);
    b.add(BORN, 4, 2);
    expect(() => b.add(BORN, 4, 3)).toThrow(MalformedFrameError);
    const c = new SendRequestBuilder('t', 2, 4);
    expect(() => c.add(BORN, 4, -1)).toThrow(MalformedFrameError);
    expect(() => c.add(BORN, 4, 1.5)).toThrow(MalformedFrameError);
    expect(() => c.add(BORN, 4, 2 ** 53)).toThrow(MalformedFrameError);
    expect(() => c.add(BORN, 64, 1)).toThrow(MalformedFrameError);
    expect(() => new SendRequestBuilder('t', 0, 4)).toThrow(MalformedFrameError);
    expect(() => new SendRequestBuilder('x'.repeat(256), 1, 4)).toThrow(MalformedFrameError);
  });
});

describe('encodeSendResponse offsets (written through a DataView)', () => {
  it('round-trips offsets across the 2^32 boundary and refuses ones a u64 field cannot carry exactly', () => {
    const physicalOffsets = [0, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1];
    const res = { queueId: 1, queueOffset: 2, count: physicalOffsets.length, storeTimestamp: 3, physicalOffsets };
    expect(decodeSendResponse(encodeSendResponse(res))).toEqual(res);
    for (const bad of [-1, 2 ** 53, Number.NaN]) expect(() => encodeSendResponse({ ...res, count: 1, physicalOffsets: [bad] })).toThrow(MalformedFrameError);
  });
});
