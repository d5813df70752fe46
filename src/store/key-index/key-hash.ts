// Hashes of the index by key: `topic#key` as stringHash gives it, and the
// dispatcher's allocation-free way to get the same hashes straight from a
// record's encoded properties.
import { stringHash } from '../../common/index.js';
import { KEY_SEPARATOR_BYTE, NAME_VALUE_SEPARATOR_BYTE, PROPERTY_KEYS, PROPERTY_SEPARATOR_BYTE } from '../../message/index.js';

export function keyHash(topic: string, key: string): number {
  return stringHash(`${topic}#${key}`) >>> 0;
}

/** The hash of `${topic}#`, from which keyHash continues over the key (see keyHashesFromProperties). */
export function keyHashPrefix(topic: string): number {
  return stringHash(`${topic}#`);
}

const ASCII_END = 0x80;
const KEYS_NAME = Buffer.from(PROPERTY_KEYS, 'latin1');

/** buf[from, to) spells KEYS (byte by byte: no view allocated per property). */
function isKeysName(buf: Buffer, from: number, to: number): boolean {
  if (to - from !== KEYS_NAME.length) return false;
  for (let k = 0; k < KEYS_NAME.length; k++) if (buf[from + k] !== KEYS_NAME[k]) return false;
  return true;
}

/**
 * Shortens `out` to `length`. Popping keeps the array's backing store;
 * assigning `out.length` calls into the runtime and drops it, so the next push
 * allocates again: ~0.1 µs per keyed record, for a count that is nearly
 * always already right.
 */
export function truncateHashes(out: number[], length: number): void {
  while (out.length > length) out.pop();
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
    while (nameEnd < to && buf[nameEnd] !== NAME_VALUE_SEPARATOR_BYTE && buf[nameEnd] !== PROPERTY_SEPARATOR_BYTE) nameEnd++;
    let pairEnd = nameEnd;
    while (pairEnd < to && buf[pairEnd] !== PROPERTY_SEPARATOR_BYTE) pairEnd++;
    if (nameEnd < to && buf[nameEnd] === NAME_VALUE_SEPARATOR_BYTE && isKeysName(buf, i, nameEnd)) {
      truncateHashes(out, start); // as in decodeProperties, a later KEYS pair replaces an earlier one
      let h = prefixHash;
      let length = 0;
      for (let j = nameEnd + 1; j < pairEnd; j++) {
        const b = buf[j]!;
        if (b === KEY_SEPARATOR_BYTE) {
          if (length > 0) out.push(h >>> 0);
          h = prefixHash;
          length = 0;
        } else if (b >= ASCII_END) {
          truncateHashes(out, start);
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
