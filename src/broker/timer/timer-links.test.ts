import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../../test/helpers/temp-dir.js';
import { TimerLinks } from './timer-links.js';

const PER_FILE = 1 << 20;

function links(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeDoubleLE(v, i * 8));
  return b;
}

describe('TimerLinks', () => {
  const tempDir = useTempDirs('timer-links');

  it('reads back what was written, across a file boundary, and drops files wholly below an offset', () => {
    const dir = join(tempDir(), 'links');
    const l = new TimerLinks(dir);
    const first = PER_FILE - 3;
    l.write(first, links([-1, first, first + 1, -1, first + 3, first + 2]));
    expect([0, 1, 2, 3, 4, 5].map((i) => l.read(first + i))).toEqual([-1, first, first + 1, -1, first + 3, first + 2]);
    expect(readdirSync(dir).sort()).toEqual(['0', '1']);
    // A later write over a cached page is seen.
    l.write(first + 6, links([first + 5]));
    expect(l.read(first + 6)).toBe(first + 5);
    l.dropBelow(PER_FILE);
    expect(readdirSync(dir)).toEqual(['1']);
    expect(l.read(first + 4)).toBe(first + 3);
    expect(() => l.read(PER_FILE + 100)).toThrow(/never written/);
    l.close();
  });

  it('starts empty: links of an earlier run are thrown away (the wheel is rebuilt)', () => {
    const dir = join(tempDir(), 'links');
    const a = new TimerLinks(dir);
    a.write(0, links([-1, 0]));
    a.close();
    const b = new TimerLinks(dir);
    expect(existsSync(join(dir, '0'))).toBe(false);
    expect(() => b.read(1)).toThrow(/never written/);
    b.close();
  });
});
