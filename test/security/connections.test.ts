// Connection limits: a broker (or name server) serves at most maxConnections
// at once; one more is answered LimitExceeded (request id 0, so a client's
// pending requests fail with it) and closed, and the refusal counted, while
// the connections within keep working. A frame begun and left hanging closes
// its connection after partialFrameTimeoutMs (counted); a connection that
// keeps sending, or sends nothing, is left alone.
import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../src/common/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import { RequestClient } from '../../src/net/index.js';
import { decodeText, encodeFrame, encodeQueueRef, encodeTopic, FrameFlag, Opcode, Status } from '../../src/protocol/index.js';
import { RawConn, rawHeader } from '../broker/fixtures/bad-input-wire-raw.js';
import { useCluster } from '../helpers/cluster.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const TOPIC = 'Conns';
const IDLE = 1000;
const MAX = 400;

async function openAll(addr: string, n: number): Promise<RawConn[]> {
  const conns: RawConn[] = [];
  // A few at a time: the listen backlog is not what is under test.
  for (let i = 0; i < n; i += 50) conns.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => RawConn.open(addr)))));
  return conns;
}

describe('connection limits', () => {
  const cluster = useCluster();
  const cleanup: (() => void)[] = [];

  it(`${IDLE} idle connections against maxConnections ${MAX}: the excess is refused and counted, those within work, a newcomer is served once they go`, async () => {
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = await c.startBroker({ maxConnections: MAX });
    const conns = await openAll(broker.addr, IDLE);
    try {
      await waitUntil(() => conns.filter((x) => x.isClosed).length === IDLE - MAX, 'the excess to be closed', 10_000, 20);
      const refused = conns.filter((x) => x.isClosed);
      const kept = conns.filter((x) => !x.isClosed);
      expect(kept).toHaveLength(MAX);
      // Each refused one was told why before the close.
      for (const r of refused) {
        expect(r.frames).toHaveLength(1);
        expect(r.frames[0]!.status).toBe(Status.LimitExceeded);
        expect(r.frames[0]!.requestId).toBe(0);
        expect(r.frames[0]!.message).toMatch(/^limit connections: .*maxConnections/);
      }
      expect(broker.stats().connections).toBe(MAX);
      expect(broker.stats().refusals?.connections).toBe(IDLE - MAX);

      // Those within keep working.
      for (const [i, k] of kept.filter((_, i) => i % 40 === 0).entries()) {
        k.request(Opcode.QueueOffsets, 7 + i, encodeQueueRef({ topic: TOPIC, queueId: 0 }));
        expect((await k.response(7 + i)).status).toBe(Status.Ok);
      }

      // A client over the limit gets the typed error for its request.
      const late = await RequestClient.connect(broker.addr);
      const err = await late.call(Opcode.QueueOffsets, encodeQueueRef({ topic: TOPIC, queueId: 0 }), 3000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LimitExceededError);
      expect((err as LimitExceededError).limit).toBe('connections');
      late.close();

      // Once the idle ones go, a newcomer is served.
      for (const k of kept) k.destroy();
      await waitUntil(() => broker.stats().connections === 0, 'the idle connections to be gone', 5000, 10);
      const next = await RequestClient.connect(broker.addr);
      cleanup.push(() => next.close());
      expect((await next.call(Opcode.QueueOffsets, encodeQueueRef({ topic: TOPIC, queueId: 0 }), 3000)).status).toBe(Status.Ok);
    } finally {
      for (const x of conns) x.destroy();
      for (const f of cleanup.splice(0)) f();
    }
  }, 60_000);

  it('a name server: the same limit, counted in its stats', async () => {
    const ns = await NameServer.start({ port: 0, maxConnections: 20 });
    const conns = await openAll(ns.addr, 50);
    try {
      await waitUntil(() => conns.filter((x) => x.isClosed).length === 30, 'the excess to be closed', 5000, 10);
      const kept = conns.find((x) => !x.isClosed)!;
      kept.request(Opcode.BrokerStats, 1);
      const stats = JSON.parse(decodeText((await kept.response(1)).body)) as { connections: number; refusals: Record<string, number> };
      expect(stats.connections).toBe(20);
      expect(stats.refusals).toEqual({ connections: 30 });
      kept.request(Opcode.GetRoute, 2, encodeTopic('nowhere'));
      expect((await kept.response(2)).status).toBe(Status.NoRoute);
    } finally {
      for (const x of conns) x.destroy();
      await ns.close();
    }
  }, 30_000);

  it('a partial frame left hanging is closed after partialFrameTimeoutMs and counted; a slow sender and an idle connection are not', async () => {
    const TIMEOUT = 400;
    const c = await cluster({ topics: { [TOPIC]: 1 } });
    const broker = await c.startBroker({ partialFrameTimeoutMs: TIMEOUT });
    const body = encodeQueueRef({ topic: TOPIC, queueId: 0 });
    const frame = encodeFrame({ opcode: Opcode.QueueOffsets, flags: 0, requestId: 5, status: 0 }, body);
    const [bodyStarted, headerStarted, trickle, idle] = await Promise.all([0, 1, 2, 3].map(() => RawConn.open(broker.addr)));
    try {
      // A header and part of the body; five bytes of a header.
      bodyStarted!.write(frame.subarray(0, frame.length - 3));
      headerStarted!.write(rawHeader({ length: 1000, opcode: Opcode.QueueOffsets, requestId: 6 }).subarray(0, 5));
      const t0 = Date.now();
      // One byte every TIMEOUT / 4: slow, but never stalled.
      let at = 0;
      const dribble = setInterval(() => {
        if (at < frame.length) trickle!.write(frame.subarray(at, ++at));
      }, TIMEOUT / 4);
      try {
        await waitUntil(() => bodyStarted!.isClosed && headerStarted!.isClosed, 'the hanging frames to be closed', 5000, 5);
      } finally {
        // Keeps dribbling a little longer than the timeout past the closes.
        await sleep(TIMEOUT * 1.5);
        clearInterval(dribble);
      }
      const closedAfter = Math.max(...[bodyStarted!, headerStarted!].map((x) => x.frames[0]?.receivedAt ?? Infinity)) - t0;
      console.log(`partial frames closed ${closedAfter} ms after their last byte (timeout ${TIMEOUT} ms); refusals ${JSON.stringify(broker.stats().refusals)}`);
      expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUT - 10);
      expect(closedAfter).toBeLessThan(TIMEOUT * 3);
      for (const x of [bodyStarted!, headerStarted!]) {
        expect(x.frames[0]!.status).toBe(Status.LimitExceeded);
        expect(x.frames[0]!.requestId).toBe(0);
        expect(x.frames[0]!.message).toMatch(/^limit partialFrameTimeout: .*partialFrameTimeoutMs/);
      }
      expect(broker.stats().refusals?.partialFrameTimeout).toBe(2);
      expect(trickle!.isClosed || trickle!.ended, 'a slow sender making progress stays').toBe(false);
      expect(idle!.isClosed || idle!.ended, 'an idle connection stays').toBe(false);
      // The rest of the dribbled frame completes it: answered.
      trickle!.write(frame.subarray(at));
      const r = await trickle!.response(5);
      expect(r.status).toBe(Status.Ok);
      expect((r.flags & FrameFlag.Response) !== 0).toBe(true);
    } finally {
      for (const x of [bodyStarted, headerStarted, trickle, idle]) x!.destroy();
    }
  }, 30_000);
});
