// Unit tests of the key hashes: the dispatcher's byte path over encoded
// properties must give the hashes that lookups compute from strings.
import { describe, expect, it } from 'vitest';
import { decodeProperties } from '../../message/index.js';
import { keyHash, keyHashesFromProperties, keyHashPrefix } from './key-hash.js';

describe('keyHashesFromProperties', () => {
  /** The hashes the string path gives (what lookups compute). */
  function viaStrings(topic: string, properties: string): number[] {
    return (decodeProperties(properties).KEYS ?? '').split(' ').filter((k) => k !== '').map((k) => keyHash(topic, k));
  }

  function viaBytes(topic: string, properties: string): number[] | false {
    const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(properties), Buffer.from('yy')]);
    const out: number[] = [99];
    if (!keyHashesFromProperties(buf, 2, buf.length - 2, keyHashPrefix(topic), out)) {
      expect(out).toEqual([99]); // nothing pushed on the way out
      return false;
    }
    return out.slice(1);
  }

  it.each([
    ['one key', 'KEYS\u000110000061711\u0002'],
    ['keys among other properties, separators doubled', 'TAGS\u0001red\u0002KEYS\u0001 k1  k2 \u0002x\u0001y\u0002'],
    ['no trailing separator', 'A\u0001b\u0002KEYS\u0001order-42'],
    ['no KEYS property', 'TAGS\u0001red\u0002'],
    ['a name without a value', 'KEYS\u0002TAGS\u0001KEYS\u0002'],
    ['a later KEYS pair replaces an earlier one', 'KEYS\u0001a b\u0002KEYS\u0001c\u0002'],
    ['a value holding the name-value separator', 'KEYS\u0001a\u0001b\u0002'],
    ['empty', ''],
  ])('gives the same hashes as the string path: %s', (_name, properties) => {
    expect(viaBytes('LOTTERY_CLAIM', properties)).toEqual(viaStrings('LOTTERY_CLAIM', properties));
  });

  it('declines non-ASCII keys (UTF-8 bytes are not UTF-16 code units)', () => {
    expect(viaBytes('t', 'KEYS\u0001caf\u00e9 k\u0002')).toBe(false);
    // Non-ASCII elsewhere in the properties does not matter.
    expect(viaBytes('t', 'x\u0001\u00e9\u0002KEYS\u0001k\u0002')).toEqual(viaStrings('t', 'x\u0001\u00e9\u0002KEYS\u0001k\u0002'));
  });
});
