// Every request/response body codec (send, pull, offsets, consumer group,
// send-back, admin, route, error body, replication replies): round trips, exact byte layouts of
// SEND and PULL, and refusals as MalformedFrameError of every truncation,
// trailing bytes, lying counts and u64s beyond 2^53. Also the fixed opcode
// and status numbers and the status <-> typed error mapping.
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, AuthenticationError, ConnectError, LimitExceededError, DiskFullError, FlushError, FrameTooLargeError, InternalGroupError, InternalServerError, InvalidDelayError, InvalidMessageError, InvalidMessageIdError, InvalidRequestError, InvalidTopicError, MalformedFrameError, MasterBehindSlaveError, MessageTooLargeError, MetaqError, NoRouteError, NotFoundError, OffsetOutOfRangeError, ServiceUnavailableError, SlaveRefusedError, StoreClosedError, StoreUnavailableError, StoreWriteError, UnknownOpcodeError, UnknownQueueError, UnknownTopicError  } from '../common/index.js';
import {
  decodeCreateTopic,
  decodeOffsetForTimestamp,
  decodeQueryById,
  decodeQueryByKey,
  decodeQueueOffsets,
  decodeQueueRef,
  decodeRecordList,
  decodeText,
  encodeCreateTopic,
  encodeOffsetForTimestamp,
  encodeQueryById,
  encodeQueryByKey,
  encodeQueueOffsets,
  encodeQueueRef,
  encodeRecordList,
  encodeText,
} from './admin.js';
import {
  ConsumeMode,
  decodeClientGroup,
  decodeClientIds,
  decodeGroup,
  decodeHeartbeat,
  decodeQueueList,
  decodeQueueLock,
  encodeClientGroup,
  encodeClientIds,
  encodeGroup,
  encodeHeartbeat,
  encodeQueueList,
  encodeQueueLock,
  type HeartbeatRequest,
} from './consumer-group.js';
import { decodeErrorBody, encodeErrorBody } from './error-body.js';
import { encodeFrame } from './frame.js';
import { decodeHaHandshakeReply, decodeHaResyncReply, encodeHaHandshakeReply, encodeHaResyncReply, HaAction } from './ha.js';
import { decodeCommitOffsets, decodeOffset, decodeQueryOffset, encodeCommitOffsets, encodeOffset, encodeQueryOffset } from './offsets.js';
import { Opcode } from './opcodes.js';
import { decodePullRequest, decodePullResponse, encodePullRequest, encodePullResponseHead, PULL_RESPONSE_HEAD_SIZE, type PullRequest } from './pull.js';
import { decodeBrokerIdentity, decodeRegisterBroker, decodeRoute, decodeTopic, encodeBrokerIdentity, encodeRegisterBroker, encodeRoute, encodeTopic } from './route.js';
import { decodeSendBack, encodeSendBack } from './send-back.js';
import { decodeSendRequest, decodeSendResponse, encodeSendRequest, encodeSendResponse, SendRequestTemplate, type SendRequest } from './send.js';
import { errorForStatus, FIRST_ERROR_STATUS, isErrorStatus, Status, statusForError, statusName } from './status.js';
import { opcodeName, isKnownOpcode } from './opcodes.js';
import { expectMalformed, thrownBy } from '../../test/helpers/errors.js';

/** A fake CommitLog record: decodeRecordList only trusts the leading totalSize. */
function fakeRecord(size: number, fill: number): Buffer {
  const b = Buffer.alloc(size, fill);
  b.writeUInt32BE(size, 0);
  return b;
}

const sendRequest: SendRequest = {
  topic: 'orders',
  queueId: 3,
  messages: [
    { body: Buffer.from('first'), tags: 'TagA', keys: ['k1', 'k2'], properties: { a: 'b', 'long name': 'ünïcode' }, flag: 7, bornTimestamp: 1_700_000_000_123 },
    { body: Buffer.alloc(0), bornTimestamp: 2 ** 53 - 1 },
    { body: Buffer.alloc(1000, 0x5a), keys: 'one two', flag: 0xffffffff, bornTimestamp: 0 },
  ],
};

const pullRequest: PullRequest = {
  group: 'g1',
  topic: 'orders',
  queueId: 2,
  offset: 2 ** 40 + 1,
  maxCount: 32,
  maxBytes: 1 << 20,
  pollTimeoutMs: 15000,
  commitOffset: 2 ** 40,
  tags: ['TagA', 'TagB'],
};

const heartbeat: HeartbeatRequest = {
  clientId: '10.0.0.1@1234',
  groups: [
    { group: 'g1', mode: ConsumeMode.Clustering, ordered: false, subscriptions: [{ topic: 'orders', tags: ['*'] }, { topic: 't2', tags: [] }] },
    { group: 'g2', mode: ConsumeMode.Broadcasting, ordered: true, subscriptions: [{ topic: 'orders', tags: ['a', 'b', 'c'] }] },
  ],
};

interface StrictCase {
  name: string;
  body: Buffer;
  decode: (b: Buffer) => unknown;
  expected: unknown;
}

/** Every decoder that checks it consumed its whole body, with a valid encoding and what it decodes to. */
const strict: StrictCase[] = [
  {
    name: 'send request',
    body: encodeSendRequest(sendRequest),
    decode: decodeSendRequest,
    expected: {
      topic: 'orders',
      queueId: 3,
      messages: [
        { body: Buffer.from('first'), tags: 'TagA', keys: ['k1', 'k2'], properties: { a: 'b', 'long name': 'ünïcode' }, flag: 7, bornTimestamp: 1_700_000_000_123 },
        { body: Buffer.alloc(0), tags: undefined, keys: undefined, properties: undefined, flag: 0, bornTimestamp: 2 ** 53 - 1 },
        { body: Buffer.alloc(1000, 0x5a), tags: undefined, keys: ['one', 'two'], properties: undefined, flag: 0xffffffff, bornTimestamp: 0 },
      ],
    },
  },
  {
    name: 'send response',
    body: encodeSendResponse({ queueId: 3, queueOffset: 2 ** 45, count: 3, storeTimestamp: 1_700_000_000_999, physicalOffsets: [0, 210, 2 ** 53 - 1] }),
    decode: decodeSendResponse,
    expected: { queueId: 3, queueOffset: 2 ** 45, count: 3, storeTimestamp: 1_700_000_000_999, physicalOffsets: [0, 210, 2 ** 53 - 1] },
  },
  { name: 'pull request', body: encodePullRequest(pullRequest), decode: decodePullRequest, expected: pullRequest },
  {
    name: 'pull request without commit offset',
    body: encodePullRequest({ ...pullRequest, commitOffset: undefined, tags: [] }),
    decode: decodePullRequest,
    expected: { ...pullRequest, commitOffset: undefined, tags: [] },
  },
  {
    name: 'commit offsets',
    body: encodeCommitOffsets({ group: 'g', entries: [{ topic: 'a', queueId: 0, offset: 5 }, { topic: 'b', queueId: 7, offset: 2 ** 50 }] }),
    decode: decodeCommitOffsets,
    expected: { group: 'g', entries: [{ topic: 'a', queueId: 0, offset: 5 }, { topic: 'b', queueId: 7, offset: 2 ** 50 }] },
  },
  { name: 'commit offsets, empty', body: encodeCommitOffsets({ group: 'g', entries: [] }), decode: decodeCommitOffsets, expected: { group: 'g', entries: [] } },
  { name: 'query offset', body: encodeQueryOffset({ group: 'g', topic: 't', queueId: 9 }), decode: decodeQueryOffset, expected: { group: 'g', topic: 't', queueId: 9 } },
  { name: 'offset', body: encodeOffset(123456789012), decode: decodeOffset, expected: 123456789012 },
  { name: 'heartbeat', body: encodeHeartbeat(heartbeat), decode: decodeHeartbeat, expected: heartbeat },
  { name: 'heartbeat, no groups', body: encodeHeartbeat({ clientId: 'c', groups: [] }), decode: decodeHeartbeat, expected: { clientId: 'c', groups: [] } },
  { name: 'client group', body: encodeClientGroup({ clientId: 'c1', group: 'g1' }), decode: decodeClientGroup, expected: { clientId: 'c1', group: 'g1' } },
  { name: 'group', body: encodeGroup('g1'), decode: decodeGroup, expected: 'g1' },
  { name: 'client ids', body: encodeClientIds(['a', 'b', 'c']), decode: decodeClientIds, expected: ['a', 'b', 'c'] },
  {
    name: 'queue lock',
    body: encodeQueueLock({ group: 'g', clientId: 'c', queues: [{ topic: 't', queueId: 0 }, { topic: 't', queueId: 1 }] }),
    decode: decodeQueueLock,
    expected: { group: 'g', clientId: 'c', queues: [{ topic: 't', queueId: 0 }, { topic: 't', queueId: 1 }] },
  },
  { name: 'queue list', body: encodeQueueList([{ topic: 'x', queueId: 4 }]), decode: decodeQueueList, expected: [{ topic: 'x', queueId: 4 }] },
  {
    name: 'send back',
    body: encodeSendBack({ group: 'g', physicalOffset: 2 ** 33, maxReconsumeTimes: 16, toDeadLetter: true }),
    decode: decodeSendBack,
    expected: { group: 'g', physicalOffset: 2 ** 33, maxReconsumeTimes: 16, toDeadLetter: true },
  },
  {
    name: 'send back, not dead-letter',
    body: encodeSendBack({ group: 'g', physicalOffset: 0, maxReconsumeTimes: 0, toDeadLetter: false }),
    decode: decodeSendBack,
    expected: { group: 'g', physicalOffset: 0, maxReconsumeTimes: 0, toDeadLetter: false },
  },
  { name: 'create topic', body: encodeCreateTopic({ topic: 't', queueCount: 8 }), decode: decodeCreateTopic, expected: { topic: 't', queueCount: 8 } },
  { name: 'query by key', body: encodeQueryByKey({ topic: 't', key: 'order-1', maxCount: 32 }), decode: decodeQueryByKey, expected: { topic: 't', key: 'order-1', maxCount: 32 } },
  { name: 'query by id', body: encodeQueryById(2 ** 52 + 3), decode: decodeQueryById, expected: 2 ** 52 + 3 },
  {
    name: 'record list',
    body: encodeRecordList([fakeRecord(80, 1), fakeRecord(100, 2)]),
    decode: decodeRecordList,
    expected: [fakeRecord(80, 1), fakeRecord(100, 2)],
  },
  { name: 'record list, empty', body: encodeRecordList([]), decode: decodeRecordList, expected: [] },
  {
    name: 'offset for timestamp',
    body: encodeOffsetForTimestamp({ topic: 't', queueId: 1, timestamp: 1_700_000_000_000 }),
    decode: decodeOffsetForTimestamp,
    expected: { topic: 't', queueId: 1, timestamp: 1_700_000_000_000 },
  },
  { name: 'queue ref', body: encodeQueueRef({ topic: 't', queueId: 5 }), decode: decodeQueueRef, expected: { topic: 't', queueId: 5 } },
  { name: 'queue offsets', body: encodeQueueOffsets({ minOffset: 10, maxOffset: 2 ** 40 }), decode: decodeQueueOffsets, expected: { minOffset: 10, maxOffset: 2 ** 40 } },
  { name: 'topic', body: encodeTopic('orders'), decode: decodeTopic, expected: 'orders' },
  {
    name: 'route',
    body: encodeRoute([{ brokerName: 'b1', addr: '10.0.0.1:10911', queueCount: 8, role: 0 }, { brokerName: 'b2', addr: 'host:1', queueCount: 4, role: 1 }]),
    decode: decodeRoute,
    expected: [{ brokerName: 'b1', addr: '10.0.0.1:10911', queueCount: 8, role: 0 }, { brokerName: 'b2', addr: 'host:1', queueCount: 4, role: 1 }],
  },
  {
    name: 'register broker',
    body: encodeRegisterBroker({ brokerName: 'b1', addr: '127.0.0.1:1', role: 1, topics: [{ topic: 'a', queueCount: 4 }, { topic: 'b', queueCount: 1 }] }),
    decode: decodeRegisterBroker,
    expected: { brokerName: 'b1', addr: '127.0.0.1:1', role: 1, topics: [{ topic: 'a', queueCount: 4 }, { topic: 'b', queueCount: 1 }] },
  },
  { name: 'broker identity', body: encodeBrokerIdentity({ brokerName: 'b1', addr: 'h:2' }), decode: decodeBrokerIdentity, expected: { brokerName: 'b1', addr: 'h:2' } },
  { name: 'ha handshake reply, reset', body: encodeHaHandshakeReply({ action: HaAction.Reset, offset: 2 ** 40 }), decode: decodeHaHandshakeReply, expected: { action: HaAction.Reset, offset: 2 ** 40 } },
  {
    name: 'ha resync reply',
    body: encodeHaResyncReply({ offset: 2 ** 33, queues: [{ topic: 'a', queueId: 0, queueOffset: 7 }, { topic: '%RETRY%g', queueId: 3, queueOffset: 2 ** 45 }] }),
    decode: decodeHaResyncReply,
    expected: { offset: 2 ** 33, queues: [{ topic: 'a', queueId: 0, queueOffset: 7 }, { topic: '%RETRY%g', queueId: 3, queueOffset: 2 ** 45 }] },
  },
  { name: 'ha resync reply, no queues', body: encodeHaResyncReply({ offset: 0, queues: [] }), decode: decodeHaResyncReply, expected: { offset: 0, queues: [] } },
];

describe('body codecs: round trips and refusals', () => {
  for (const c of strict) {
    describe(c.name, () => {
      it('round-trips', () => {
        expect(c.decode(c.body)).toEqual(c.expected);
        // Decoding does not depend on where the body sits in a bigger buffer.
        const framed = encodeFrame({ opcode: 1, flags: 0, requestId: 1, status: 0 }, c.body).subarray(16);
        expect(c.decode(framed)).toEqual(c.expected);
      });

      it('refuses every truncation with MalformedFrameError', () => {
        for (let n = 0; n < c.body.length; n++) expectMalformed(() => c.decode(Buffer.from(c.body.subarray(0, n))));
      });

      it('refuses trailing bytes', () => {
        expectMalformed(() => c.decode(Buffer.concat([c.body, Buffer.from([0])])));
      });
    });
  }
});

describe('SEND', () => {
  it('encodes a request with the exact documented byte layout', () => {
    const body = encodeSendRequest({
      topic: 'T1',
      queueId: 3,
      messages: [{ body: Buffer.from('hi'), tags: 'tg', keys: ['k1', 'k2'], properties: { a: 'b' }, flag: 7, bornTimestamp: 0x0102_0304_0506 }],
    });
    const expected = [
      '02 5431', // topic str8 "T1"
      '00000003', // queueId
      '00000001', // count
      '00000007', // flag
      '0000010203040506', // bornTimestamp u64
      '00000002 6869', // body bytes32 "hi"
      '02 7467', // tags str8 "tg"
      '0005 6b31206b32', // keys str16 "k1 k2"
      '0004 6101 6202', // properties str16 "a\x01b\x02"
    ].join('').replaceAll(' ', '');
    expect(body.toString('hex')).toBe(expected);
    const frame = encodeFrame({ opcode: Opcode.Send, flags: 0, requestId: 42, status: 0 }, body);
    expect(frame.subarray(0, 16).toString('hex')).toBe(`${(16 + body.length).toString(16).padStart(8, '0')}010100000000002a00000000`);
    expect(body.length).toBe(45);
    expect(frame.length).toBe(16 + 45);
  });

  it('encodes a response with the exact documented byte layout', () => {
    const body = encodeSendResponse({ queueId: 1, queueOffset: 2, count: 2, storeTimestamp: 0x0a0b, physicalOffsets: [0x10, 0x0100_0000_0000] });
    expect(body.toString('hex')).toBe('00000001' + '0000000000000002' + '00000002' + '0000000000000a0b' + '0000000000000010' + '0000010000000000');
  });

  it('stamps bornTimestamp with now when absent, and keeps keys given as one string', () => {
    const before = Date.now();
    const m = decodeSendRequest(encodeSendRequest({ topic: 't', queueId: 0, messages: [{ body: Buffer.from('x'), keys: 'a b' }] })).messages[0]!;
    expect(m.bornTimestamp).toBeGreaterThanOrEqual(before);
    expect(m.bornTimestamp).toBeLessThanOrEqual(Date.now());
    expect(m.keys).toEqual(['a', 'b']);
  });

  it('refuses a request whose count lies', () => {
    const body = encodeSendRequest(sendRequest);
    const countAt = 1 + 'orders'.length + 4;
    for (const lie of [4, 1000, 0xffffffff]) {
      const b = Buffer.from(body);
      b.writeUInt32BE(lie, countAt);
      expectMalformed(() => decodeSendRequest(b));
    }
    const fewer = Buffer.from(body);
    fewer.writeUInt32BE(2, countAt);
    expectMalformed(() => decodeSendRequest(fewer)); // the third message becomes trailing bytes
  });

  it('refuses a bornTimestamp beyond 2^53', () => {
    const body = encodeSendRequest({ topic: 't', queueId: 0, messages: [{ body: Buffer.from('x'), bornTimestamp: 1 }] });
    const bornAt = 2 + 4 + 4 + 4;
    expect(body.readUInt32BE(bornAt + 4)).toBe(1);
    body[bornAt + 1] = 0x20; // 2^53 + 1
    expectMalformed(() => decodeSendRequest(body));
  });

  it('refuses a response whose count does not match its offsets', () => {
    const body = encodeSendResponse({ queueId: 0, queueOffset: 0, count: 2, storeTimestamp: 0, physicalOffsets: [1, 2] });
    for (const lie of [0, 1, 3, 0xffffffff]) {
      const b = Buffer.from(body);
      b.writeUInt32BE(lie, 12);
      expectMalformed(() => decodeSendResponse(b));
    }
  });

  it('fills the queue id of a template per attempt, each retry on its own copy', () => {
    const messages = [{ body: Buffer.from('hi'), bornTimestamp: 5 }];
    const t = new SendRequestTemplate('orders', messages);
    const first = t.forQueue(3);
    expect(first.equals(encodeSendRequest({ topic: 'orders', queueId: 3, messages }))).toBe(true);
    const second = t.forQueue(7);
    expect(second).not.toBe(first);
    expect(decodeSendRequest(first).queueId).toBe(3); // the first attempt's bytes are left as sent
    expect(second.equals(encodeSendRequest({ topic: 'orders', queueId: 7, messages }))).toBe(true);
  });

  it('refuses to encode bad fields with typed errors', () => {
    expectMalformed(() => encodeSendRequest({ topic: 't'.repeat(256), queueId: 0, messages: [] }));
    expectMalformed(() => encodeSendRequest({ topic: 't', queueId: 0, messages: [{ body: Buffer.alloc(0), tags: 'x'.repeat(256) }] }));
    const bad: Record<string, string>[] = [{ 'a\u0001': 'b' }, { a: 'b\u0002' }, { '': 'b' }];
    for (const properties of bad) {
      const err = thrownBy(() => encodeSendRequest({ topic: 't', queueId: 0, messages: [{ body: Buffer.alloc(0), properties }] }));
      expect(err).toBeInstanceOf(InvalidMessageError);
    }
  });
});

describe('PULL', () => {
  it('encodes a request with the exact documented byte layout', () => {
    const body = encodePullRequest({ group: 'g', topic: 't', queueId: 1, offset: 2, maxCount: 3, maxBytes: 4, pollTimeoutMs: 5, commitOffset: 6, tags: ['x'] });
    const expected = '0167' + '0174' + '00000001' + '0000000000000002' + '00000003' + '00000004' + '00000005' + '01' + '0000000000000006' + '01' + '0178';
    expect(body.toString('hex')).toBe(expected);
    const noCommit = encodePullRequest({ group: 'g', topic: 't', queueId: 1, offset: 2, maxCount: 3, maxBytes: 4, pollTimeoutMs: 5, tags: [] });
    expect(noCommit.toString('hex')).toBe('0167' + '0174' + '00000001' + '0000000000000002' + '00000003' + '00000004' + '00000005' + '00' + '0000000000000000' + '00');
  });

  it('ignores the commit offset when the flag is clear', () => {
    const body = encodePullRequest({ ...pullRequest, commitOffset: 77 });
    const flagAt = body.length - (8 + 1 + 5 + 5) - 1;
    expect(body[flagAt]).toBe(1);
    body[flagAt] = 0;
    expect(decodePullRequest(body).commitOffset).toBeUndefined();
  });

  it('round-trips a response: fixed head then the raw records to the end', () => {
    const head = { nextOffset: 12, minOffset: 0, maxOffset: 2 ** 41, count: 2 };
    const records = Buffer.concat([fakeRecord(80, 1), fakeRecord(90, 2)]);
    const encodedHead = encodePullResponseHead(head);
    expect(encodedHead.length).toBe(PULL_RESPONSE_HEAD_SIZE);
    expect(encodedHead.toString('hex')).toBe('000000000000000c' + '0000000000000000' + '0000020000000000' + '00000002');
    expect(decodePullResponse(Buffer.concat([encodedHead, records]))).toEqual({ ...head, records });
    expect(decodePullResponse(encodedHead)).toEqual({ ...head, records: Buffer.alloc(0) });
    for (let n = 0; n < PULL_RESPONSE_HEAD_SIZE; n++) expectMalformed(() => decodePullResponse(encodedHead.subarray(0, n)));
  });
});

describe('other refusals', () => {
  it('refuses u64 fields beyond 2^53', () => {
    const offset = encodeOffset(5);
    offset[1] = 0x20;
    expectMalformed(() => decodeOffset(offset));
    const res = encodeSendResponse({ queueId: 0, queueOffset: 0, count: 1, storeTimestamp: 0, physicalOffsets: [1] });
    res[24] = 0x80;
    expectMalformed(() => decodeSendResponse(res));
    const q = encodeQueueOffsets({ minOffset: 0, maxOffset: 0 });
    q.fill(0xff, 8);
    expectMalformed(() => decodeQueueOffsets(q));
  });

  it('refuses lying counts', () => {
    const commit = encodeCommitOffsets({ group: 'g', entries: [{ topic: 'a', queueId: 0, offset: 1 }] });
    commit.writeUInt16BE(0xffff, 2);
    expectMalformed(() => decodeCommitOffsets(commit));
    const route = encodeRoute([{ brokerName: 'b', addr: 'a:1', queueCount: 1, role: 0 }]);
    route[0] = 2;
    expectMalformed(() => decodeRoute(route));
    const recs = encodeRecordList([fakeRecord(20, 1)]);
    recs.writeUInt32BE(0xffffffff, 0);
    expectMalformed(() => decodeRecordList(recs));
    const reg = encodeRegisterBroker({ brokerName: 'b', addr: 'a', role: 0, topics: [] });
    reg.writeUInt32BE(0xffffffff, reg.length - 4);
    expectMalformed(() => decodeRegisterBroker(reg));
  });

  it('refuses a record whose size runs past the body', () => {
    const recs = encodeRecordList([fakeRecord(20, 1)]);
    recs.writeUInt32BE(21, 4);
    expectMalformed(() => decodeRecordList(recs));
  });

  it('refuses an unknown consume mode as an invalid request', () => {
    const body = encodeHeartbeat({ clientId: 'c', groups: [{ group: 'g', mode: ConsumeMode.Clustering, ordered: false, subscriptions: [] }] });
    body[1 + 1 + 1 + 1 + 1] = 9; // clientId str8 "c", groupCount, group str8 "g", then mode
    const err = thrownBy(() => decodeHeartbeat(body));
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).code).toBe('METAQ_INVALID_REQUEST');
  });

  it('refuses to encode more list entries than the count field holds', () => {
    const tags = Array.from({ length: 256 }, (_, i) => `t${i}`);
    expectMalformed(() => encodePullRequest({ ...pullRequest, tags }));
    expectMalformed(() => encodeRoute(Array.from({ length: 256 }, () => ({ brokerName: 'b', addr: 'a', queueCount: 1, role: 0 as const }))));
    expectMalformed(() => encodeCommitOffsets({ group: 'g', entries: Array.from({ length: 0x10000 }, () => ({ topic: 't', queueId: 0, offset: 0 })) }));
  });
});

describe('text and error bodies', () => {
  it('round-trips stats text', () => {
    expect(decodeText(encodeText('{"a":"é"}'))).toBe('{"a":"é"}');
  });

  it('encodes an error message as str16 and decodes it back', () => {
    const body = encodeErrorBody('no such topic');
    expect(body.readUInt16BE(0)).toBe(13);
    expect(decodeErrorBody(body)).toBe('no such topic');
  });

  it('caps a long error message at 1024 bytes', () => {
    const body = encodeErrorBody('é'.repeat(5000));
    expect(body.length - 2).toBeLessThanOrEqual(1024);
    expect(body.readUInt16BE(0)).toBe(body.length - 2);
    expect(decodeErrorBody(body)).toMatch(/^é+$/);
  });

  it('decodes an odd error body leniently, never throwing', () => {
    expect(decodeErrorBody(Buffer.from('plain text'))).toBe('plain text');
    expect(decodeErrorBody(Buffer.alloc(0))).toBe('');
    const body = encodeErrorBody('truncated message');
    for (let n = 0; n < body.length; n++) expect(typeof decodeErrorBody(body.subarray(0, n))).toBe('string');
  });
});

describe('opcodes and statuses', () => {
  it('keeps the wire numbers of every opcode', () => {
    expect(Opcode).toEqual({
      Send: 1,
      Pull: 2,
      CommitOffsets: 3,
      QueryOffset: 4,
      Heartbeat: 5,
      UnregisterClient: 6,
      GetConsumers: 7,
      LockQueues: 8,
      UnlockQueues: 9,
      SendBack: 10,
      CreateTopic: 11,
      QueryByKey: 12,
      QueryById: 13,
      OffsetForTimestamp: 14,
      QueueOffsets: 15,
      BrokerStats: 16,
      ResetOffsets: 17,
      GetRoute: 20,
      RegisterBroker: 21,
      UnregisterBroker: 22,
      NotifyConsumersChanged: 30,
      HaHandshake: 40,
      HaReport: 41,
      HaData: 42,
      HaOffsets: 43,
      HaDurable: 44,
      HaResync: 45,
      HaCatchUp: 46,
      AuthHello: 50,
      AuthProof: 51,
      TransactionHalf: 60,
      EndTransaction: 61,
      CheckTransactionState: 62,
      RegisterProducer: 63,
      UnregisterProducer: 64,
    });
    expect(opcodeName(2)).toBe('Pull');
    expect(opcodeName(99)).toBe('opcode 99');
    expect(isKnownOpcode(30)).toBe(true);
    expect(isKnownOpcode(18)).toBe(false);
  });

  it('keeps the wire numbers of every status', () => {
    expect(Status).toEqual({
      Ok: 0,
      NoNewMessage: 1,
      NoMatchedMessage: 2,
      OffsetMoved: 3,
      OffsetOverflow: 4,
      NotFound: 5,
      SlaveTimeout: 6,
      SlaveNotAvailable: 7,
      Truncated: 8,
      MalformedFrame: 20,
      FrameTooLarge: 21,
      UnknownOpcode: 22,
      InvalidRequest: 23,
      UnknownTopic: 30,
      UnknownQueue: 31,
      InvalidTopic: 32,
      InvalidMessage: 33,
      MessageTooLarge: 34,
      OffsetOutOfRange: 35,
      InternalGroup: 36,
      DiskFull: 40,
      StoreUnavailable: 41,
      ServiceUnavailable: 42,
      FlushFailed: 43,
      StoreWriteFailed: 44,
      MasterBehindSlave: 45,
      SlaveRefused: 46,
      NoRoute: 50,
      Unauthenticated: 51,
      AccessDenied: 52,
      LimitExceeded: 53,
      InternalError: 60,
      InvalidDelay: 75,
    });
    expect(FIRST_ERROR_STATUS).toBe(20);
    for (const s of [0, 1, 2, 3, 4, 5]) expect(isErrorStatus(s)).toBe(false);
    for (const s of [20, 23, 44, 60, 99]) expect(isErrorStatus(s)).toBe(true);
    expect(statusName(3)).toBe('OffsetMoved');
    expect(statusName(99)).toBe('status 99');
  });

  const pairs: [new (message?: string) => MetaqError, Status][] = [
    [MalformedFrameError, Status.MalformedFrame],
    [FrameTooLargeError, Status.FrameTooLarge],
    [UnknownOpcodeError, Status.UnknownOpcode],
    [InvalidRequestError, Status.InvalidRequest],
    [UnknownTopicError, Status.UnknownTopic],
    [UnknownQueueError, Status.UnknownQueue],
    [InvalidTopicError, Status.InvalidTopic],
    [InvalidMessageError, Status.InvalidMessage],
    [InvalidDelayError, Status.InvalidDelay],
    [MessageTooLargeError, Status.MessageTooLarge],
    [OffsetOutOfRangeError, Status.OffsetOutOfRange],
    [InternalGroupError, Status.InternalGroup],
    [DiskFullError, Status.DiskFull],
    [StoreUnavailableError, Status.StoreUnavailable],
    [ServiceUnavailableError, Status.ServiceUnavailable],
    [FlushError, Status.FlushFailed],
    [StoreWriteError, Status.StoreWriteFailed],
    [MasterBehindSlaveError, Status.MasterBehindSlave],
    [SlaveRefusedError, Status.SlaveRefused],
    [NoRouteError, Status.NoRoute],
    [NotFoundError, Status.NotFound],
    [AuthenticationError, Status.Unauthenticated],
    [AccessDeniedError, Status.AccessDenied],
  ];

  for (const [Cls, status] of pairs) {
    it(`maps ${Cls.name} to ${statusName(status)} (${status}) and back`, () => {
      const original = new Cls('what happened');
      expect(statusForError(original)).toBe(status);
      const back = errorForStatus(status, original.message);
      expect(back).toBeInstanceOf(Cls);
      expect(back.code).toBe(original.code);
      expect(back.message).toBe('what happened');
      expect(back.name).toBe(Cls.name);
    });
  }

  it('maps LimitExceededError to LimitExceeded and back, keeping the limit name through a client prefix', () => {
    const original = new LimitExceededError('connectionsPerBroker', '1024 connections are open');
    expect(original.message).toBe('limit connectionsPerBroker: 1024 connections are open');
    expect(statusForError(original)).toBe(Status.LimitExceeded);
    const back = errorForStatus(Status.LimitExceeded, `127.0.0.1:1: ${original.message}`);
    expect(back).toBeInstanceOf(LimitExceededError);
    expect((back as LimitExceededError).limit).toBe('connectionsPerBroker');
    expect(back.code).toBe('METAQ_LIMIT_EXCEEDED');
  });

  it('folds related errors into one status', () => {
    expect(statusForError(new InvalidMessageIdError())).toBe(Status.InvalidMessage);
    expect(statusForError(new StoreClosedError())).toBe(Status.StoreUnavailable);
  });

  it('maps anything unclassified to InternalError, and unknown statuses to InternalServerError', () => {
    for (const err of [new Error('x'), 'a string', undefined, new ConnectError(), new InternalServerError()]) {
      expect(statusForError(err)).toBe(Status.InternalError);
    }
    const internal = errorForStatus(Status.InternalError, 'boom');
    expect(internal).toBeInstanceOf(InternalServerError);
    expect(internal.message).toBe('InternalError: boom');
    const unknown = errorForStatus(99, 'odd');
    expect(unknown).toBeInstanceOf(InternalServerError);
    expect(unknown.message).toBe('status 99: odd');
  });
});
