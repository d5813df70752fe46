// DirectorySyncs against real directories: what mkdir -p created is noted level
// by level (with the parent that got the first new entry), syncAll fsyncs each
// and forgets it, a directory removed meanwhile is skipped, and a failing one
// stays noted and is reported.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectorySyncs } from './directory-syncs.js';
import { FdCache } from './fd-cache.js';

let root: string | undefined;
afterEach(() => {
  if (root !== undefined) fs.rmSync(root, { recursive: true, force: true });
});

describe('DirectorySyncs', () => {
  it('notes every level mkdir created and its parent, and fsyncs them all', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-dirsync-'));
    const syncs = new DirectorySyncs();
    const leaf = path.join(root, 'a', 'b', 'c');
    const first = fs.mkdirSync(leaf, { recursive: true })!;
    syncs.addCreated(first, leaf);
    expect(syncs.pending).toBe(4); // root (new entry a), a, b, c
    await syncs.syncAll();
    expect(syncs.synced).toBe(4);
    expect(syncs.pending).toBe(0);
  });

  it('skips a directory removed meanwhile; keeps and reports one that cannot be synced', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-dirsync-'));
    const syncs = new DirectorySyncs();
    syncs.add(path.join(root, 'gone'));
    await syncs.syncAll();
    expect(syncs.pending).toBe(0);
    // A path through a regular file cannot be opened (ENOTDIR, from the kernel): kept and reported.
    const file = path.join(root, 'file');
    fs.writeFileSync(file, 'x');
    syncs.add(path.join(file, 'sub'));
    await expect(syncs.syncAll()).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(syncs.pending).toBe(1);
  });

  it('FdCache reports the files it creates, not the ones it opens', () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-dirsync-'));
    const created: string[] = [];
    const cache = new FdCache(4, (p) => created.push(p));
    const existing = path.join(root, 'existing');
    fs.writeFileSync(existing, 'x');
    cache.get(existing);
    const fresh = path.join(root, 'fresh');
    cache.get(fresh);
    cache.close(fresh);
    cache.get(fresh); // exists now: not created again
    expect(created).toEqual([fresh]);
    cache.closeAll();
  });
});
