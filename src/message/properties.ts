// Message properties as records and the wire carry them: RocketMQ's
// name\x01value\x02 string, with TAGS and KEYS among them. Validation of what
// may go into that string lives here, once, for the store and the wire.
import { InvalidMessageError } from '../common/index.js';

/** Property names the store itself understands. */
export const PROPERTY_TAGS = 'TAGS';
export const PROPERTY_KEYS = 'KEYS';
/** RocketMQ's separators: name\x01value\x02... ; keys are space-separated. */
export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';
export const KEY_SEPARATOR = ' ';
/** The separators as bytes, for readers that scan encoded properties without decoding them. */
export const NAME_VALUE_SEPARATOR_BYTE = 0x01;
export const PROPERTY_SEPARATOR_BYTE = 0x02;
export const KEY_SEPARATOR_BYTE = 0x20;
/** The properties length is a u16 in the record. */
export const MAX_PROPERTIES_LENGTH = 0xffff;

// eslint-disable-next-line no-control-regex -- the property separators are control characters by design
const SEPARATORS = /[\u0001\u0002]/;

/** The fields of a message that end up in its properties string. */
export interface MessagePropertyFields {
  tags?: string;
  keys?: string | readonly string[];
  properties?: Readonly<Record<string, string>>;
}

/** True when `s` holds a property separator (and so cannot be a name, value, tag or key). */
export function hasSeparator(s: string): boolean {
  return SEPARATORS.test(s);
}

/** A user property pair that the properties string can carry. */
export function isValidProperty(name: string, value: unknown): value is string {
  return typeof value === 'string' && name !== '' && !SEPARATORS.test(name) && !SEPARATORS.test(value);
}

/** Encodes user properties (as a producer sends them); throws InvalidMessageError on a name or value the string cannot carry. */
export function encodeProperties(props: Readonly<Record<string, string>>): string {
  let s = '';
  for (const name in props) {
    const value = props[name]!;
    if (!isValidProperty(name, value)) {
      throw new InvalidMessageError(`property ${JSON.stringify(name)}: names and values are non-empty strings without \\x01 or \\x02`);
    }
    s += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return s;
}

/**
 * Validates message `i` of a batch and encodes its properties string as the
 * store writes it: TAGS, then KEYS, then the user properties (which may not
 * use the reserved names). Throws InvalidMessageError.
 */
export function encodeMessageProperties(m: MessagePropertyFields, i: number): string {
  let s = '';
  if (m.tags !== undefined && m.tags !== '') {
    if (typeof m.tags !== 'string' || SEPARATORS.test(m.tags)) throw new InvalidMessageError(`message ${i}: tags must be a string without \\x01 or \\x02`);
    s = PROPERTY_TAGS + NAME_VALUE_SEPARATOR + m.tags + PROPERTY_SEPARATOR;
  }
  if (m.keys !== undefined && m.keys.length > 0) {
    const keys = typeof m.keys === 'string' ? [m.keys] : m.keys;
    for (const k of keys) {
      if (typeof k !== 'string' || k === '' || k.includes(KEY_SEPARATOR) || SEPARATORS.test(k)) {
        throw new InvalidMessageError(`message ${i}: keys must be non-empty strings without spaces, \\x01 or \\x02`);
      }
    }
    s += PROPERTY_KEYS + NAME_VALUE_SEPARATOR + keys.join(KEY_SEPARATOR) + PROPERTY_SEPARATOR;
  }
  if (m.properties !== undefined) {
    for (const [name, value] of Object.entries(m.properties)) {
      if (name === PROPERTY_TAGS || name === PROPERTY_KEYS) throw new InvalidMessageError(`message ${i}: property ${name} is reserved; use the ${name.toLowerCase()} field`);
      if (!isValidProperty(name, value)) {
        throw new InvalidMessageError(`message ${i}: property names and values must be strings without \\x01 or \\x02`);
      }
      s += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
    }
  }
  return s;
}

/** UTF-8 length of an encoded properties string of message `i`; throws InvalidMessageError past what a record holds. */
export function propertiesLength(s: string, i: number): number {
  const length = s.length === 0 ? 0 : Buffer.byteLength(s);
  if (length > MAX_PROPERTIES_LENGTH) throw new InvalidMessageError(`message ${i}: properties take ${length} bytes; the maximum is ${MAX_PROPERTIES_LENGTH}`);
  return length;
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

