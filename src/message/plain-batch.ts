// A batch of "plain" messages still in the bytes they arrived in (a SEND
// request's body), for the store to encode records from in place: no object,
// string or view per message. Plain: tags and keys are ASCII without the
// property separators, keys are space-separated and none is empty, and there
// are no user properties. Such a message's properties are TAGS and KEYS only,
// byte for byte what encodeMessageProperties gives for the decoded strings;
// anything else takes the path of decoded messages.
import {
  KEY_SEPARATOR_BYTE,
  NAME_VALUE_SEPARATOR,
  NAME_VALUE_SEPARATOR_BYTE,
  PROPERTY_KEYS,
  PROPERTY_SEPARATOR_BYTE,
  PROPERTY_TAGS,
} from './properties.js';

export interface PlainMessageBatch {
  readonly count: number;
  /** The bytes every offset below points into. */
  readonly bytes: Buffer;
  /** Moves to message `i` (0 <= i < count): the fields below then describe it. */
  select(i: number): void;
  readonly flag: number;
  readonly bornTimestamp: number;
  readonly bodyAt: number;
  readonly bodyLength: number;
  /** Tags bytes at [tagsAt, tagsAt + tagsLength); length 0: no tags. */
  readonly tagsAt: number;
  readonly tagsLength: number;
  /** Space-separated keys at [keysAt, keysAt + keysLength); length 0: no keys. */
  readonly keysAt: number;
  readonly keysLength: number;
}

const ASCII_END = 0x80;
const TAGS_PREFIX = Buffer.from(PROPERTY_TAGS + NAME_VALUE_SEPARATOR, 'latin1');
const KEYS_PREFIX = Buffer.from(PROPERTY_KEYS + NAME_VALUE_SEPARATOR, 'latin1');
/** Name, separator, value, separator: the bytes a pair adds besides its value. */
const PAIR_OVERHEAD = TAGS_PREFIX.length + 1;

/** True when tags and keys bytes are plain (see the header): ASCII, no separators, no empty key. */
export function isPlainTagsAndKeys(buf: Uint8Array, tagsAt: number, tagsLength: number, keysAt: number, keysLength: number): boolean {
  for (let i = tagsAt; i < tagsAt + tagsLength; i++) {
    const b = buf[i]!;
    if (b >= ASCII_END || b === NAME_VALUE_SEPARATOR_BYTE || b === PROPERTY_SEPARATOR_BYTE) return false;
  }
  if (keysLength === 0) return true;
  // No empty key: no space first, last or twice in a row.
  let previous = KEY_SEPARATOR_BYTE;
  for (let i = keysAt; i < keysAt + keysLength; i++) {
    const b = buf[i]!;
    if (b >= ASCII_END || b === NAME_VALUE_SEPARATOR_BYTE || b === PROPERTY_SEPARATOR_BYTE) return false;
    if (b === KEY_SEPARATOR_BYTE && previous === KEY_SEPARATOR_BYTE) return false;
    previous = b;
  }
  return previous !== KEY_SEPARATOR_BYTE;
}

/** Bytes of a plain message's properties (TAGS, then KEYS, each only when present). */
export function plainPropertiesLength(tagsLength: number, keysLength: number): number {
  return (tagsLength > 0 ? PAIR_OVERHEAD + tagsLength : 0) + (keysLength > 0 ? PAIR_OVERHEAD + keysLength : 0);
}

/** Writes a plain message's properties at `at` of `buf`; returns the end. */
export function writePlainProperties(buf: Buffer, at: number, src: Uint8Array, tagsAt: number, tagsLength: number, keysAt: number, keysLength: number): number {
  let p = at;
  if (tagsLength > 0) p = writePair(buf, p, TAGS_PREFIX, src, tagsAt, tagsLength);
  if (keysLength > 0) p = writePair(buf, p, KEYS_PREFIX, src, keysAt, keysLength);
  return p;
}

function writePair(buf: Buffer, at: number, prefix: Buffer, src: Uint8Array, from: number, length: number): number {
  let p = at;
  // Short runs: a byte loop beats the native copy's call and view.
  for (let i = 0; i < prefix.length; i++) buf[p++] = prefix[i]!;
  for (let i = from; i < from + length; i++) buf[p++] = src[i]!;
  buf[p++] = PROPERTY_SEPARATOR_BYTE;
  return p;
}

/** tagsCode (common/hash.ts) of plain (ASCII) tag bytes: the same hash as of the decoded string. */
export function plainTagsCode(src: Uint8Array, tagsAt: number, tagsLength: number): number {
  if (tagsLength === 0) return 0;
  let h = 0;
  for (let i = tagsAt; i < tagsAt + tagsLength; i++) h = (Math.imul(h, 31) + src[i]!) | 0;
  return h >>> 0 || 1;
}
