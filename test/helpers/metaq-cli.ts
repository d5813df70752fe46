// `metaq` as users run it, for the end-to-end harness tests: the built
// command (dist/, which `npm test` builds first) as a child process, with
// its exit status, output and last line, and the summary.json it wrote.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './child.js';

export const MAIN = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  lastLine: string;
}

export function metaq(args: readonly string[], timeoutMs = 120_000): Promise<Outcome> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does)`);
  return node([MAIN, ...args], timeoutMs);
}

export function node(args: readonly string[], timeoutMs = 120_000): Promise<Outcome> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.trimEnd().split('\n');
      resolve({ code, stdout, stderr, lastLine: lines.at(-1) ?? '' });
    }),
  );
}

/** summary.json of a run directory, as the tests read it. */
export function readSummary<T>(dir: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as T;
}
