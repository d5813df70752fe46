// After the offsets file is renamed into place, its directory is fsynced, so
// that a power cut cannot lose the new entry. Checked on the real system
// calls: a child process persists offsets under strace, which reports each
// fsync with its descriptor's path. Skipped, saying so, without strace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fsyncedPaths, straceProblem } from '../../test/helpers/strace.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
});

describe('ConsumerOffsets.persist', () => {
  it('fsyncs the directory after renaming the offsets file into it', (ctx) => {
    const why = straceProblem();
    if (why !== undefined) {
      ctx.skip(why);
      return;
    }
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-offsets-fsync-')));
    const dir = path.join(root, 'offsets');
    const moduleUrl = new URL('./consumer-offsets.ts', import.meta.url).href;
    const script = [
      `const { ConsumerOffsets } = await import(${JSON.stringify(moduleUrl)});`,
      `const o = new ConsumerOffsets(${JSON.stringify(dir)});`,
      `o.commit('g', 't', 0, 10);`,
      `await o.persist();`,
      `console.log('done');`,
    ].join('\n');
    const { stdout, stderr, synced } = fsyncedPaths(root, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], REPO_ROOT);
    expect(stdout.trim(), stderr).toBe('done');
    expect(fs.existsSync(path.join(dir, 'consumerOffsets.json'))).toBe(true);
    expect(synced.has(dir), `fsync of ${dir}; fsynced: ${[...synced].join(', ')}`).toBe(true);
  });
});
