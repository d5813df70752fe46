// Runs a command under strace and collects the paths of the descriptors it
// fsynced successfully: how tests check, on the real system calls, that a
// directory was fsynced. strace may be missing or ptrace forbidden: then
// straceProblem() says why and the test skips, saying so.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const TRACE_TIMEOUT_MS = 60_000;

/** Why strace cannot be used here, or undefined if it can. */
export function straceProblem(): string | undefined {
  const r = spawnSync('strace', ['-qq', '-e', 'trace=none', 'true'], { encoding: 'utf8' });
  if (r.error !== undefined) return `strace is not available: ${r.error.message}`;
  if (r.status !== 0) return `strace cannot trace here: ${r.stderr.trim().split('\n')[0]}`;
  return undefined;
}

/** Runs `command` (followed threads and children included) under strace; `workDir` holds the trace files. */
export function fsyncedPaths(workDir: string, command: readonly string[], cwd: string): { stdout: string; stderr: string; synced: Set<string> } {
  const prefix = 'strace-out';
  // -ff: one file per thread, so that calls of threads running at once are never split across lines.
  const r = spawnSync('strace', ['-f', '-ff', '-qq', '-y', '-e', 'trace=fsync', '-o', path.join(workDir, prefix), ...command], {
    cwd,
    encoding: 'utf8',
    timeout: TRACE_TIMEOUT_MS,
  });
  const synced = new Set<string>();
  for (const name of fs.readdirSync(workDir).filter((n) => n.startsWith(`${prefix}.`))) {
    // Lines like: fsync(23</tmp/x/consumequeue/t/0>) = 0
    for (const line of fs.readFileSync(path.join(workDir, name), 'utf8').split('\n')) {
      const m = /fsync\(\d+<([^>]*)>\)\s*=\s*0/.exec(line);
      if (m !== null) synced.add(m[1]!);
    }
  }
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', synced };
}
