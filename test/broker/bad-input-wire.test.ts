// Bad input on the wire, against a real broker over raw sockets: bad headers,
// lengths, truncated and undecodable bodies, unknown opcodes, garbage, and
// well-formed requests with bad fields. A malformed, oversized or unknown
// frame gets an error response (with the request id when the header was
// readable) and its connection is closed; a well-formed request with bad
// fields gets a typed error status and its connection stays open. Meanwhile
// a Producer and a Consumer on other connections keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type MessageQueue } from '../../src/client/index.js';
import { Broker } from '../../src/broker/index.js';
import { MetaqError } from '../../src/common/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import {
  decodePullResponse,
  decodeQueueOffsets,
  decodeSendResponse,
  encodeFrame,
  encodePullRequest,
  encodeQueryById,
  encodeQueryOffset,
  encodeQueueRef,
  encodeSendRequest,
  encodeTopic,
  FrameFlag,
  Opcode,
  Status,
  statusName,
} from '../../src/protocol/index.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { rejectionOf } from '../helpers/errors.js';
import { prng } from '../helpers/messages.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { rawHeader, RawConn, type RawFrame } from './fixtures/bad-input-wire-raw.js';

const MAX_MESSAGE = 1024;
const MAX_FRAME = 128 * 1024;
const TOPIC = 'WireT';
const BG_TOPIC = 'WireBg';
const FAST_CLIENT = { heartbeatIntervalMs: 300, rebalanceIntervalMs: 500, commitIntervalMs: 100, pollTimeoutMs: 1000 } as const;
const quiet = { warn: () => undefined };

let namesrv: NameServer;
let broker: Broker;
let dir: string;
let addr: string;
let bgProducer: Producer;
let bgConsumer: Consumer;
let admin: Admin;
let bgStop = false;
let bgLoop: Promise<void>;
const bgSent = new Set<string>();
const bgGot = new Set<string>();
const bgErrors: unknown[] = [];
const conns: RawConn[] = [];

async function open(): Promise<RawConn> {
  const c = await RawConn.open(addr);
  conns.push(c);
  return c;
}

function mq(queueId: number, topic = TOPIC): MessageQueue {
  return { topic, brokerName: broker.config.brokerName, addr, queueId };
}

async function maxOffsets(topic = TOPIC): Promise<number[]> {
  return Promise.all([0, 1, 2, 3].map(async (q) => (await admin.queueOffsets(mq(q, topic))).maxOffset));
}

/** The background traffic moves on: at least `n` more messages consumed, and the broker answers a fresh admin request. */
async function expectTrafficFlows(n = 5): Promise<void> {
  const before = bgGot.size;
  await waitUntil(() => bgGot.size >= before + n, `${n} more background messages consumed`, 5000, 5);
  expect(bgErrors).toEqual([]);
  expect((await admin.queueOffsets(mq(0))).minOffset).toBe(0);
}

function expectError(f: RawFrame, requestId: number, opcode: number, status: number): void {
  expect({ requestId: f.requestId, opcode: f.opcode, status: statusName(f.status), response: (f.flags & FrameFlag.Response) !== 0 }).toEqual({
    requestId,
    opcode,
    status: statusName(status),
    response: true,
  });
  expect(f.message.length).toBeGreaterThan(0);
}

/** The connection got exactly the one error response and was closed by the server. */
async function expectRefusedAndClosed(c: RawConn, requestId: number, opcode: number, status: number): Promise<RawFrame> {
  const f = await c.response(requestId);
  expectError(f, requestId, opcode, status);
  expect(await c.waitClosed(), 'the server closes the connection').toBe(true);
  await sleep(20);
  expect(c.frames.length, 'nothing after the error response').toBe(1);
  return f;
}

/** The connection still serves: a QUEUE_OFFSETS request on it is answered Ok. */
async function expectStillOpen(c: RawConn, requestId: number): Promise<void> {
  c.request(Opcode.QueueOffsets, requestId, encodeQueueRef({ topic: TOPIC, queueId: 0 }));
  const f = await c.response(requestId);
  expect(statusName(f.status)).toBe('Ok');
  expect(decodeQueueOffsets(f.body).minOffset).toBe(0);
  expect(c.isClosed || c.ended).toBe(false);
}

function sendBody(topic: string, queueId: number, bodies: Buffer[]): Buffer {
  return encodeSendRequest({ topic, queueId, messages: bodies.map((b) => ({ body: b })) });
}

describe('bad input on the wire', () => {
  beforeAll(async () => {
    dir = makeTempDir('wire');
    namesrv = await NameServer.start({ port: 0, brokerExpiryMs: 2000 });
    broker = await Broker.start(
      {
        brokerName: 'broker-wire',
        port: 0,
        namesrvAddrs: [namesrv.addr],
        topics: { [TOPIC]: 4, [BG_TOPIC]: 4 },
        maxFrameSize: MAX_FRAME,
        ...FAST_BROKER,
        store: { dir, segmentSize: 4 * 1024 * 1024, maxMessageSize: MAX_MESSAGE },
      },
      quiet,
    );
    addr = broker.addr;
    admin = new Admin({ namesrv: namesrv.addr });
    bgProducer = new Producer({ namesrv: namesrv.addr });
    bgConsumer = new Consumer({ namesrv: namesrv.addr, group: 'wire_bg', ...FAST_CLIENT });
    bgConsumer.subscribe(BG_TOPIC);
    await bgConsumer.start((msgs) => {
      for (const m of msgs) bgGot.add(m.body.toString());
    });
    bgLoop = (async () => {
      for (let i = 0; !bgStop; i++) {
        const body = `bg-${i}`;
        try {
          await bgProducer.send(BG_TOPIC, { body });
          bgSent.add(body);
        } catch (err) {
          bgErrors.push(err);
        }
        await sleep(5);
      }
    })();
    await expectTrafficFlows(1);
  });

  afterAll(async () => {
    for (const c of conns) c.destroy();
    bgStop = true;
    await bgLoop;
    try {
      // Every background message sent meanwhile was consumed.
      await waitUntil(() => [...bgSent].every((b) => bgGot.has(b)), 'every background message consumed', 10_000, 10);
      console.log(`[bad-input-wire] background traffic: ${bgSent.size} sent, ${bgGot.size} consumed, ${bgErrors.length} errors`);
      expect(bgErrors).toEqual([]);
    } finally {
      await bgConsumer.shutdown();
      bgProducer.shutdown();
      admin.close();
      await broker.close();
      await namesrv.close();
      removeDir(dir);
    }
  });

  describe('frames the server cannot read: error response, then the connection closes', () => {
    it('an unknown protocol version', async () => {
      const c = await open();
      // A valid request right behind the bad frame, in the same write: it must not be read.
      c.write(Buffer.concat([rawHeader({ length: 16, version: 2, opcode: Opcode.BrokerStats, requestId: 1001 }), encodeFrame({ opcode: Opcode.BrokerStats, flags: 0, requestId: 1002, status: 0 })]));
      const f = await expectRefusedAndClosed(c, 1001, Opcode.BrokerStats, Status.MalformedFrame);
      expect(f.message).toMatch(/version/);
      await expectTrafficFlows();
    });

    it('a length shorter than the header (8, and 0)', async () => {
      for (const [length, id] of [
        [8, 1011],
        [0, 1012],
      ] as const) {
        const c = await open();
        c.write(rawHeader({ length, opcode: Opcode.QueueOffsets, requestId: id }));
        const f = await expectRefusedAndClosed(c, id, Opcode.QueueOffsets, Status.MalformedFrame);
        expect(f.message).toMatch(/shorter/);
      }
      await expectTrafficFlows();
    });

    it('a length above maxFrameSize (by one byte, and 4 GiB - 1): refused from the header alone', async () => {
      for (const [length, id] of [
        [MAX_FRAME + 1, 1021],
        [0xffffffff, 1022],
      ] as const) {
        const c = await open();
        c.write(rawHeader({ length, opcode: Opcode.Send, requestId: id }));
        const f = await expectRefusedAndClosed(c, id, Opcode.Send, Status.FrameTooLarge);
        expect(f.message).toMatch(/maximum frame size/);
      }
      // A frame of exactly maxFrameSize is read (and refused for its body: a SEND this large holds a too-large message).
      const c = await open();
      const big = sendBody(TOPIC, 0, [Buffer.alloc(MAX_FRAME - 16 - 40)]);
      const frame = encodeFrame({ opcode: Opcode.Send, flags: 0, requestId: 1023, status: 0 }, big);
      expect(frame.length).toBeLessThanOrEqual(MAX_FRAME);
      c.write(frame);
      expectError(await c.response(1023), 1023, Opcode.Send, Status.MessageTooLarge);
      await expectStillOpen(c, 1024);
      await expectTrafficFlows();
    });

    it('unknown flags, a nonzero reserved field, a request flagged as a response', async () => {
      const cases = [
        { h: rawHeader({ length: 16, opcode: Opcode.BrokerStats, requestId: 1031, flags: 0x8000 }), status: Status.MalformedFrame, re: /flags/ },
        { h: rawHeader({ length: 16, opcode: Opcode.BrokerStats, requestId: 1032, reserved: 7 }), status: Status.MalformedFrame, re: /reserved/ },
        { h: rawHeader({ length: 16, opcode: Opcode.BrokerStats, requestId: 1033, flags: FrameFlag.Response }), status: Status.MalformedFrame, re: /response/ },
      ];
      for (const k of cases) {
        const c = await open();
        c.write(k.h);
        const id = k.h.readUInt32BE(8);
        const f = await expectRefusedAndClosed(c, id, Opcode.BrokerStats, k.status);
        expect(f.message).toMatch(k.re);
      }
      await expectTrafficFlows();
    });

    it('a body that does not decode: cut short, trailing bytes, a lying count, a u64 beyond 2^53', async () => {
      const good = sendBody(TOPIC, 1, [Buffer.from('hello')]);
      const pull = encodePullRequest({ group: 'g', topic: TOPIC, queueId: 0, offset: 0, maxCount: 1, maxBytes: 1024, pollTimeoutMs: 0, tags: [] });
      const beyond = Buffer.from(pull);
      // offset u64 sits after group str8 ("g": 2 bytes), topic str8 (1 + 5), queueId u32.
      beyond.writeUInt32BE(0x00200000, 2 + 6 + 4); // high word 2^21: the value is 2^53
      const lying = Buffer.from(good);
      lying.writeUInt32BE(1_000_000, 1 + TOPIC.length + 4); // count of messages
      const cases: [Buffer, number, number][] = [
        [good.subarray(0, good.length - 3), Opcode.Send, 1041],
        [Buffer.concat([good, Buffer.from([0])]), Opcode.Send, 1042],
        [lying, Opcode.Send, 1043],
        [beyond, Opcode.Pull, 1044],
        [Buffer.alloc(0), Opcode.QueueOffsets, 1045],
        [Buffer.from([200, 1, 2]), Opcode.CreateTopic, 1046],
      ];
      const before = await maxOffsets();
      for (const [body, opcode, id] of cases) {
        const c = await open();
        c.request(opcode, id, body);
        await expectRefusedAndClosed(c, id, opcode, Status.MalformedFrame);
      }
      expect(await maxOffsets()).toEqual(before); // nothing of the cut or padded sends was stored
      await expectTrafficFlows();
    });

    it('a frame whose body never fully arrives: no answer while waiting; closed when the client gives up', async () => {
      const c = await open();
      const frame = encodeFrame({ opcode: Opcode.Send, flags: 0, requestId: 1051, status: 0 }, sendBody(TOPIC, 0, [Buffer.from('never-complete')]));
      c.write(frame.subarray(0, frame.length - 10));
      await sleep(300);
      expect(c.frames).toEqual([]);
      expect(c.isClosed || c.ended).toBe(false);
      await expectTrafficFlows();
      c.socket.end(); // half-close: the server must not keep the connection
      expect(await c.waitClosed()).toBe(true);
      expect(c.frames).toEqual([]);
      await expectTrafficFlows();
    });

    it('an unknown opcode, and an opcode this server does not serve (name server requests)', async () => {
      for (const [opcode, id] of [
        [99, 1061],
        [255, 1062],
        [Opcode.GetRoute, 1063],
        [Opcode.RegisterBroker, 1064],
        [Opcode.NotifyConsumersChanged, 1065],
      ] as const) {
        const c = await open();
        c.request(opcode, id, opcode === Opcode.GetRoute ? encodeTopic(TOPIC) : Buffer.alloc(4));
        await expectRefusedAndClosed(c, id, opcode, Status.UnknownOpcode);
      }
      // Oneway: no answer, but the connection is closed all the same.
      const c = await open();
      c.write(encodeFrame({ opcode: 99, flags: FrameFlag.Oneway, requestId: 1066, status: 0 }));
      expect(await c.waitClosed()).toBe(true);
      expect(c.frames).toEqual([]);
      await expectTrafficFlows();
    });

    it('garbage bytes: an HTTP request, random bytes, a few bytes then EOF', async () => {
      const http = Buffer.from('GET / HTTP/1.1\r\nHost: metaq\r\n\r\n');
      const c1 = await open();
      c1.write(http);
      // The header's 16 bytes were readable, so the answer carries "their" request id and opcode.
      const id = http.readUInt32BE(8);
      const f = await expectRefusedAndClosed(c1, id, http[5]!, Status.MalformedFrame);
      expect(f.message).toMatch(/version/);

      const seed = 20261121;
      const rng = prng(seed);
      for (let i = 0; i < 20; i++) {
        const junk = Buffer.alloc(16 + Math.floor(rng() * 2000));
        for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rng() * 256);
        if (junk[4] === 1) junk[4] = 0; // make sure the version is bad
        const c = await open();
        c.write(junk);
        const r = await c.response(junk.readUInt32BE(8));
        expect(r.status).toBe(Status.MalformedFrame);
        expect(r.opcode).toBe(junk[5]);
        expect(await c.waitClosed()).toBe(true);
      }

      const c3 = await open();
      c3.write(Buffer.from([1, 2, 3, 4, 5]));
      await sleep(100);
      expect(c3.frames).toEqual([]); // fewer than 16 bytes: nothing to answer yet
      c3.socket.end();
      expect(await c3.waitClosed()).toBe(true);
      expect(c3.frames).toEqual([]);
      await expectTrafficFlows();
    });
  });

  describe('well-formed requests with bad fields: a typed error status, and the connection stays open', () => {
    it('SEND to an unknown topic, an invalid topic name, an unknown queue id', async () => {
      const c = await open();
      const before = await maxOffsets();
      c.request(Opcode.Send, 2001, sendBody('NoSuchTopic', 0, [Buffer.from('x')]));
      expectError(await c.response(2001), 2001, Opcode.Send, Status.UnknownTopic);
      c.request(Opcode.Send, 2002, sendBody('bad topic!', 0, [Buffer.from('x')]));
      expectError(await c.response(2002), 2002, Opcode.Send, Status.InvalidTopic);
      c.request(Opcode.Send, 2003, sendBody(TOPIC, 4, [Buffer.from('x')]));
      expectError(await c.response(2003), 2003, Opcode.Send, Status.UnknownQueue);
      c.request(Opcode.Send, 2004, sendBody(TOPIC, 0xffffffff, [Buffer.from('x')]));
      expectError(await c.response(2004), 2004, Opcode.Send, Status.UnknownQueue);
      c.request(Opcode.Send, 2005, sendBody(TOPIC, 0, []));
      expectError(await c.response(2005), 2005, Opcode.Send, Status.InvalidMessage);
      await expectStillOpen(c, 2006);
      // The same connection can still send.
      c.request(Opcode.Send, 2007, sendBody(TOPIC, 2, [Buffer.from('after-errors')]));
      const ok = await c.response(2007);
      expect(statusName(ok.status)).toBe('Ok');
      const r = decodeSendResponse(ok.body);
      expect(r.queueId).toBe(2);
      expect(r.queueOffset).toBe(before[2]);
      expect(await maxOffsets()).toEqual(before.map((o, q) => (q === 2 ? o + 1 : o)));
      await expectTrafficFlows();
    });

    it('other requests naming an unknown topic or queue', async () => {
      const c = await open();
      c.request(Opcode.QueueOffsets, 2101, encodeQueueRef({ topic: 'NoSuchTopic', queueId: 0 }));
      expectError(await c.response(2101), 2101, Opcode.QueueOffsets, Status.UnknownTopic);
      c.request(Opcode.QueueOffsets, 2102, encodeQueueRef({ topic: TOPIC, queueId: 9 }));
      expectError(await c.response(2102), 2102, Opcode.QueueOffsets, Status.UnknownQueue);
      c.request(Opcode.Pull, 2103, encodePullRequest({ group: 'g', topic: TOPIC, queueId: 9, offset: 0, maxCount: 1, maxBytes: 1024, pollTimeoutMs: 0, tags: [] }));
      expectError(await c.response(2103), 2103, Opcode.Pull, Status.UnknownQueue);
      c.request(Opcode.Pull, 2104, encodePullRequest({ group: 'g', topic: 'NoSuchTopic', queueId: 0, offset: 0, maxCount: 1, maxBytes: 1024, pollTimeoutMs: 1000, tags: [] }));
      expectError(await c.response(2104), 2104, Opcode.Pull, Status.UnknownTopic);
      // A message lookup at an offset where no record starts: NotFound (not an error), connection open.
      c.request(Opcode.QueryById, 2105, encodeQueryById(3));
      expect(statusName((await c.response(2105)).status)).toBe('NotFound');
      c.request(Opcode.QueryById, 2106, encodeQueryById(2 ** 52));
      expect(statusName((await c.response(2106)).status)).toBe('NotFound');
      await expectStillOpen(c, 2107);
      await expectTrafficFlows();
    });

    it('an oversized message (body > maxMessageSize): MessageTooLarge, nothing of the batch stored', async () => {
      const c = await open();
      const before = await maxOffsets();
      c.request(Opcode.Send, 2201, sendBody(TOPIC, 1, [Buffer.alloc(MAX_MESSAGE + 1)]));
      const f = await c.response(2201);
      expectError(f, 2201, Opcode.Send, Status.MessageTooLarge);
      // One oversized message in a batch refuses the whole batch.
      c.request(Opcode.Send, 2202, sendBody(TOPIC, 1, [Buffer.from('a'), Buffer.alloc(MAX_MESSAGE * 2), Buffer.from('b')]));
      expectError(await c.response(2202), 2202, Opcode.Send, Status.MessageTooLarge);
      // Exactly maxMessageSize is fine.
      c.request(Opcode.Send, 2203, sendBody(TOPIC, 3, [Buffer.alloc(MAX_MESSAGE, 7)]));
      expect(statusName((await c.response(2203)).status)).toBe('Ok');
      await expectStillOpen(c, 2204);
      expect(await maxOffsets()).toEqual(before.map((o, q) => (q === 3 ? o + 1 : o)));
      await expectTrafficFlows();
    });

    it('PULL at an offset past the end: OffsetOverflow with nextOffset = maxOffset', async () => {
      const c = await open();
      const q = 0;
      c.request(Opcode.Send, 2301, sendBody(TOPIC, q, [Buffer.from('p1'), Buffer.from('p2')]));
      expect(statusName((await c.response(2301)).status)).toBe('Ok');
      const { maxOffset } = await admin.queueOffsets(mq(q));
      expect(maxOffset).toBeGreaterThanOrEqual(2);
      let id = 2310;
      for (const offset of [maxOffset + 1, maxOffset + 1000, 2 ** 53 - 1]) {
        c.request(Opcode.Pull, ++id, encodePullRequest({ group: 'wire_pull', topic: TOPIC, queueId: q, offset, maxCount: 8, maxBytes: 65536, pollTimeoutMs: 500, tags: [] }));
        const f = await c.response(id);
        expect(statusName(f.status), `offset ${offset}`).toBe('OffsetOverflow');
        const r = decodePullResponse(f.body);
        expect(r).toMatchObject({ nextOffset: maxOffset, maxOffset, minOffset: 0, count: 0 });
        expect(r.records.length).toBe(0);
      }
      // At the end exactly, with no poll: NoNewMessage.
      c.request(Opcode.Pull, ++id, encodePullRequest({ group: 'wire_pull', topic: TOPIC, queueId: q, offset: maxOffset, maxCount: 8, maxBytes: 65536, pollTimeoutMs: 0, tags: [] }));
      expect(statusName((await c.response(id)).status)).toBe('NoNewMessage');
      await expectStillOpen(c, ++id);
      await expectTrafficFlows();
    });
  });

  it('PULL below the first available offset (after retention deleted segments): OffsetMoved with nextOffset = minOffset', async () => {
    const rdir = makeTempDir('wire-ret');
    const rb = await Broker.start(
      {
        brokerName: 'broker-ret',
        port: 0,
        topics: { Ret: 1 },
        ...FAST_BROKER,
        store: { dir: rdir, segmentSize: 128 * 1024, maxMessageSize: MAX_MESSAGE, flushIntervalMs: 10, retentionCheckIntervalMs: 0 },
      },
      quiet,
    );
    try {
      const c = await RawConn.open(rb.addr);
      conns.push(c);
      let id = 2400;
      // ~400 KiB of records: the log spans 4 segments.
      for (let i = 0; i < 40; i++) {
        c.request(Opcode.Send, ++id, sendBody('Ret', 0, Array.from({ length: 10 }, () => Buffer.alloc(MAX_MESSAGE, i))));
        expect(statusName((await c.response(id)).status)).toBe('Ok');
      }
      let deleted = 0;
      await waitUntil(() => (deleted += rb.store.deleteExpiredSegments(Date.now() + 1000 * 3_600_000)) > 0, 'a segment to expire', 5000, 20);
      const minOffset = rb.store.minOffset('Ret', 0);
      expect(minOffset).toBeGreaterThan(0);
      for (const offset of [0, minOffset - 1]) {
        c.request(Opcode.Pull, ++id, encodePullRequest({ group: 'wire_ret', topic: 'Ret', queueId: 0, offset, maxCount: 8, maxBytes: 65536, pollTimeoutMs: 0, tags: [] }));
        const f = await c.response(id);
        expect(statusName(f.status), `offset ${offset}`).toBe('OffsetMoved');
        expect(decodePullResponse(f.body)).toMatchObject({ nextOffset: minOffset, minOffset, maxOffset: 400, count: 0 });
      }
      // From nextOffset the pull finds messages; the connection stayed open throughout.
      c.request(Opcode.Pull, ++id, encodePullRequest({ group: 'wire_ret', topic: 'Ret', queueId: 0, offset: minOffset, maxCount: 8, maxBytes: 65536, pollTimeoutMs: 0, tags: [] }));
      const f = await c.response(id);
      expect(statusName(f.status)).toBe('Ok');
      expect(decodePullResponse(f.body).count).toBeGreaterThan(0);
      c.request(Opcode.QueryOffset, ++id, encodeQueryOffset({ group: 'never_committed', topic: 'Ret', queueId: 0 }));
      expect(statusName((await c.response(id)).status)).toBe('NotFound');
      expect(c.isClosed).toBe(false);
      c.destroy();
    } finally {
      await rb.close();
      removeDir(rdir);
    }
    await expectTrafficFlows();
  });

  describe('the high-level client', () => {
    it('Producer.send to a topic with no route rejects with METAQ_NO_ROUTE', async () => {
      const p = new Producer({ namesrv: namesrv.addr });
      try {
        const err = await rejectionOf(p.send('NoRouteTopic', { body: 'x' }));
        expect(err).toBeInstanceOf(MetaqError);
        expect((err as MetaqError).code).toBe('METAQ_NO_ROUTE');
        // The producer still works for a routed topic.
        const r = await p.send(TOPIC, { body: 'routed' });
        expect(r.brokerName).toBe('broker-wire');
      } finally {
        p.shutdown();
      }
      await expectTrafficFlows();
    });

    it('Producer.send of a too-large message rejects with METAQ_MESSAGE_TOO_LARGE and stores nothing', async () => {
      const p = new Producer({ namesrv: namesrv.addr });
      try {
        const before = await maxOffsets();
        const err = await rejectionOf(p.send(TOPIC, { body: Buffer.alloc(MAX_MESSAGE + 1) }));
        expect((err as MetaqError).code).toBe('METAQ_MESSAGE_TOO_LARGE');
        const err2 = await rejectionOf(p.send(TOPIC, [{ body: 'small' }, { body: Buffer.alloc(4 * MAX_MESSAGE) }]));
        expect((err2 as MetaqError).code).toBe('METAQ_MESSAGE_TOO_LARGE');
        // Not retried on other queues either: still nothing stored anywhere.
        expect(await maxOffsets()).toEqual(before);
        // The producer (and its connection) keep working.
        const r = await p.send(TOPIC, { body: Buffer.alloc(MAX_MESSAGE, 1) });
        expect(r.count).toBe(1);
        const after = await maxOffsets();
        expect(after.reduce((a, b) => a + b, 0)).toBe(before.reduce((a, b) => a + b, 0) + 1);
      } finally {
        p.shutdown();
      }
      await expectTrafficFlows();
    });

    it('Producer.send of a message larger than the broker frame limit rejects with a typed error and stores nothing', async () => {
      const p = new Producer({ namesrv: namesrv.addr });
      try {
        const before = await maxOffsets();
        const err = await rejectionOf(p.send(TOPIC, { body: Buffer.alloc(MAX_FRAME * 2) }));
        expect(err).toBeInstanceOf(MetaqError);
        console.log(`[bad-input-wire] a ${MAX_FRAME * 2}-byte message: ${(err as MetaqError).code}: ${(err as MetaqError).message}`);
        expect(['METAQ_FRAME_TOO_LARGE', 'METAQ_MESSAGE_TOO_LARGE']).toContain((err as MetaqError).code);
        expect(await maxOffsets()).toEqual(before);
        const r = await p.send(TOPIC, { body: 'after-frame-too-large' });
        expect(r.count).toBe(1);
      } finally {
        p.shutdown();
      }
      await expectTrafficFlows();
    });
  });

  it('after everything, the broker still serves a fresh consumer group from offset 0', async () => {
    const c = new Consumer({ namesrv: namesrv.addr, group: 'wire_after', ...FAST_CLIENT });
    const got: string[] = [];
    try {
      c.subscribe(TOPIC);
      await c.start((msgs) => {
        for (const m of msgs) got.push(m.body.toString('latin1').slice(0, 32));
      });
      const total = (await maxOffsets()).reduce((a, b) => a + b, 0);
      await waitUntil(() => got.length >= total, `all ${total} messages of ${TOPIC}`, 10_000, 10);
      expect(got).toContain('after-errors');
      expect(got).toContain('routed');
      expect(got.length).toBe(total);
    } finally {
      await c.shutdown();
    }
    const s = await admin.stats(addr);
    expect(s.brokerName).toBe('broker-wire');
  });
});
