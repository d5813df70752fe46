// Directories are fsynced after files are created or renamed in them, so a
// power cut cannot lose a directory entry: the ConsumeQueue directories (the
// topic's, each queue's, and consumequeue/ itself when new) and the key-index
// directory (the consumer offsets' directory after its rename is checked the
// same way in src/broker/consumer-offsets-fsync.test.ts). Checked on
// the real system calls: a child process runs a store under strace, which
// reports every fsync with the path of its descriptor. Skipped, saying so,
// where strace is not installed or not allowed (ptrace).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { fsyncedPaths, straceProblem } from '../helpers/strace.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'store', 'fixtures', 'dir-sync-writer.ts');

describe('directory fsync on create and rename', () => {
  const tempDir = useTempDirs('dir-fsync');

  it('fsyncs every directory that got a new ConsumeQueue or key-index entry', (ctx) => {
    const why = straceProblem();
    if (why !== undefined) {
      ctx.skip(why);
      return;
    }
    const root = fs.realpathSync(tempDir());
    const dir = path.join(root, 'store');
    const { stdout, stderr, synced } = fsyncedPaths(root, [process.execPath, '--import', 'tsx', FIXTURE, dir], REPO_ROOT);
    expect(stdout.trim(), stderr).toBe('done');
    const expected = [
      path.join(dir, 'consumequeue'),
      path.join(dir, 'consumequeue', 'dsync'),
      path.join(dir, 'consumequeue', 'dsync', '0'),
      path.join(dir, 'consumequeue', 'dsync', '1'),
      path.join(dir, 'index'),
    ];
    for (const d of expected) expect(synced.has(d), `fsync of directory ${d}`).toBe(true);
  });
});
