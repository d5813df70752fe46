// The message record layout: where each field of one message sits in its
// bytes, as the CommitLog stores it and as pulls carry it to consumers.
//
// Big-endian layout (docs/STORAGE.md has the byte table):
//   0 totalSize u32 | 4 magic u32 | 8 crc u32 (CRC-32 of bytes [12, totalSize))
//  12 queueId u32 | 16 flag u32 | 20 queueOffset u64 | 28 physicalOffset u64
//  36 sysFlag u32 | 40 bornTimestamp u64 | 48 storeTimestamp u64
//  56 reconsumeTimes u32 | 60 tagsCode u64 | 68 bodyLength u32 | 72 body
//  then topicLength u8 + topic (ASCII), propertiesLength u16 + properties.

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
/** Bytes from a record's start through its physical offset: enough to tell whether a record starts at a position. */
export const RECORD_HEAD_SIZE = OFF_SYS_FLAG;
/** Bytes of a record besides body, topic and properties. */
export const RECORD_OVERHEAD = OFF_BODY + 1 + 2;

export const MAX_TOPIC_LENGTH = 127;

/** sysFlag bits. */
export const SYS_FLAG_HAS_KEYS = 1 << 0;

/**
 * Everything needed to write one record. The writer reuses one instance for a
 * whole batch (overwriting its fields) so that encoding allocates nothing.
 */
export interface RecordFields {
  /** The body is body[bodyAt, bodyAt + bodyLength) (both unset: all of it). */
  body: Uint8Array;
  bodyAt?: number;
  bodyLength?: number;
  /** The topic's ASCII bytes. */
  topic: Buffer;
  /** Encoded property string (name\x01value\x02...) and its UTF-8 length. */
  properties: string;
  propertiesLength: number;
  /**
   * Set: the properties are a plain message's (plain-batch.ts), TAGS and KEYS
   * written from the bytes of this source at the offsets below, and
   * `properties` is ignored.
   */
  propertySource?: Uint8Array | undefined;
  tagsAt?: number;
  tagsLength?: number;
  keysAt?: number;
  keysLength?: number;
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
