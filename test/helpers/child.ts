// Runs TypeScript fixtures as child processes (`node --import tsx file.ts`),
// optionally under a lowered open-file limit, with their stdout split into lines.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SpawnOptions {
  /** Soft and hard RLIMIT_NOFILE for the child (applied with prlimit(1)). */
  nofile?: number;
  env?: NodeJS.ProcessEnv;
  /** Called for every complete stdout line. */
  onLine?: (line: string) => void;
}

export interface RunningChild {
  child: ChildProcess;
  /** Complete stdout lines received so far. */
  lines: string[];
  stderr: () => string;
  /** Resolves when the child exits (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnTs(file: string, args: readonly string[], options: SpawnOptions = {}): RunningChild {
  const nodeArgs = ['--import', 'tsx', file, ...args];
  const child =
    options.nofile === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('prlimit', [`--nofile=${options.nofile}:${options.nofile}`, process.execPath, ...nodeArgs], {
          cwd: REPO_ROOT,
          env: options.env ?? process.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      options.onLine?.(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' (not 'exit'): all of stdout has been read by then. A trailing
    // partial line (a kill in the middle of a write) is dropped on purpose.
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, lines, stderr: () => err, exited };
}

/** Runs a fixture to completion; rejects if it does not finish within `timeoutMs`. */
export async function runTs(
  file: string,
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }> {
  const running = spawnTs(file, args, options);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.child.kill('SIGKILL');
      reject(new Error(`${path.basename(file)} did not finish within ${timeoutMs} ms; stderr:\n${running.stderr()}`));
    }, timeoutMs);
  });
  try {
    const { code, signal } = await Promise.race([running.exited, timeout]);
    return { code, signal, lines: running.lines, stderr: running.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers an afterEach that SIGKILLs every child started through the
 * returned function and still running (a test that fails midway leaves no
 * server behind); the function is spawnTs.
 */
export function useChildren(): (file: string, args: readonly string[], options?: SpawnOptions) => RunningChild {
  const running: RunningChild[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  });
  return (file, args, options) => {
    const r = spawnTs(file, args, options);
    running.push(r);
    return r;
  };
}
