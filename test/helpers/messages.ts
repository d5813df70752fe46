// Deterministic test messages: a seeded PRNG, bodies derived from a seed and
// a position (so a reader can recompute what must be there), random messages
// with tags/keys/properties, and helpers to read whole queues back.
import { expect } from 'vitest';
import type { DecodedMessage, GetResult, MessageStore, StoreMessage } from '../../src/store/index.js';
import { decodeRecords } from '../../src/message/index.js';

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(rng: () => number, min: number, maxInclusive: number): number {
  return min + Math.floor(rng() * (maxInclusive - min + 1));
}

/** FNV-1a over the parts' text: a stable 32-bit seed for a position. */
export function seedOf(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  const s = parts.join('\u0000');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `length` pseudo-random bytes determined by `seed`. */
export function bytesFor(seed: number, length: number): Buffer {
  const rng = prng(seed);
  const buf = Buffer.allocUnsafe(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) buf.writeUInt32LE(Math.floor(rng() * 4294967296), i);
  for (; i < length; i++) buf[i] = Math.floor(rng() * 256);
  return buf;
}

/**
 * The body of the message at (topic, queue, queueOffset) for a run seed: its
 * length (0..maxLength) and bytes both follow from the position, so anything
 * read back can be checked without remembering what was sent.
 */
export function positionalBody(runSeed: number, topic: string, queueId: number, queueOffset: number, maxLength: number): Buffer {
  const seed = seedOf(runSeed, topic, queueId, queueOffset);
  const length = seed % (maxLength + 1);
  return bytesFor(seed ^ 0x5bd1e995, length);
}

const TAGS = ['TagA', 'TagB', 'order-created', '标签'];

export interface MessageOptions {
  maxBody: number;
  /** Prefix making keys unique per test. */
  keyPrefix: string;
}

/**
 * A random message exercising every field: bodies from empty to maxBody,
 * optional tag, keys (string or array, some non-ASCII), user properties with
 * non-ASCII text and empty values, flag, born timestamp, reconsume times.
 */
export function randomMessage(rng: () => number, seq: number, opts: MessageOptions): StoreMessage {
  const r = rng();
  const length = r < 0.05 ? 0 : r < 0.1 ? opts.maxBody : r < 0.8 ? randomInt(rng, 1, 300) : randomInt(rng, 1, opts.maxBody);
  const m: StoreMessage = { body: bytesFor(Math.floor(rng() * 2 ** 32), length) };
  if (rng() < 0.7) m.tags = TAGS[randomInt(rng, 0, TAGS.length - 1)]!;
  const k = rng();
  if (k < 0.3) m.keys = `${opts.keyPrefix}-${seq}`;
  else if (k < 0.6) m.keys = [`${opts.keyPrefix}-${seq}`, `ключ-${seq % 7}`];
  if (rng() < 0.5) {
    m.properties = { traceId: `t-${seq}-${Math.floor(rng() * 1e9)}`, 'name with spaces': 'value = with = equals', empty: '', unicode: 'é中文🙂' };
  }
  if (rng() < 0.3) m.flag = Math.floor(rng() * 2 ** 32);
  if (rng() < 0.5) m.bornTimestamp = 1_600_000_000_000 + Math.floor(rng() * 1e9);
  if (rng() < 0.2) m.reconsumeTimes = randomInt(rng, 1, 16);
  return m;
}

/** Asserts that a decoded record carries exactly what was put. */
export function expectSameMessage(got: DecodedMessage, sent: StoreMessage, where: string): void {
  if (!Buffer.from(sent.body).equals(got.body)) {
    throw new Error(`${where}: body differs (got ${got.body.length} bytes, sent ${sent.body.length})`);
  }
  const keys = sent.keys === undefined ? [] : typeof sent.keys === 'string' ? [sent.keys] : [...sent.keys];
  const props: Record<string, string> = { ...(sent.properties ?? {}) };
  if (sent.tags !== undefined && sent.tags !== '') props.TAGS = sent.tags;
  if (keys.length > 0) props.KEYS = keys.join(' ');
  expect(got.tags, `${where}: tags`).toBe(sent.tags === '' ? undefined : sent.tags);
  expect(got.keys, `${where}: keys`).toEqual(keys);
  expect(got.properties, `${where}: properties`).toEqual(props);
  expect(got.flag, `${where}: flag`).toBe(sent.flag ?? 0);
  expect(got.reconsumeTimes, `${where}: reconsumeTimes`).toBe(sent.reconsumeTimes ?? 0);
  if (sent.bornTimestamp !== undefined) expect(got.bornTimestamp, `${where}: bornTimestamp`).toBe(sent.bornTimestamp);
}

/**
 * Reads a queue from `from` until NO_NEW_MESSAGE with getMessages, checking
 * statuses and that queue offsets are consecutive. Returns the messages.
 */
export function readQueue(
  store: MessageStore,
  topic: string,
  queueId: number,
  from = store.minOffset(topic, queueId),
  maxCount = 64,
  maxBytes = 256 * 1024,
): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  let offset = from;
  for (;;) {
    const r: GetResult = store.getMessages(topic, queueId, offset, maxCount, maxBytes);
    if (r.status === 'NO_NEW_MESSAGE') {
      expect(r.nextOffset).toBe(offset);
      return out;
    }
    if (r.status !== 'FOUND') throw new Error(`${topic}/${queueId}@${offset}: unexpected status ${r.status}`);
    const decoded = decodeRecords(r.records);
    expect(decoded.length, `${topic}/${queueId}@${offset}: record count`).toBe(r.count);
    expect(r.count).toBeGreaterThan(0);
    expect(r.count).toBeLessThanOrEqual(maxCount);
    for (const m of decoded) {
      if (m.topic !== topic || m.queueId !== queueId || m.queueOffset !== offset) {
        throw new Error(`${topic}/${queueId}: expected offset ${offset}, got ${m.topic}/${m.queueId}@${m.queueOffset}`);
      }
      out.push(m);
      offset++;
    }
    expect(r.nextOffset).toBe(offset);
  }
}
