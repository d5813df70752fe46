// Plain messages' properties and tag codes from bytes: the same as from the
// decoded strings (encodeMessageProperties, tagsCode).
import { describe, expect, it } from 'vitest';
import { tagsCode } from '../common/index.js';
import { encodeMessageProperties } from './properties.js';
import { isPlainTagsAndKeys, plainPropertiesLength, plainTagsCode, writePlainProperties } from './plain-batch.js';

const cases: { tags?: string; keys?: string }[] = [{}, { tags: 'TagA' }, { keys: 'user-1' }, { tags: 't', keys: 'k1 k2 k3' }, { tags: '~!@#$%^&*()_+ x', keys: '10018799999' }];

describe('plain messages from bytes', () => {
  it('properties and tag codes match the string encoders', () => {
    for (const c of cases) {
      const src = Buffer.from(`..${c.tags ?? ''}|${c.keys ?? ''}`, 'latin1');
      const tagsAt = 2;
      const tagsLength = (c.tags ?? '').length;
      const keysAt = tagsAt + tagsLength + 1;
      const keysLength = (c.keys ?? '').length;
      expect(isPlainTagsAndKeys(src, tagsAt, tagsLength, keysAt, keysLength)).toBe(true);
      const expected = Buffer.from(encodeMessageProperties({ tags: c.tags, keys: c.keys?.split(' ') }, 0), 'utf8');
      const out = Buffer.alloc(64, 0xee);
      expect(writePlainProperties(out, 3, src, tagsAt, tagsLength, keysAt, keysLength)).toBe(3 + expected.length);
      expect(out.subarray(3, 3 + expected.length).equals(expected)).toBe(true);
      expect(plainPropertiesLength(tagsLength, keysLength)).toBe(expected.length);
      expect(plainTagsCode(src, tagsAt, tagsLength)).toBe(tagsCode(c.tags));
    }
  });

  it('is not plain: separators, non-ASCII, empty keys', () => {
    for (const [tags, keys] of [['a\u0001', ''], ['', 'a\u0002'], ['é', ''], ['', 'é'], ['', ' a'], ['', 'a '], ['', 'a  b'], ['', ' ']]) {
      const src = Buffer.from(tags! + keys!, 'utf8');
      const tagsLength = Buffer.byteLength(tags!);
      expect(isPlainTagsAndKeys(src, 0, tagsLength, tagsLength, src.length - tagsLength)).toBe(false);
    }
  });
});
