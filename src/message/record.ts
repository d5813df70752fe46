// Encoding, checking and decoding of one message record (the layout is in
// record-layout.ts). Pure functions over Buffers, no IO.
import { crc32 } from 'node:zlib';
import { readU64, setU64 } from '../common/index.js';
import { decodeProperties, KEY_SEPARATOR, PROPERTY_KEYS, PROPERTY_TAGS } from './properties.js';
import { writePlainProperties } from './plain-batch.js';
import {
  BLANK_MAGIC,
  BLANK_MARKER_SIZE,
  CRC_START,
  MESSAGE_MAGIC,
  OFF_BODY,
  OFF_BODY_LENGTH,
  OFF_BORN_TIMESTAMP,
  OFF_CRC,
  OFF_FLAG,
  OFF_MAGIC,
  OFF_PHYSICAL_OFFSET,
  OFF_QUEUE_ID,
  OFF_QUEUE_OFFSET,
  OFF_RECONSUME_TIMES,
  OFF_STORE_TIMESTAMP,
  OFF_SYS_FLAG,
  OFF_TAGS_CODE,
  OFF_TOTAL_SIZE,
  RECORD_OVERHEAD,
  recordSize,
  type RecordFields,
} from './record-layout.js';

/**
 * Writes one record at `at` in `buf` (which must have room) and returns its size.
 * `view` is a DataView over the same bytes as `buf`: hot writers keep one per
 * buffer, because V8 inlines DataView stores where Buffer.writeUInt32BE calls out.
 */
export function writeRecord(buf: Buffer, at: number, f: RecordFields, view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): number {
  const bodyLength = f.bodyLength ?? f.body.length;
  const size = recordSize(bodyLength, f.topic.length, f.propertiesLength);
  view.setUint32(at + OFF_TOTAL_SIZE, size);
  view.setUint32(at + OFF_MAGIC, MESSAGE_MAGIC);
  view.setUint32(at + OFF_QUEUE_ID, f.queueId);
  view.setUint32(at + OFF_FLAG, f.flag >>> 0);
  setU64(view, at + OFF_QUEUE_OFFSET, f.queueOffset);
  setU64(view, at + OFF_PHYSICAL_OFFSET, f.physicalOffset);
  view.setUint32(at + OFF_SYS_FLAG, f.sysFlag >>> 0);
  setU64(view, at + OFF_BORN_TIMESTAMP, f.bornTimestamp);
  setU64(view, at + OFF_STORE_TIMESTAMP, f.storeTimestamp);
  view.setUint32(at + OFF_RECONSUME_TIMES, f.reconsumeTimes >>> 0);
  setU64(view, at + OFF_TAGS_CODE, f.tagsCode);
  view.setUint32(at + OFF_BODY_LENGTH, bodyLength);
  const bodyAt = f.bodyAt ?? 0;
  buf.set(bodyAt === 0 && bodyLength === f.body.length ? f.body : new Uint8Array(f.body.buffer, f.body.byteOffset + bodyAt, bodyLength), at + OFF_BODY);
  let p = at + OFF_BODY + bodyLength;
  buf[p++] = f.topic.length;
  f.topic.copy(buf, p);
  p += f.topic.length;
  view.setUint16(p, f.propertiesLength);
  p += 2;
  if (f.propertiesLength > 0) {
    const src = f.propertySource;
    if (src === undefined) buf.write(f.properties, p, f.propertiesLength, 'utf8');
    else writePlainProperties(buf, p, src, f.tagsAt!, f.tagsLength!, f.keysAt!, f.keysLength!);
  }
  // A bare Uint8Array view is cheaper to make than a Buffer subarray.
  view.setUint32(at + OFF_CRC, crc32(new Uint8Array(buf.buffer, buf.byteOffset + at + CRC_START, size - CRC_START)));
  return size;
}

export function writeBlankMarker(buf: Buffer, at: number, remaining: number): void {
  buf.writeUInt32BE(remaining, at);
  buf.writeUInt32BE(BLANK_MAGIC, at + 4);
}

/** Result of looking at the bytes at a position of the log. */
export const RecordCheck = {
  /** A whole, valid record. */
  Ok: 0,
  /** A blank marker: the rest of the segment is unused. */
  Blank: 1,
  /** Not enough bytes in the buffer to judge; read more. */
  Short: 2,
  /** Bad size, magic, position or CRC: the log ends here. */
  Invalid: 3,
} as const;
export type RecordCheck = (typeof RecordCheck)[keyof typeof RecordCheck];

/**
 * Checks the record that starts at `at` in `buf` (holding log bytes up to `end`).
 * With `expectedPhysicalOffset` the stamped position must match, which rejects
 * stale records left behind an earlier truncation.
 */
export function checkRecord(
  buf: Buffer,
  at: number,
  end: number,
  maxRecordSize: number,
  expectedPhysicalOffset: number,
  verifyCrc: boolean,
): RecordCheck {
  if (end - at < BLANK_MARKER_SIZE) return RecordCheck.Short;
  const size = buf.readUInt32BE(at);
  const magic = buf.readUInt32BE(at + OFF_MAGIC);
  if (magic === BLANK_MAGIC) return RecordCheck.Blank;
  if (magic !== MESSAGE_MAGIC || size < RECORD_OVERHEAD || size > maxRecordSize) return RecordCheck.Invalid;
  if (end - at < size) return RecordCheck.Short;
  if (readU64(buf, at + OFF_PHYSICAL_OFFSET) !== expectedPhysicalOffset) return RecordCheck.Invalid;
  const bodyLength = buf.readUInt32BE(at + OFF_BODY_LENGTH);
  if (OFF_BODY + bodyLength + 1 > size) return RecordCheck.Invalid;
  const topicLength = buf[at + OFF_BODY + bodyLength]!;
  const propsAt = at + OFF_BODY + bodyLength + 1 + topicLength;
  if (propsAt + 2 > at + size || propsAt + 2 + buf.readUInt16BE(propsAt) !== at + size) return RecordCheck.Invalid;
  if (verifyCrc && crc32(buf.subarray(at + CRC_START, at + size)) !== buf.readUInt32BE(at + OFF_CRC)) {
    return RecordCheck.Invalid;
  }
  return RecordCheck.Ok;
}

/** A record decoded into a plain object: for clients, tools and tests, not the hot path. */
export interface DecodedMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  storeTimestamp: number;
  reconsumeTimes: number;
  tagsCode: number;
  tags: string | undefined;
  keys: string[];
  properties: Record<string, string>;
  body: Buffer;
  /** The record bytes as stored. */
  size: number;
}

/** Decodes the record at `at` (assumed valid). The body is a copy-free view. */
export function decodeRecord(buf: Buffer, at = 0): DecodedMessage {
  const size = buf.readUInt32BE(at);
  const bodyLength = buf.readUInt32BE(at + OFF_BODY_LENGTH);
  const topicAt = at + OFF_BODY + bodyLength;
  const topicLength = buf[topicAt]!;
  const topic = buf.toString('latin1', topicAt + 1, topicAt + 1 + topicLength);
  const propsAt = topicAt + 1 + topicLength;
  const propsLength = buf.readUInt16BE(propsAt);
  const properties = decodeProperties(buf.toString('utf8', propsAt + 2, propsAt + 2 + propsLength));
  const keys = properties[PROPERTY_KEYS];
  return {
    topic,
    queueId: buf.readUInt32BE(at + OFF_QUEUE_ID),
    queueOffset: readU64(buf, at + OFF_QUEUE_OFFSET),
    physicalOffset: readU64(buf, at + OFF_PHYSICAL_OFFSET),
    flag: buf.readUInt32BE(at + OFF_FLAG),
    sysFlag: buf.readUInt32BE(at + OFF_SYS_FLAG),
    bornTimestamp: readU64(buf, at + OFF_BORN_TIMESTAMP),
    storeTimestamp: readU64(buf, at + OFF_STORE_TIMESTAMP),
    reconsumeTimes: buf.readUInt32BE(at + OFF_RECONSUME_TIMES),
    tagsCode: readU64(buf, at + OFF_TAGS_CODE),
    tags: properties[PROPERTY_TAGS],
    keys: keys === undefined || keys === '' ? [] : keys.split(KEY_SEPARATOR),
    properties,
    body: buf.subarray(at + OFF_BODY, at + OFF_BODY + bodyLength),
    size,
  };
}

/** Decodes every record of a buffer of concatenated records (a getMessages result). */
export function decodeRecords(buf: Buffer): DecodedMessage[] {
  const out: DecodedMessage[] = [];
  for (let at = 0; at < buf.length; ) {
    const m = decodeRecord(buf, at);
    out.push(m);
    at += m.size;
  }
  return out;
}
