// SendRequestView: a plain send request read in place gives the fields
// decodeSendRequest gives; anything malformed or not plain is declined (the
// broker then decodes it, with the decoder's errors).
import { describe, expect, it } from 'vitest';
import { decodeSendRequest, encodeSendRequest, type WireMessage } from './send.js';
import { SendRequestView } from './send-view.js';

const plain: WireMessage[] = [
  { body: Buffer.from('hello'), tags: 'TagA', keys: ['k1', 'k2'], flag: 7, bornTimestamp: 1_700_000_000_123 },
  { body: Buffer.alloc(0), bornTimestamp: 2 ** 53 - 1 },
  { body: Buffer.alloc(300, 9), keys: 'user-1', bornTimestamp: 5 },
];

function fieldsOf(view: SendRequestView, i: number): unknown {
  view.select(i);
  const b = view.bytes;
  return {
    body: b.subarray(view.bodyAt, view.bodyAt + view.bodyLength).toString('hex'),
    tags: view.tagsLength === 0 ? undefined : b.toString('latin1', view.tagsAt, view.tagsAt + view.tagsLength),
    keys: view.keysLength === 0 ? undefined : b.toString('latin1', view.keysAt, view.keysAt + view.keysLength).split(' '),
    flag: view.flag,
    bornTimestamp: view.bornTimestamp,
  };
}

describe('SendRequestView', () => {
  it('reads a plain request as decodeSendRequest does, and follows the topic from request to request', () => {
    const view = new SendRequestView();
    for (const topic of ['orders', 'LOTTERY_CLAIM', 'orders']) {
      const body = encodeSendRequest({ topic, queueId: 3, messages: plain });
      expect(view.parse(body)).toBe(true);
      const req = decodeSendRequest(body);
      expect([view.topic, view.queueId, view.count]).toEqual([topic, 3, 3]);
      req.messages.forEach((m, i) => expect(fieldsOf(view, i)).toEqual({ body: m.body.toString('hex'), tags: m.tags, keys: m.keys, flag: m.flag, bornTimestamp: m.bornTimestamp }));
    }
  });

  it('declines every malformed body: each truncation, a trailing byte, a lying or zero count, a u64 beyond 2^53', () => {
    const view = new SendRequestView();
    const body = encodeSendRequest({ topic: 'orders', queueId: 0, messages: plain });
    for (let n = 0; n < body.length; n++) expect(view.parse(body.subarray(0, n))).toBe(false);
    expect(view.parse(Buffer.concat([body, Buffer.alloc(1)]))).toBe(false);
    const countAt = 1 + 'orders'.length + 4;
    const lying = Buffer.from(body);
    lying.writeUInt32BE(4, countAt);
    expect(view.parse(lying)).toBe(false);
    lying.writeUInt32BE(0xffff_ffff, countAt);
    expect(view.parse(lying)).toBe(false);
    expect(view.parse(encodeSendRequest({ topic: 'orders', queueId: 0, messages: [] }))).toBe(false);
    const far = Buffer.from(body);
    far.writeUInt32BE(2 ** 21, countAt + 4 + 4); // first message's bornTimestamp high word
    expect(view.parse(far)).toBe(false);
    expect(() => decodeSendRequest(far)).toThrow();
  });

  it('declines requests that are not plain: properties, non-ASCII or separator bytes, an empty key, a non-ASCII topic', () => {
    const view = new SendRequestView();
    const declined: WireMessage[] = [
      { body: Buffer.alloc(1), properties: { a: 'b' } },
      { body: Buffer.alloc(1), keys: 'clé' },
      { body: Buffer.alloc(1), tags: 'tä' },
      { body: Buffer.alloc(1), keys: 'a\u0001b' },
      { body: Buffer.alloc(1), tags: 'a\u0002' },
      { body: Buffer.alloc(1), keys: 'a  b' },
      { body: Buffer.alloc(1), keys: ' a' },
      { body: Buffer.alloc(1), keys: 'a ' },
    ];
    for (const m of declined) expect(view.parse(encodeSendRequest({ topic: 'orders', queueId: 0, messages: [plain[0]!, m] }))).toBe(false);
    expect(view.parse(encodeSendRequest({ topic: 'tópico', queueId: 0, messages: plain }))).toBe(false);
    expect(view.parse(encodeSendRequest({ topic: 'orders', queueId: 0, messages: plain }))).toBe(true);
  });
});
