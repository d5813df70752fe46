// SEND: a batch of messages for one queue, and its acknowledgement.
//
// Request:  topic str8 | queueId u32 | count u32 | count x message
//   message: flag u32 | bornTimestamp u64 | body bytes32 | tags str8 |
//            keys str16 (space-separated) | properties str16 (name\x01value\x02...)
// Response: queueId u32 | queueOffset u64 | count u32 | storeTimestamp u64 |
//           count x physicalOffset u64 (for message ids)
import { MalformedFrameError, TWO_POW_32 } from '../common/index.js';
import { decodeProperties, encodeProperties } from './properties.js';
import { BodyReader, BodyWriter } from './body.js';

/** A message as the wire carries it from producer to broker. */
export interface WireMessage {
  body: Uint8Array;
  tags?: string | undefined;
  keys?: string | readonly string[] | undefined;
  properties?: Readonly<Record<string, string>> | undefined;
  flag?: number | undefined;
  bornTimestamp?: number | undefined;
}

export interface SendRequest {
  topic: string;
  queueId: number;
  messages: readonly WireMessage[];
}

/** Decoded on the broker: fields present or defaulted. */
export interface DecodedSendMessage {
  body: Buffer;
  tags: string | undefined;
  keys: string[] | undefined;
  properties: Record<string, string> | undefined;
  flag: number;
  bornTimestamp: number;
}

export interface DecodedSendRequest {
  topic: string;
  queueId: number;
  messages: DecodedSendMessage[];
}

export interface SendResponse {
  queueId: number;
  queueOffset: number;
  count: number;
  storeTimestamp: number;
  physicalOffsets: readonly number[];
}

/** Fixed bytes per message besides body, tags, keys and properties. */
const MESSAGE_FIXED = 4 + 8 + 4 + 1 + 2 + 2;

export function encodeSendRequest(req: SendRequest): Buffer {
  let estimate = 16 + req.topic.length;
  for (const m of req.messages) estimate += MESSAGE_FIXED + m.body.length + 32;
  const w = new BodyWriter(estimate);
  w.str8(req.topic, 'topic').u32(req.queueId).u32(req.messages.length);
  const now = Date.now();
  for (const m of req.messages) {
    w.u32(m.flag ?? 0).u64(m.bornTimestamp ?? now).bytes32(m.body);
    w.str8(m.tags ?? '', 'tags');
    const keys = m.keys === undefined ? '' : typeof m.keys === 'string' ? m.keys : m.keys.join(' ');
    w.str16(keys, 'keys');
    w.str16(m.properties === undefined ? '' : encodeProperties(m.properties), 'properties');
  }
  return w.finish();
}

/** Bytes of the topic's length prefix (str8): the queue id follows the topic at this plus its length. */
const TOPIC_LENGTH_SIZE = 1;

/**
 * A send request encoded once per batch whose queue id is filled in per
 * attempt (a retry goes to another queue without re-encoding). The protocol
 * owns where the queue id sits; the producer only says which queue.
 */
export class SendRequestTemplate {
  #bytes: Buffer;
  #used = false;
  readonly #queueIdAt: number;

  /** From messages, or from what a SendRequestBuilder wrote (all its messages added). */
  constructor(topic: string, messages: readonly WireMessage[] | SendRequestBuilder) {
    this.#bytes = messages instanceof SendRequestBuilder ? messages.finish() : encodeSendRequest({ topic, queueId: 0, messages });
    this.#queueIdAt = TOPIC_LENGTH_SIZE + this.#bytes[0]!;
  }

  /** The request body for an attempt at `queueId`. */
  forQueue(queueId: number): Buffer {
    // A failed attempt's bytes may still sit in a socket's write queue: a retry gets its own copy.
    if (this.#used) this.#bytes = Buffer.from(this.#bytes);
    this.#used = true;
    this.#bytes.writeUInt32BE(queueId, this.#queueIdAt);
    return this.#bytes;
  }
}

/** Bytes of the longest decimal key a numeric key can have (Number.MAX_SAFE_INTEGER has 16 digits). */
const MAX_NUMERIC_KEY_DIGITS = 16;
const ASCII_ZERO = 0x30;
const DECIMAL = 10;

/** Keys are written in two halves: the low 8 decimal digits, and the rest (below 2^53 / 10^8 < 2^27). */
const LOW_HALF = 100_000_000;
const LOW_HALF_DIGITS = 8;

/** Decimal digits of a non-negative integer below 2^31. */
function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= DECIMAL; rest = (rest / DECIMAL) | 0) digits++;
  return digits;
}

/** Writes `n` (below 2^31) as exactly `digits` decimal digits (zero-padded) at `at`. */
function writeDecimal(b: Buffer, at: number, digits: number, n: number): void {
  for (let i = digits - 1, rest = n; i >= 0; i--, rest = (rest / DECIMAL) | 0) b[at + i] = ASCII_ZERO + (rest % DECIMAL);
}

/**
 * Writes a send request message by message into one buffer sized up front,
 * with no object, string or closure per message: the load generator's hot
 * path. Each message gets a body of a given length that the caller fills in
 * place (at the offset `add` returns, in `bytes`), no tags, no properties and
 * one key: the decimal digits of a non-negative safe integer (a user id).
 * The bytes are exactly what encodeSendRequest gives for the same messages.
 */
export class SendRequestBuilder {
  readonly #topic: string;
  readonly #count: number;
  #added = 0;
  #pos: number;
  /** The request under construction; message bodies are filled in place. */
  readonly bytes: Buffer;
  /** Over `bytes`: V8 inlines DataView stores where Buffer.writeUInt32BE calls out. */
  readonly #view: DataView;

  constructor(topic: string, count: number, bodyLength: number) {
    if (!Number.isInteger(count) || count < 1 || count > 0xffff_ffff) throw new MalformedFrameError(`a send request holds 1..${0xffff_ffff} messages, not ${count}`);
    if (!Number.isInteger(bodyLength) || bodyLength < 0) throw new MalformedFrameError(`body length must be a non-negative integer, not ${bodyLength}`);
    const topicLength = Buffer.byteLength(topic);
    if (topicLength > 0xff) throw new MalformedFrameError(`topic is ${topicLength} bytes; at most 255 fit`);
    this.#topic = topic;
    this.#count = count;
    this.bytes = Buffer.allocUnsafe(TOPIC_LENGTH_SIZE + topicLength + 8 + count * (MESSAGE_FIXED + bodyLength + MAX_NUMERIC_KEY_DIGITS));
    this.#view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.bytes[0] = topicLength;
    this.bytes.write(topic, TOPIC_LENGTH_SIZE, 'utf8');
    const p = TOPIC_LENGTH_SIZE + topicLength;
    this.bytes.writeUInt32BE(0, p); // queue id: set per attempt by SendRequestTemplate.forQueue
    this.bytes.writeUInt32BE(count, p + 4);
    this.#pos = p + 8;
  }

  /**
   * Adds a message whose key is `key` (a non-negative safe integer, written in
   * decimal); returns where its `bodyLength` body bytes go in `bytes`.
   */
  add(bornTimestamp: number, bodyLength: number, key: number): number {
    if (this.#added === this.#count) throw new MalformedFrameError(`the send request was sized for ${this.#count} messages`);
    if (!Number.isSafeInteger(key) || key < 0) throw new MalformedFrameError(`a numeric key must be a non-negative safe integer, not ${key}`);
    if (!Number.isSafeInteger(bornTimestamp) || bornTimestamp < 0) throw new MalformedFrameError(`bornTimestamp must be a non-negative safe integer, not ${bornTimestamp}`);
    const b = this.bytes;
    const v = this.#view;
    let p = this.#pos;
    if (p + MESSAGE_FIXED + bodyLength + MAX_NUMERIC_KEY_DIGITS > b.length) throw new MalformedFrameError(`a ${bodyLength}-byte body is longer than the send request was sized for`);
    v.setUint32(p, 0); // flag
    v.setUint32(p + 4, Math.floor(bornTimestamp / TWO_POW_32));
    v.setUint32(p + 8, bornTimestamp >>> 0);
    v.setUint32(p + 12, bodyLength);
    const bodyAt = p + 16;
    p = bodyAt + bodyLength;
    b[p++] = 0; // tags: none
    // In two halves below 10^8 each, so that the digit loops run on small integers, not doubles.
    const high = Math.floor(key / LOW_HALF);
    const low = key - high * LOW_HALF;
    const lowDigits = high > 0 ? LOW_HALF_DIGITS : decimalDigits(low);
    const digits = high > 0 ? decimalDigits(high) + LOW_HALF_DIGITS : lowDigits;
    v.setUint16(p, digits);
    p += 2;
    writeDecimal(b, p + digits - lowDigits, lowDigits, low);
    if (high > 0) writeDecimal(b, p, digits - LOW_HALF_DIGITS, high);
    p += digits;
    v.setUint16(p, 0); // properties: none
    this.#pos = p + 2;
    this.#added++;
    return bodyAt;
  }

  /** The request's bytes (SendRequestTemplate calls this); throws unless every message was added. */
  finish(): Buffer {
    if (this.#added !== this.#count) throw new MalformedFrameError(`send request for ${this.#count} messages of ${JSON.stringify(this.#topic)} has ${this.#added}`);
    return this.bytes.subarray(0, this.#pos);
  }
}

export function decodeSendRequest(body: Buffer): DecodedSendRequest {
  const r = new BodyReader(body);
  const topic = r.str8('topic');
  const queueId = r.u32('queueId');
  const count = r.u32('count');
  // Each message takes at least MESSAGE_FIXED bytes: reject a lying count before allocating for it.
  if (count * MESSAGE_FIXED > r.remaining) throw new MalformedFrameError(`send claims ${count} messages but carries only ${r.remaining} bytes`);
  const messages = new Array<DecodedSendMessage>(count);
  for (let i = 0; i < count; i++) {
    const flag = r.u32('flag');
    const bornTimestamp = r.u64('bornTimestamp');
    const payload = r.bytes32('body');
    const tags = r.str8('tags');
    const keys = r.str16('keys');
    const props = r.str16('properties');
    messages[i] = {
      body: payload,
      tags: tags === '' ? undefined : tags,
      keys: keys === '' ? undefined : keys.split(' '),
      properties: props === '' ? undefined : decodeProperties(props),
      flag,
      bornTimestamp,
    };
  }
  r.done('the send request');
  return { topic, queueId, messages };
}

/** queueId u32, queueOffset u64, count u32, storeTimestamp u64: the bytes before the offsets. */
const SEND_RESPONSE_HEAD = 24;
const U64_SIZE = 8;

export function encodeSendResponse(res: SendResponse): Buffer {
  const w = new BodyWriter(SEND_RESPONSE_HEAD);
  w.u32(res.queueId).u64(res.queueOffset).u32(res.count).u64(res.storeTimestamp);
  const head = w.finish();
  // One offset per message: written through a DataView (inlined), not BodyWriter.u64's calls.
  const offsets = res.physicalOffsets;
  const out = Buffer.allocUnsafe(SEND_RESPONSE_HEAD + U64_SIZE * offsets.length);
  head.copy(out, 0);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0, at = SEND_RESPONSE_HEAD; i < offsets.length; i++, at += U64_SIZE) {
    const p = offsets[i]!;
    if (!(p >= 0 && p <= Number.MAX_SAFE_INTEGER)) throw new MalformedFrameError(`${p} does not fit in a u64 (0..${Number.MAX_SAFE_INTEGER})`);
    v.setUint32(at, Math.floor(p / TWO_POW_32));
    v.setUint32(at + 4, p >>> 0);
  }
  return out;
}

export function decodeSendResponse(body: Buffer): SendResponse {
  const r = new BodyReader(body);
  const queueId = r.u32('queueId');
  const queueOffset = r.u64('queueOffset');
  const count = r.u32('count');
  const storeTimestamp = r.u64('storeTimestamp');
  if (count * 8 !== r.remaining) throw new MalformedFrameError(`send response for ${count} messages carries ${r.remaining} bytes of offsets`);
  const physicalOffsets = new Array<number>(count);
  for (let i = 0; i < count; i++) physicalOffsets[i] = r.u64('physicalOffset');
  r.done('the send response');
  return { queueId, queueOffset, count, storeTimestamp, physicalOffsets };
}
