// topics.json written coalesced (off the event loop) and now (synchronously):
// a burst of creations shares writes; every promise settles only once a
// file holding its change is in place; a synchronous write in the middle of
// a coalesced one never lets older content replace newer; a failed write
// rejects its waiters with a FlushError and a later call writes again.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlushError } from '../common/index.js';
import { makeTempDir, removeDir } from '../../test/helpers/temp-dir.js';
import { TopicFile } from './topic-file.js';

describe('TopicFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });

  function setup(): { file: string; names: string[]; tf: TopicFile } {
    const dir = makeTempDir('topic-file');
    dirs.push(dir);
    const file = path.join(dir, 'topics.json');
    const names: string[] = [];
    const tf = new TopicFile(file, () => JSON.stringify(names));
    return { file, names, tf };
  }

  const onDisk = (file: string): string[] => JSON.parse(fs.readFileSync(file, 'utf8')) as string[];

  it('a burst of 200 changes shares a few writes, and each promise settles with its change on disk', async () => {
    const { file, names, tf } = setup();
    const settled = Array.from({ length: 200 }, (_, i) => {
      names.push(`t-${i}`);
      tf.changed();
      const want = [...names];
      return tf.durable().then(() => {
        const got = onDisk(file);
        for (const n of want) expect(got).toContain(n);
      });
    });
    expect(tf.isDurable).toBe(false);
    await Promise.all(settled);
    expect(tf.isDurable).toBe(true);
    expect(tf.writes).toBeLessThanOrEqual(3);
    expect(onDisk(file)).toHaveLength(200);
    expect(fs.existsSync(`${file}.tmp-coalesced`)).toBe(false);
  });

  it('a synchronous write during a coalesced one: the file only moves forward', async () => {
    const { file, names, tf } = setup();
    names.push('a');
    tf.changed();
    const first = tf.durable();
    // The coalesced write of ['a'] is under way; a newer table is written now, synchronously.
    names.push('b');
    tf.changed();
    tf.writeNow();
    expect(onDisk(file)).toEqual(['a', 'b']);
    await first;
    expect(onDisk(file)).toEqual(['a', 'b']);
    expect(tf.isDurable).toBe(true);
  });

  it('a failed write rejects its waiters with a FlushError; the next call writes again', async () => {
    const { file, names, tf } = setup();
    names.push('a');
    tf.changed();
    fs.mkdirSync(`${file}.tmp-coalesced`); // the temp file cannot be opened for writing
    const err = await tf.durable().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlushError);
    expect(tf.isDurable).toBe(false);
    fs.rmdirSync(`${file}.tmp-coalesced`);
    await tf.durable();
    expect(onDisk(file)).toEqual(['a']);
  });
});
