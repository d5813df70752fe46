// 10,000 queues (100 topics x 100 queues) under a 256 open-file limit: a child process writes,
// reads back, reopens and verifies them all with a 64-descriptor ConsumeQueue cache.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTs } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';

/** Room for the child under a loaded CI machine: it ran past 25 s beside the other test files. */
const CHILD_TIMEOUT_MS = 90_000;
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'many-queues.ts');

describe('10,000 queues with a low open-file limit', () => {
  const tempDir = useTempDirs('manyqueues');

  it('writes, reads back, reopens and verifies every queue under RLIMIT_NOFILE=256', async () => {
    const dir = tempDir();
    // ~24-31 s alone on a slow 2-core machine (the code before the directory fsyncs too).
    const run = await runTs(FIXTURE, [dir], { nofile: 256, timeoutMs: CHILD_TIMEOUT_MS });
    expect(run.code, `child failed:\n${run.stderr}`).toBe(0);
    const result = JSON.parse(run.lines.at(-1)!) as Record<string, unknown>;
    console.log(`many queues: ${JSON.stringify(result)}`);
    // The limit is real in the child: 300 more files cannot be opened.
    expect(result.softLimit).toBe(256);
    expect(result.emfileCode).toBe('EMFILE');
    expect(result.probeOpened).toBeLessThan(256);
    // Every queue, every message, before and after the reopen.
    expect(result.queues).toBe(10_000);
    expect(result.topicsAfterReopen).toBe(100);
    expect(result.verifiedBefore).toBe(50_000);
    expect(result.verifiedAfter).toBe(50_000);
    expect(result.grown).toBe(true);
    // The ConsumeQueue descriptor cache stayed within its bound.
    expect(result.maxOpenQueueFiles).toBeLessThanOrEqual(64);
    expect(result.maxOpenQueueFiles).toBeGreaterThan(0);
  }, CHILD_TIMEOUT_MS + 10_000);
});
