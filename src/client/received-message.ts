// A message as a consumer receives it: a view over the raw CommitLog record
// (docs/STORAGE.md) with fields decoded on first use, so that a consumer that
// only reads the body pays for nothing else.
import { encodeMessageId, readU64, PROPERTY_RETRY_TOPIC, MalformedFrameError } from '../common/index.js';
import { parseAddress } from '../net/index.js';
import { decodeProperties } from '../protocol/index.js';
import {
  KEY_SEPARATOR,
  OFF_BODY,
  OFF_BODY_LENGTH,
  OFF_BORN_TIMESTAMP,
  OFF_FLAG,
  OFF_PHYSICAL_OFFSET,
  OFF_QUEUE_ID,
  OFF_QUEUE_OFFSET,
  OFF_RECONSUME_TIMES,
  OFF_STORE_TIMESTAMP,
  OFF_TAGS_CODE,
  PROPERTY_KEYS,
  PROPERTY_TAGS,
  RECORD_OVERHEAD,
} from '../message/index.js';

export class ReceivedMessage {
  // The record is bytes [at, at + size) of a received frame: no view is made
  // per message unless asked for (a consumer at 300k msg/s feels each one).
  readonly #buf: Buffer;
  readonly #at: number;
  readonly #size: number;
  /** The broker it was read from. */
  readonly brokerName: string;
  readonly brokerAddr: string;
  /** Read from the queue's slave (its master was down, or slaves are preferred), not its master. */
  readonly fromSlave: boolean;
  #properties: Record<string, string> | undefined;
  #storeTopic: string | undefined;

  constructor(buf: Buffer, brokerName: string, brokerAddr: string, at = 0, size = buf.length - at, fromSlave = false) {
    this.#buf = buf;
    this.#at = at;
    this.#size = size;
    this.brokerName = brokerName;
    this.brokerAddr = brokerAddr;
    this.fromSlave = fromSlave;
  }

  /** The record bytes as stored (docs/STORAGE.md). */
  get record(): Buffer {
    return this.#buf.subarray(this.#at, this.#at + this.#size);
  }

  get body(): Buffer {
    const n = this.#buf.readUInt32BE(this.#at + OFF_BODY_LENGTH);
    return this.#buf.subarray(this.#at + OFF_BODY, this.#at + OFF_BODY + n);
  }

  /** The topic the producer sent to (for a re-delivered message, its original topic). */
  get topic(): string {
    return this.properties[PROPERTY_RETRY_TOPIC] ?? this.storeTopic;
  }

  /** The topic the message was read from (a retry topic for re-deliveries). */
  get storeTopic(): string {
    if (this.#storeTopic === undefined) {
      const at = this.#at + OFF_BODY + this.#buf.readUInt32BE(this.#at + OFF_BODY_LENGTH);
      this.#storeTopic = this.#buf.toString('latin1', at + 1, at + 1 + this.#buf[at]!);
    }
    return this.#storeTopic;
  }

  get queueId(): number {
    return this.#buf.readUInt32BE(this.#at + OFF_QUEUE_ID);
  }

  get queueOffset(): number {
    return readU64(this.#buf, this.#at + OFF_QUEUE_OFFSET);
  }

  get physicalOffset(): number {
    return readU64(this.#buf, this.#at + OFF_PHYSICAL_OFFSET);
  }

  get flag(): number {
    return this.#buf.readUInt32BE(this.#at + OFF_FLAG);
  }

  get bornTimestamp(): number {
    return readU64(this.#buf, this.#at + OFF_BORN_TIMESTAMP);
  }

  get storeTimestamp(): number {
    return readU64(this.#buf, this.#at + OFF_STORE_TIMESTAMP);
  }

  /** How many times this message was re-delivered before. */
  get reconsumeTimes(): number {
    return this.#buf.readUInt32BE(this.#at + OFF_RECONSUME_TIMES);
  }

  get tagsCode(): number {
    return readU64(this.#buf, this.#at + OFF_TAGS_CODE);
  }

  get tags(): string | undefined {
    return this.properties[PROPERTY_TAGS];
  }

  get keys(): string[] {
    const k = this.properties[PROPERTY_KEYS];
    return k === undefined || k === '' ? [] : k.split(KEY_SEPARATOR);
  }

  /** Every property, TAGS and KEYS included. */
  get properties(): Record<string, string> {
    if (this.#properties === undefined) {
      const bodyLength = this.#buf.readUInt32BE(this.#at + OFF_BODY_LENGTH);
      const topicAt = this.#at + OFF_BODY + bodyLength;
      const propsAt = topicAt + 1 + this.#buf[topicAt]!;
      const n = this.#buf.readUInt16BE(propsAt);
      this.#properties = decodeProperties(this.#buf.toString('utf8', propsAt + 2, propsAt + 2 + n));
    }
    return this.#properties;
  }

  get messageId(): string {
    const { host, port } = parseAddress(this.brokerAddr);
    return encodeMessageId(host, port, this.physicalOffset);
  }
}

/** Splits a pull response's records into messages; a record that overruns the buffer is a protocol error. */
export function splitRecords(records: Buffer, count: number, brokerName: string, brokerAddr: string, fromSlave = false): ReceivedMessage[] {
  const out = new Array<ReceivedMessage>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (records.length - at < RECORD_OVERHEAD) throw new MalformedFrameError(`pull response ends inside record ${i} of ${count}`);
    const size = records.readUInt32BE(at);
    if (size < RECORD_OVERHEAD || at + size > records.length) throw new MalformedFrameError(`record ${i} of the pull response has a bad size ${size}`);
    out[i] = new ReceivedMessage(records, brokerName, brokerAddr, at, size, fromSlave);
    at += size;
  }
  if (at !== records.length) throw new MalformedFrameError(`pull response has ${records.length - at} bytes after its ${count} records`);
  return out;
}
