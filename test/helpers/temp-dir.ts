// Temporary directories for tests that use real files: created under the OS
// temp dir, removed after each test (or explicitly).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

export function makeTempDir(label = 'store'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `metaq-${label}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Registers an afterEach hook that removes every directory handed out by the
 * returned function during the test. Call at module or describe level.
 */
export function useTempDirs(label = 'store'): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return () => {
    const d = makeTempDir(label);
    dirs.push(d);
    return d;
  };
}

/** Lists every regular file under `dir`, as paths relative to it. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}
