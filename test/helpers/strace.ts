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

/** Runs `command` (followed threads and children included) under strace; `workDir` holds the trace file. */
export function fsyncedPaths(workDir: string, command: readonly string[], cwd: string): { stdout: string; stderr: string; synced: Set<string> } {
  const trace = path.join(workDir, 'strace.txt');
  const r = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=fsync', '-o', trace, ...command], { cwd, encoding: 'utf8', timeout: TRACE_TIMEOUT_MS });
  const synced = new Set<string>();
  // Lines like: 1234  fsync(23</tmp/x/consumequeue/t/0>) = 0
  for (const line of fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n') : []) {
    const m = /fsync\(\d+<([^>]*)>\)\s*=\s*0/.exec(line);
    if (m !== null) synced.add(m[1]!);
  }
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', synced };
}
