import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from './errors.js';
import { checkInteger } from './validate.js';

describe('checkInteger', () => {
  it('returns integers in range', () => {
    expect(checkInteger('x', 1)).toBe(1);
    expect(checkInteger('x', 0, 0, 10)).toBe(0);
    expect(checkInteger('x', 10, 0, 10)).toBe(10);
  });

  it.each([
    [0, 1, undefined, /--x must be an integer >= 1, got 0/],
    [1.5, 1, undefined, /got 1\.5/],
    ['3', 1, undefined, /got "3"/],
    [Number.NaN, 1, undefined, /got null/],
    [2 ** 53, 1, undefined, /--x must be an integer >= 1/],
    [11, 0, 10, /--x must be an integer in 0\.\.10, got 11/],
  ])('rejects %s (min %s, max %s) with a typed error naming the option', (value, min, max, message) => {
    const check = (): number => checkInteger('--x', value, min, max);
    expect(check).toThrow(InvalidConfigError);
    expect(check).toThrow(message);
  });
});
