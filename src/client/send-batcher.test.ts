// The send accumulator over a transport that records each batch and answers
// as a broker would (first queue offset, one physical offset per message):
// flushes on count, bytes and linger; each caller's own result; per-queue
// and per-key order; a failure fanned out to every caller; a batch refused
// for one bad message re-sent one by one; shutdown; option checks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientStateError, InvalidConfigError, InvalidMessageError, RequestTimeoutError, encodeMessageId, stringHash } from '../common/index.js';
import type { WireMessage } from '../protocol/index.js';
import { Producer, type ProducerOptions } from './producer.js';
import { resolveBatching, SendBatcher, type BatchingOptions, type BatchTransport } from './send-batcher.js';
import { SendResultImpl } from './send-result.js';
import type { MessageQueue } from './topic-routes.js';

const TOPIC = 'T';
const ADDR = '127.0.0.1:10911';
const QUEUES: MessageQueue[] = [0, 1, 2, 3].map((queueId) => ({ topic: TOPIC, brokerName: 'b', addr: ADDR, queueId }));

interface Sent {
  mq: MessageQueue;
  bodies: string[];
  retry: boolean;
  timeoutMs: number;
  resolve(status?: SendResultImpl['status']): void;
  reject(err: unknown): void;
}

/** A transport whose batches wait until the test answers them; offsets per queue as a broker assigns them. */
function fakeTransport(): BatchTransport & { sent: Sent[]; rr: number } {
  const next = new Map<number, number>();
  let physical = 1000;
  const t = {
    sent: [] as Sent[],
    rr: 0,
    cachedQueues: () => QUEUES,
    queues: () => Promise.resolve(QUEUES),
    roundRobin: (_topic: string, queues: readonly MessageQueue[]) => queues[t.rr++ % queues.length]!,
    sendBatch(_topic: string, mq: MessageQueue, messages: readonly WireMessage[], retry: boolean, timeoutMs: number): Promise<SendResultImpl> {
      return new Promise<SendResultImpl>((resolve, reject) => {
        t.sent.push({
          mq,
          bodies: messages.map((m) => Buffer.from(m.body).toString()),
          retry,
          timeoutMs,
          resolve: (status = 'SEND_OK') => {
            const first = next.get(mq.queueId) ?? 0;
            next.set(mq.queueId, first + messages.length);
            const offsets = messages.map(() => (physical += 100));
            resolve(new SendResultImpl(status, TOPIC, mq.brokerName, mq.queueId, first, messages.length, 1, mq.addr, offsets));
          },
          reject,
        });
      });
    },
  };
  return t;
}

function batcher(options: BatchingOptions, t = fakeTransport()): { b: SendBatcher; t: ReturnType<typeof fakeTransport> } {
  return { b: new SendBatcher(resolveBatching(options), t, 3000), t };
}

describe('SendBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends a batch once it holds maxMessages, before the linger', async () => {
    const { b, t } = batcher({ lingerMs: 50, maxMessages: 3 });
    const ps = ['a', 'b', 'c'].map((body) => b.send(TOPIC, { body }, { shardingKey: 'k' }));
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.bodies).toEqual(['a', 'b', 'c']);
    t.sent[0]!.resolve();
    const rs = await Promise.all(ps);
    expect(rs.map((r) => r.queueOffset)).toEqual([0, 1, 2]);
  });

  it('sends a batch once its bytes reach maxBytes; a message of maxBytes or more goes alone, after what its queue holds', async () => {
    // 21 bytes of overhead per message: a 9-byte body makes 30.
    const { b, t } = batcher({ lingerMs: 50, maxBytes: 60 });
    void b.send(TOPIC, { body: 'x'.repeat(9) }, { shardingKey: 'k' });
    expect(t.sent).toHaveLength(0);
    void b.send(TOPIC, { body: 'y'.repeat(9) }, { shardingKey: 'k' });
    expect(t.sent).toHaveLength(1);
    void b.send(TOPIC, { body: 'z'.repeat(9) }, { shardingKey: 'k' });
    void b.send(TOPIC, { body: 'L'.repeat(100) }, { shardingKey: 'k' });
    expect(t.sent.map((s) => s.bodies.map((x) => x[0]).join(''))).toEqual(['xy', 'z', 'L']);
  });

  it('sends a batch when its linger has elapsed: one timer per batch, none per message', async () => {
    const { b, t } = batcher({ lingerMs: 5 });
    for (let i = 0; i < 10; i++) void b.send(TOPIC, { body: `m${i}` }, { shardingKey: 'k' });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(4);
    expect(t.sent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.bodies).toHaveLength(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lingerMs 0 sends at the end of the event-loop turn what that turn added', async () => {
    vi.useRealTimers();
    const { b, t } = batcher({ lingerMs: 0 });
    for (let i = 0; i < 5; i++) void b.send(TOPIC, { body: `m${i}` }, { shardingKey: 'k' });
    expect(t.sent).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.bodies).toHaveLength(5);
  });

  it('sticky: the plain messages of a turn make one batch on one queue, the next batch takes the next queue; without it one batch per queue', async () => {
    vi.useRealTimers();
    const sticky = batcher({ lingerMs: 0, sticky: true });
    for (let i = 0; i < 8; i++) void sticky.b.send(TOPIC, { body: `m${i}` }, {});
    await new Promise((r) => setImmediate(r));
    expect(sticky.t.sent.map((s) => [s.mq.queueId, s.bodies.length, s.retry])).toEqual([[0, 8, true]]);
    for (let i = 0; i < 3; i++) void sticky.b.send(TOPIC, { body: `n${i}` }, {});
    await new Promise((r) => setImmediate(r));
    expect(sticky.t.sent.map((s) => s.mq.queueId)).toEqual([0, 1]);
    // A full batch ends the stickiness: the rest of the turn goes to the next queue.
    const full = batcher({ lingerMs: 0, sticky: true, maxMessages: 3 });
    for (let i = 0; i < 5; i++) void full.b.send(TOPIC, { body: `f${i}` }, {});
    await new Promise((r) => setImmediate(r));
    expect(full.t.sent.map((s) => [s.mq.queueId, s.bodies.length])).toEqual([[0, 3], [1, 2]]);
    // Keyed messages still go to their hashed queue.
    void full.b.send(TOPIC, { body: 'k' }, { shardingKey: 'k' });
    await new Promise((r) => setImmediate(r));
    expect(full.t.sent.at(-1)!.mq.queueId).toBe(Math.abs(stringHash('k')) % QUEUES.length);
    const plain = batcher({ lingerMs: 0 });
    for (let i = 0; i < 8; i++) void plain.b.send(TOPIC, { body: `m${i}` }, {});
    await new Promise((r) => setImmediate(r));
    expect(plain.t.sent.map((s) => [s.mq.queueId, s.bodies.length])).toEqual([[0, 2], [1, 2], [2, 2], [3, 2]]);
  });

  it('gives each caller its own message id and queue offset, as a single send would report them', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    const ps = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => b.send(TOPIC, { body: `m${i}` }, {}));
    vi.advanceTimersByTime(1);
    // Round robin as unbatched: message i to queue i % 4, so 4 batches of 2.
    expect(t.sent.map((s) => [s.mq.queueId, s.bodies])).toEqual([0, 1, 2, 3].map((q) => [q, [`m${q}`, `m${q + 4}`]]));
    expect(t.sent.every((s) => s.retry)).toBe(true);
    for (const s of t.sent) s.resolve();
    const rs = await Promise.all(ps);
    for (const [i, r] of rs.entries()) {
      expect(r.queueId).toBe(i % 4);
      expect(r.queueOffset).toBe(i < 4 ? 0 : 1);
      expect(r.count).toBe(1);
      expect(r.messageIds).toEqual([r.messageId]);
    }
    const ids = new Set(rs.map((r) => r.messageId));
    expect(ids.size).toBe(8);
    // Batch for queue 0 got physical offsets 1100, 1200: m0 and m4.
    expect(rs[0]!.messageId).toBe(encodeMessageId('127.0.0.1', 10911, 1100));
    expect(rs[4]!.messageId).toBe(encodeMessageId('127.0.0.1', 10911, 1200));
  });

  it('keeps per-key order: a key\'s messages go, in call order, to its hashed queue, not retried', async () => {
    const { b, t } = batcher({ lingerMs: 1, maxMessages: 4 });
    const keys = ['u1', 'u2', 'u3'];
    for (let i = 0; i < 30; i++) void b.send(TOPIC, { body: `${keys[i % 3]}:${i}` }, { shardingKey: keys[i % 3] });
    vi.advanceTimersByTime(1);
    for (const k of keys) {
      const q = Math.abs(stringHash(k)) % QUEUES.length;
      const seen = t.sent.flatMap((s) => s.bodies.filter((x) => x.startsWith(`${k}:`)).map((x) => ({ q: s.mq.queueId, retry: s.retry, n: Number(x.split(':')[1]) })));
      expect(seen.map((x) => x.n)).toEqual([...Array(10).keys()].map((j) => j * 3 + keys.indexOf(k)));
      expect(seen.every((x) => x.q === q && !x.retry)).toBe(true);
    }
  });

  it('keeps plain and keyed messages of one queue in separate batches (only the plain one is retried)', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    const q0 = (qs: readonly MessageQueue[]) => qs[0]!;
    void b.send(TOPIC, { body: 'keyed' }, { selector: q0 });
    void b.send(TOPIC, { body: 'plain' }, {});
    vi.advanceTimersByTime(1);
    expect(t.sent.map((s) => [s.mq.queueId, s.bodies, s.retry])).toEqual([
      [0, ['keyed'], false],
      [0, ['plain'], true],
    ]);
  });

  it('fans a failure out to every caller of the batch, and a SLAVE_NOT_AVAILABLE answer too', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    const failed = [1, 2, 3].map((i) => b.send(TOPIC, { body: `f${i}` }, { shardingKey: 'a' }));
    vi.advanceTimersByTime(1);
    const err = new RequestTimeoutError('timed out');
    t.sent[0]!.reject(err);
    for (const p of failed) await expect(p).rejects.toBe(err);

    const unsafe = [1, 2, 3].map((i) => b.send(TOPIC, { body: `s${i}` }, { shardingKey: 'a' }));
    vi.advanceTimersByTime(1);
    t.sent[1]!.resolve('SLAVE_NOT_AVAILABLE');
    for (const r of await Promise.all(unsafe)) expect(r.status).toBe('SLAVE_NOT_AVAILABLE');
  });

  it('re-sends a batch refused for one bad message one message at a time: only that caller fails', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    const ps = ['ok1', 'bad', 'ok2'].map((body) => b.send(TOPIC, { body }, { shardingKey: 'k' }));
    vi.advanceTimersByTime(1);
    t.sent[0]!.reject(new InvalidMessageError('message 1 of the batch is bad'));
    await Promise.resolve();
    await Promise.resolve();
    expect(t.sent.slice(1).map((s) => s.bodies)).toEqual([['ok1'], ['bad'], ['ok2']]);
    t.sent[1]!.resolve();
    t.sent[2]!.reject(new InvalidMessageError('message 0 of the batch is bad'));
    t.sent[3]!.resolve();
    await expect(ps[0]).resolves.toMatchObject({ status: 'SEND_OK' });
    await expect(ps[1]).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(ps[2]).resolves.toMatchObject({ status: 'SEND_OK' });
  });

  it('a batch that cannot be encoded is sent one message at a time: only the bad message fails', async () => {
    const t = fakeTransport();
    const send = t.sendBatch.bind(t);
    t.sendBatch = (topic, mq, messages, retry, timeoutMs) => {
      if (messages.some((m) => typeof m.tags !== 'string' && m.tags !== undefined)) throw new TypeError('tags must be a string');
      return send(topic, mq, messages, retry, timeoutMs);
    };
    const { b } = batcher({ lingerMs: 1 }, t);
    const ps = [{ body: 'a' }, { body: 'b', tags: 5 as unknown as string }, { body: 'c' }].map((m) => b.send(TOPIC, m, { shardingKey: 'k' }));
    vi.advanceTimersByTime(1);
    expect(t.sent.map((s) => s.bodies)).toEqual([['a'], ['c']]);
    for (const s of t.sent) s.resolve();
    await expect(ps[0]).resolves.toMatchObject({ queueOffset: 0 });
    await expect(ps[1]).rejects.toBeInstanceOf(TypeError);
    await expect(ps[2]).resolves.toMatchObject({ queueOffset: 1 });
  });

  it('a throwing onBatch callback costs nothing', async () => {
    const { b, t } = batcher({ lingerMs: 1, onBatch: () => { throw new Error('metrics down'); } });
    const p = b.send(TOPIC, { body: 'x' }, {});
    vi.advanceTimersByTime(1);
    t.sent[0]!.resolve();
    await expect(p).resolves.toMatchObject({ status: 'SEND_OK' });
  });

  it('rejects a bad message at once, without touching the open batch', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    const good = b.send(TOPIC, { body: 'ok' }, { shardingKey: 'k' });
    await expect(b.send(TOPIC, { body: 42 as unknown as string }, { shardingKey: 'k' })).rejects.toBeInstanceOf(InvalidMessageError);
    vi.advanceTimersByTime(1);
    expect(t.sent.map((s) => s.bodies)).toEqual([['ok']]);
    t.sent[0]!.resolve();
    await expect(good).resolves.toMatchObject({ queueOffset: 0 });
  });

  it('close fails every waiting message with ClientStateError (not sent) and later sends too; flush sends them first', async () => {
    const { b, t } = batcher({ lingerMs: 50 });
    const waiting = b.send(TOPIC, { body: 'w' }, {});
    b.close();
    await expect(waiting).rejects.toBeInstanceOf(ClientStateError);
    await expect(waiting).rejects.toThrow(/not sent/);
    await expect(b.send(TOPIC, { body: 'late' }, {})).rejects.toBeInstanceOf(ClientStateError);
    vi.advanceTimersByTime(50);
    expect(t.sent).toHaveLength(0);

    const { b: b2, t: t2 } = batcher({ lingerMs: 50 });
    const p = b2.send(TOPIC, { body: 'f' }, {});
    const flushed = b2.flush();
    expect(t2.sent).toHaveLength(1);
    t2.sent[0]!.resolve();
    await flushed;
    await expect(p).resolves.toMatchObject({ status: 'SEND_OK' });
    b2.close();
  });

  it('waits for an uncached route, then places the waiting messages in call order', async () => {
    const t = fakeTransport();
    let arrive!: (q: MessageQueue[]) => void;
    t.cachedQueues = () => undefined;
    t.queues = () => new Promise((r) => (arrive = r));
    const { b } = batcher({ lingerMs: 1 }, t);
    for (let i = 0; i < 5; i++) void b.send(TOPIC, { body: `m${i}` }, { shardingKey: 'k' });
    arrive(QUEUES);
    await Promise.resolve();
    await Promise.resolve();
    vi.advanceTimersByTime(1);
    expect(t.sent.map((s) => s.bodies)).toEqual([['m0', 'm1', 'm2', 'm3', 'm4']]);
  });

  it('a message with another timeout closes the open batch (one timeout per request)', async () => {
    const { b, t } = batcher({ lingerMs: 1 });
    void b.send(TOPIC, { body: 'a' }, { shardingKey: 'k' });
    void b.send(TOPIC, { body: 'b' }, { shardingKey: 'k', timeoutMs: 500 });
    vi.advanceTimersByTime(1);
    expect(t.sent.map((s) => [s.bodies, s.timeoutMs])).toEqual([
      [['a'], 3000],
      [['b'], 500],
    ]);
  });
});

describe('resolveBatching', () => {
  it('fills in the defaults and rejects unknown keys and bad values', () => {
    expect(resolveBatching({})).toMatchObject({ lingerMs: 0, maxMessages: 128, maxBytes: 256 * 1024 });
    expect(() => resolveBatching({ lingerMS: 5 })).toThrow(InvalidConfigError);
    expect(() => resolveBatching({ lingerMS: 5 })).toThrow(/unknown key "lingerMS"/);
    expect(() => resolveBatching({ lingerMs: -1 })).toThrow(/batching.lingerMs/);
    expect(() => resolveBatching({ lingerMs: 1.5 })).toThrow(InvalidConfigError);
    expect(() => resolveBatching({ maxMessages: 0 })).toThrow(/batching.maxMessages/);
    expect(() => resolveBatching({ maxBytes: 64 * 1024 * 1024 })).toThrow(/batching.maxBytes/);
    expect(() => resolveBatching(true)).toThrow(InvalidConfigError);
    expect(() => resolveBatching({ onBatch: 3 })).toThrow(/onBatch/);
    expect(resolveBatching({}).sticky).toBe(false);
    expect(() => resolveBatching({ sticky: 'yes' })).toThrow(/batching.sticky/);
  });
});

describe('Producer options', () => {
  it('refuses an unknown key (a misspelt batching) and a bad batching value before opening anything', () => {
    expect(() => new Producer({ namesrv: '127.0.0.1:1', batchng: {} } as ProducerOptions)).toThrow(/unknown producer option "batchng"/);
    expect(() => new Producer({ namesrv: '127.0.0.1:1', batching: { linger: 1 } as BatchingOptions })).toThrow(/unknown key "linger"/);
    const p = new Producer({ namesrv: '127.0.0.1:1', batching: undefined });
    expect(p.batchingStats()).toBeUndefined();
    p.shutdown();
  });
});
