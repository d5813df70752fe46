// A SEND request read in place: the broker's hot path. parse() walks the
// body once, checking every length against the bytes, and remembers where
// each message starts; the store then reads each message's fields straight
// from the request's bytes (PlainMessageBatch): no object, string or view
// per message. Only plain requests are taken (see message/plain-batch.ts);
// for anything else, malformed bodies included, parse() says no and the
// caller decodes with decodeSendRequest, whose errors and semantics stay
// the only ones.
import { TWO_POW_32 } from '../common/index.js';
import { isPlainTagsAndKeys, type PlainMessageBatch } from '../message/index.js';

/** flag u32, bornTimestamp u64, body length u32: the bytes before a message's body. */
const BODY_OFFSET = 16;
const OFF_BORN = 4;
const OFF_BODY_LENGTH = 12;
const INITIAL_MESSAGES = 1024;
/** A u64 below 2^53 (a safe integer) has a high word below 2^21. */
const SAFE_HIGH_WORD_END = 2 ** 21;
const ASCII_END = 0x80;

export class SendRequestView implements PlainMessageBatch {
  topic = '';
  queueId = 0;
  count = 0;
  bytes: Buffer = Buffer.alloc(0);
  #view = new DataView(this.bytes.buffer, 0, 0);
  /** Where message i starts in `bytes`; reused from request to request. */
  #starts = new Int32Array(INITIAL_MESSAGES);
  flag = 0;
  bornTimestamp = 0;
  bodyAt = 0;
  bodyLength = 0;
  tagsAt = 0;
  tagsLength = 0;
  keysAt = 0;
  keysLength = 0;
  #lastTopicBytes: Buffer = Buffer.alloc(0);

  /**
   * Reads `body` as a plain send request; false (the view then holds nothing
   * usable) when it is malformed or not plain. The view refers to `body`
   * until the next parse: use it before then.
   */
  parse(body: Buffer): boolean {
    this.count = 0;
    const end = body.length;
    if (end < 1) return false;
    const topicLength = body[0]!;
    let p = 1 + topicLength;
    if (p + 8 > end) return false;
    const v = new DataView(body.buffer, body.byteOffset, body.length);
    const queueId = v.getUint32(p);
    const count = v.getUint32(p + 4);
    p += 8;
    // Each message takes at least its fixed bytes: a lying count is refused before any allocation.
    if (count === 0 || count * (BODY_OFFSET + 5) > end - p) return false;
    if (count > this.#starts.length) this.#starts = new Int32Array(Math.max(count, this.#starts.length * 2));
    const starts = this.#starts;
    for (let i = 0; i < count; i++) {
      if (p + BODY_OFFSET > end) return false;
      starts[i] = p;
      if (v.getUint32(p + OFF_BORN) >= SAFE_HIGH_WORD_END) return false; // beyond 2^53: the decoder's error
      const bodyLength = v.getUint32(p + OFF_BODY_LENGTH);
      let q = p + BODY_OFFSET + bodyLength;
      if (q + 1 > end) return false;
      const tagsAt = q + 1;
      const tagsLength = body[q]!;
      q = tagsAt + tagsLength;
      if (q + 2 > end) return false;
      const keysAt = q + 2;
      const keysLength = v.getUint16(q);
      q = keysAt + keysLength;
      if (q + 2 > end) return false;
      if (v.getUint16(q) !== 0) return false; // user properties: the decoder's path
      if (!isPlainTagsAndKeys(body, tagsAt, tagsLength, keysAt, keysLength)) return false;
      p = q + 2;
    }
    if (p !== end) return false;
    // The topic as a string once per request; the same bytes as last time give the same string.
    const last = this.#lastTopicBytes;
    if (last.length !== topicLength || body.compare(last, 0, topicLength, 1, 1 + topicLength) !== 0) {
      for (let i = 1; i <= topicLength; i++) if (body[i]! >= ASCII_END) return false; // non-ASCII topic names: the decoder's path
      this.topic = body.toString('latin1', 1, 1 + topicLength);
      this.#lastTopicBytes = Buffer.from(body.subarray(1, 1 + topicLength));
    }
    this.#view = v;
    this.bytes = body;
    this.queueId = queueId;
    this.count = count;
    return true;
  }

  select(i: number): void {
    const v = this.#view;
    const p = this.#starts[i]!;
    this.flag = v.getUint32(p);
    this.bornTimestamp = v.getUint32(p + OFF_BORN) * TWO_POW_32 + v.getUint32(p + OFF_BORN + 4);
    this.bodyAt = p + BODY_OFFSET;
    this.bodyLength = v.getUint32(p + OFF_BODY_LENGTH);
    let q = this.bodyAt + this.bodyLength;
    this.tagsLength = this.bytes[q]!;
    this.tagsAt = q + 1;
    q = this.tagsAt + this.tagsLength;
    this.keysLength = v.getUint16(q);
    this.keysAt = q + 2;
  }
}
