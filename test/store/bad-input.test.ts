// Bad input: illegal topics, unknown topics/queues, oversized or malformed messages, bad config and
// bad read positions each give a typed error with a stable code (or a read status), and the store keeps working.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, InvalidMessageError, InvalidTopicError, MessageTooLargeError, MetaqError, StoreClosedError, StoreLockedError, UnknownQueueError, UnknownTopicError } from '../../src/common/index.js';
import { MessageStore, type MessageStoreConfig, type StoreMessage } from '../../src/store/index.js';
import { rejectionOf, thrownBy } from '../helpers/errors.js';
import { readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const MAX_BODY = 4096;
type ErrorClass = new (...args: never[]) => MetaqError;

function config(dir: string, extra: Record<string, unknown> = {}): MessageStoreConfig {
  return { dir, flushMode: 'sync', segmentSize: 128 * 1024, maxMessageSize: MAX_BODY, indexSlotCount: 64, ...extra } as MessageStoreConfig;
}

function expectTyped(err: unknown, cls: ErrorClass, code: string): void {
  expect(err).toBeInstanceOf(cls);
  expect(err).toBeInstanceOf(MetaqError);
  expect((err as MetaqError).code).toBe(code);
  expect((err as MetaqError).message.length).toBeGreaterThan(0);
}

describe('bad input', () => {
  const tempDir = useTempDirs('badinput');
  let dir: string;
  let store: MessageStore;
  /** What queue good/0 must hold: only what was accepted. */
  let accepted: StoreMessage[];

  beforeEach(async () => {
    dir = tempDir();
    store = await MessageStore.open(config(dir));
    store.createTopic('good', 4);
    accepted = [];
  });
  afterEach(async () => {
    await store.close();
  });

  /** A valid put still works, at the next offset, and the queue holds exactly what was accepted. */
  async function expectStillWorking(): Promise<void> {
    const body = Buffer.from(`ok ${accepted.length}`);
    const r = await store.put('good', 0, [{ body }]);
    expect(r.queueOffset).toBe(accepted.length);
    accepted.push({ body });
    await waitDispatched(store);
    const got = readQueue(store, 'good', 0, 0);
    expect(got.map((m) => m.body.toString('latin1'))).toEqual(accepted.map((m) => Buffer.from(m.body).toString('latin1')));
  }

  /** put() must reject (not throw synchronously) with the typed error, and consume no offset. */
  async function expectPutRejected(topic: string, queueId: number, batch: unknown, cls: ErrorClass, code: string): Promise<void> {
    const before = store.maxOffset('good', 0);
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = store.put(topic, queueId, batch as StoreMessage[]))).not.toThrow();
    expectTyped(await rejectionOf(promise!), cls, code);
    expect(store.maxOffset('good', 0)).toBe(before);
    await expectStillWorking();
  }

  it('illegal topic names and queue counts: METAQ_INVALID_TOPIC', async () => {
    for (const name of ['', 'a'.repeat(128), 'a/b', 'a.b', '..', 'with space', 'ümlaut', 'tab\t', 'x\u0001y']) {
      expectTyped(thrownBy(() => store.createTopic(name, 1)), InvalidTopicError, 'METAQ_INVALID_TOPIC');
      expect(store.queueCount(name)).toBeUndefined();
    }
    expectTyped(thrownBy(() => store.createTopic(42 as unknown as string, 1)), InvalidTopicError, 'METAQ_INVALID_TOPIC');
    for (const count of [0, -1, 1.5, 4097, Number.NaN]) {
      expectTyped(thrownBy(() => store.createTopic('fine', count)), InvalidTopicError, 'METAQ_INVALID_TOPIC');
    }
    expect(store.queueCount('fine')).toBeUndefined();
    // The longest legal name and the full character set are accepted.
    store.createTopic('a'.repeat(127), 1);
    store.createTopic('Az09_%|-', 2);
    expect(store.queueCount('Az09_%|-')).toBe(2);
    // A put naming an illegal topic says so (rather than "unknown").
    await expectPutRejected('a/b', 0, [{ body: Buffer.from('x') }], InvalidTopicError, 'METAQ_INVALID_TOPIC');
    await expectPutRejected('', 0, [{ body: Buffer.from('x') }], InvalidTopicError, 'METAQ_INVALID_TOPIC');
  });

  it('unknown topic and unknown queue ids: METAQ_UNKNOWN_TOPIC / METAQ_UNKNOWN_QUEUE', async () => {
    await expectPutRejected('nope', 0, [{ body: Buffer.from('x') }], UnknownTopicError, 'METAQ_UNKNOWN_TOPIC');
    for (const q of [4, 5, -1, 1.5, Number.NaN, 2 ** 32]) {
      await expectPutRejected('good', q, [{ body: Buffer.from('x') }], UnknownQueueError, 'METAQ_UNKNOWN_QUEUE');
    }
  });

  it('oversized body: METAQ_MESSAGE_TOO_LARGE; exactly maxMessageSize is fine', async () => {
    await expectPutRejected('good', 0, [{ body: Buffer.alloc(MAX_BODY + 1, 1) }], MessageTooLargeError, 'METAQ_MESSAGE_TOO_LARGE');
    // One oversized message sinks its whole batch.
    await expectPutRejected('good', 0, [{ body: Buffer.from('small') }, { body: Buffer.alloc(MAX_BODY * 4) }], MessageTooLargeError, 'METAQ_MESSAGE_TOO_LARGE');
    const max = Buffer.alloc(MAX_BODY, 7);
    const r = await store.put('good', 0, [{ body: max }]);
    expect(r.queueOffset).toBe(accepted.length);
    accepted.push({ body: max });
    await expectStillWorking();
  });

  it('malformed batches and messages: METAQ_INVALID_MESSAGE', async () => {
    const bad: [string, unknown][] = [
      ['empty batch', []],
      ['not an array', { body: Buffer.from('x') }],
      ['null batch', null],
      ['null message', [null]],
      ['string body', [{ body: 'text' }]],
      ['missing body', [{ tags: 'a' }]],
      ['property value with \\x01', [{ body: Buffer.from('x'), properties: { a: 'x\u0001y' } }]],
      ['property value with \\x02', [{ body: Buffer.from('x'), properties: { a: 'x\u0002y' } }]],
      ['property name with \\x01', [{ body: Buffer.from('x'), properties: { 'a\u0001': 'v' } }]],
      ['empty property name', [{ body: Buffer.from('x'), properties: { '': 'v' } }]],
      ['non-string property value', [{ body: Buffer.from('x'), properties: { a: 1 } }]],
      ['reserved property TAGS', [{ body: Buffer.from('x'), properties: { TAGS: 'a' } }]],
      ['reserved property KEYS', [{ body: Buffer.from('x'), properties: { KEYS: 'a' } }]],
      ['tags with \\x01', [{ body: Buffer.from('x'), tags: 'a\u0001b' }]],
      ['key with a space', [{ body: Buffer.from('x'), keys: 'a b' }]],
      ['empty key in a list', [{ body: Buffer.from('x'), keys: ['a', ''] }]],
      ['properties over 64 KiB', [{ body: Buffer.from('x'), properties: { big: 'v'.repeat(70_000) } }]],
      ['a bad message after a good one', [{ body: Buffer.from('good') }, { body: Buffer.from('x'), properties: { a: '\u0001' } }]],
    ];
    for (const [what, batch] of bad) {
      await expectPutRejected('good', 0, batch, InvalidMessageError, 'METAQ_INVALID_MESSAGE').catch((err: unknown) => {
        throw new Error(`${what}: ${String(err)}`);
      });
    }
  });

  it('unknown or invalid config options: METAQ_INVALID_CONFIG, and the directory is left usable', async () => {
    const other = tempDir();
    const bad: Record<string, unknown>[] = [
      { segmentSise: 1 << 20 },
      { flushMode: 'always' },
      { segmentSize: 64 * 1024 }, // cannot hold a maxMessageSize record
      { maxMessageSize: 0 },
      { maxOpenFiles: 0 },
      { diskHighWaterRatio: 1.5 },
      { retentionMs: -1 },
      { flushIntervalMs: '10' },
    ];
    for (const extra of bad) {
      expectTyped(await rejectionOf(MessageStore.open(config(other, extra))), InvalidConfigError, 'METAQ_INVALID_CONFIG');
    }
    expectTyped(await rejectionOf(MessageStore.open({ dir: '' })), InvalidConfigError, 'METAQ_INVALID_CONFIG');
    expectTyped(await rejectionOf(MessageStore.open(null as unknown as MessageStoreConfig)), InvalidConfigError, 'METAQ_INVALID_CONFIG');
    const s = await MessageStore.open(config(other));
    s.createTopic('t', 1);
    expect((await s.put('t', 0, [{ body: Buffer.from('x') }])).queueOffset).toBe(0);
    await s.close();
    await expectStillWorking();
  });

  it('reads at bad positions return statuses and never throw', async () => {
    for (let i = 0; i < 5; i++) await expectStillWorking();
    const max = store.maxOffset('good', 0);
    expect(max).toBe(5);
    const get = (topic: string, q: number, offset: number, maxCount = 10, maxBytes = 1 << 20) => {
      let r: ReturnType<MessageStore['getMessages']> | undefined;
      expect(() => (r = store.getMessages(topic, q, offset, maxCount, maxBytes))).not.toThrow();
      return r!;
    };
    for (const offset of [-1, -1000, Number.NaN, 1.5, Number.NEGATIVE_INFINITY]) {
      const r = get('good', 0, offset);
      expect(r.status, `offset ${offset}`).toBe('OFFSET_MOVED');
      expect(r.nextOffset).toBe(0);
      expect(r.count).toBe(0);
      expect(r.records.length).toBe(0);
    }
    for (const offset of [max + 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const r = get('good', 0, offset);
      expect(r.status, `offset ${offset}`).toBe('OFFSET_OVERFLOW');
      expect(r.nextOffset).toBe(max);
      expect(r.maxOffset).toBe(max);
    }
    expect(get('good', 0, max).status).toBe('NO_NEW_MESSAGE');
    expect(get('good', 0, max).nextOffset).toBe(max);
    for (const [topic, q] of [['nope', 0], ['good', 4], ['good', -1], ['good', 1.5], ['a/b', 0]] as const) {
      const r = get(topic, q, 0);
      expect(r.status, `${topic}/${q}`).toBe('NO_SUCH_QUEUE');
      expect(r.count).toBe(0);
    }
    // Silly counts and byte limits still return one message at least, never more than asked.
    for (const [maxCount, maxBytes] of [[0, 1 << 20], [-3, 1 << 20], [Number.NaN, 1 << 20], [10, 0], [10, -1]]) {
      const r = get('good', 0, 1, maxCount, maxBytes);
      expect(r.status).toBe('FOUND');
      expect(r.count).toBe(1);
      expect(r.nextOffset).toBe(2);
    }
    expect(store.minOffset('nope', 0)).toBe(0);
    expect(store.maxOffset('good', 9)).toBe(0);
    expect(store.offsetForTimestamp('good', 9, Date.now())).toBe(0);
    await expectStillWorking();
  });

  it('a second open of the same directory: METAQ_STORE_LOCKED; a closed store: METAQ_STORE_CLOSED', async () => {
    expectTyped(await rejectionOf(MessageStore.open(config(dir))), StoreLockedError, 'METAQ_STORE_LOCKED');
    await expectStillWorking();
    const other = tempDir();
    const s = await MessageStore.open(config(other));
    s.createTopic('t', 1);
    await s.close();
    expectTyped(await rejectionOf(s.put('t', 0, [{ body: Buffer.from('x') }])), StoreClosedError, 'METAQ_STORE_CLOSED');
    expectTyped(thrownBy(() => s.createTopic('u', 1)), StoreClosedError, 'METAQ_STORE_CLOSED');
    await s.close(); // closing twice is harmless
  });
});
