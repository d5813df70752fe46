// The CommitLog record format: how one message is laid out on disk (and, as
// is, on the wire to consumers). Pure functions over Buffers, no IO.
//
// Big-endian layout (docs/STORAGE.md has the byte table):
//   0 totalSize u32 | 4 magic u32 | 8 crc u32 (CRC-32 of bytes [12, totalSize))
//  12 queueId u32 | 16 flag u32 | 20 queueOffset u64 | 28 physicalOffset u64
//  36 sysFlag u32 | 40 bornTimestamp u64 | 48 storeTimestamp u64
//  56 reconsumeTimes u32 | 60 tagsCode u64 | 68 bodyLength u32 | 72 body
//  then topicLength u8 + topic (ASCII), propertiesLength u16 + properties.
import { crc32 } from 'node:zlib';
import { readU64, setU64 } from '../common/index.js';

export const MESSAGE_MAGIC = 0xdaa320a7;
/** Marks the unused tail of a segment: [remaining u32][BLANK_MAGIC u32]. */
export const BLANK_MAGIC = 0xcbd43194;
export const BLANK_MARKER_SIZE = 8;

export const OFF_TOTAL_SIZE = 0;
export const OFF_MAGIC = 4;
export const OFF_CRC = 8;
export const OFF_QUEUE_ID = 12;
export const OFF_FLAG = 16;
export const OFF_QUEUE_OFFSET = 20;
export const OFF_PHYSICAL_OFFSET = 28;
export const OFF_SYS_FLAG = 36;
export const OFF_BORN_TIMESTAMP = 40;
export const OFF_STORE_TIMESTAMP = 48;
export const OFF_RECONSUME_TIMES = 56;
export const OFF_TAGS_CODE = 60;
export const OFF_BODY_LENGTH = 68;
export const OFF_BODY = 72;
/** Where the CRC starts covering: everything after the crc field. */
export const CRC_START = 12;
/** Bytes of a record besides body, topic and properties. */
export const RECORD_OVERHEAD = OFF_BODY + 1 + 2;

export const MAX_TOPIC_LENGTH = 127;
export const MAX_PROPERTIES_LENGTH = 0xffff;

/** sysFlag bits. */
export const SYS_FLAG_HAS_KEYS = 1 << 0;

/** Property names the store itself understands. */
export const PROPERTY_TAGS = 'TAGS';
export const PROPERTY_KEYS = 'KEYS';
/** RocketMQ's separators: name\x01value\x02... ; keys are space-separated. */
export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';
export const KEY_SEPARATOR = ' ';

/**
 * Everything needed to write one record. The writer reuses one instance for a
 * whole batch (overwriting its fields) so that encoding allocates nothing.
 */
export interface RecordFields {
  body: Uint8Array;
  /** The topic's ASCII bytes. */
  topic: Buffer;
  /** Encoded property string (name\x01value\x02...) and its UTF-8 length. */
  properties: string;
  propertiesLength: number;
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  storeTimestamp: number;
  reconsumeTimes: number;
  tagsCode: number;
}

export function recordSize(bodyLength: number, topicLength: number, propertiesLength: number): number {
  return RECORD_OVERHEAD + bodyLength + topicLength + propertiesLength;
}

/**
 * Writes one record at `at` in `buf` (which must have room) and returns its size.
 * `view` is a DataView over the same bytes as `buf`: hot writers keep one per
 * buffer, because V8 inlines DataView stores where Buffer.writeUInt32BE calls out.
 */
export function writeRecord(buf: Buffer, at: number, f: RecordFields, view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): number {
  const bodyLength = f.body.length;
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
  buf.set(f.body, at + OFF_BODY);
  let p = at + OFF_BODY + bodyLength;
  buf[p++] = f.topic.length;
  f.topic.copy(buf, p);
  p += f.topic.length;
  view.setUint16(p, f.propertiesLength);
  p += 2;
  if (f.propertiesLength > 0) buf.write(f.properties, p, f.propertiesLength, 'utf8');
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

const BYTE_NAME_VALUE = 0x01;
const BYTE_PROPERTY = 0x02;
const BYTE_KEY_SEPARATOR = 0x20;
const ASCII_END = 0x80;
const KEYS_NAME = Buffer.from(PROPERTY_KEYS, 'latin1');

/** buf[from, to) spells KEYS (byte by byte: no view allocated per property). */
function isKeysName(buf: Buffer, from: number, to: number): boolean {
  if (to - from !== KEYS_NAME.length) return false;
  for (let k = 0; k < KEYS_NAME.length; k++) if (buf[from + k] !== KEYS_NAME[k]) return false;
  return true;
}

/**
 * The dispatcher's hot path for the index by key: pushes onto `out`, for each
 * key of the KEYS property in the properties bytes [from, to), the hash that
 * `stringHash(prefix + key) >>> 0` gives, continuing from `prefixHash` (the
 * hash of the prefix), without decoding a string. Returns false, having
 * pushed nothing, when a key has a non-ASCII byte: UTF-8 bytes are not UTF-16
 * code units, so the caller must take the string path then.
 */
export function keyHashesFromProperties(buf: Buffer, from: number, to: number, prefixHash: number, out: number[]): boolean {
  const start = out.length;
  let i = from;
  while (i < to) {
    let nameEnd = i;
    while (nameEnd < to && buf[nameEnd] !== BYTE_NAME_VALUE && buf[nameEnd] !== BYTE_PROPERTY) nameEnd++;
    let pairEnd = nameEnd;
    while (pairEnd < to && buf[pairEnd] !== BYTE_PROPERTY) pairEnd++;
    if (nameEnd < to && buf[nameEnd] === BYTE_NAME_VALUE && isKeysName(buf, i, nameEnd)) {
      out.length = start; // as in decodeProperties, a later KEYS pair replaces an earlier one
      let h = prefixHash;
      let length = 0;
      for (let j = nameEnd + 1; j < pairEnd; j++) {
        const b = buf[j]!;
        if (b === BYTE_KEY_SEPARATOR) {
          if (length > 0) out.push(h >>> 0);
          h = prefixHash;
          length = 0;
        } else if (b >= ASCII_END) {
          out.length = start;
          return false;
        } else {
          h = (Math.imul(h, 31) + b) | 0;
          length++;
        }
      }
      if (length > 0) out.push(h >>> 0);
    }
    i = pairEnd + 1;
  }
  return true;
}

export function decodeProperties(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === '') return out;
  for (const pair of s.split(PROPERTY_SEPARATOR)) {
    if (pair === '') continue;
    const sep = pair.indexOf(NAME_VALUE_SEPARATOR);
    if (sep < 0) continue;
    out[pair.slice(0, sep)] = pair.slice(sep + 1);
  }
  return out;
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
