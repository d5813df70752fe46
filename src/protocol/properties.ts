// User properties as the store and the wire carry them: RocketMQ's
// name\x01value\x02 string. Names and values must not contain the separators.
import { InvalidMessageError } from '../common/index.js';
import { decodeProperties as decodeStoredProperties, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from '../store/record.js';

// eslint-disable-next-line no-control-regex -- the property separators are control characters by design
const SEPARATORS = /[\u0001\u0002]/;

export function encodeProperties(props: Readonly<Record<string, string>>): string {
  let s = '';
  for (const name in props) {
    const value = props[name]!;
    if (typeof value !== 'string' || name === '' || SEPARATORS.test(name) || SEPARATORS.test(value)) {
      throw new InvalidMessageError(`property ${JSON.stringify(name)}: names and values are non-empty strings without \\x01 or \\x02`);
    }
    s += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return s;
}

export const decodeProperties = decodeStoredProperties;
