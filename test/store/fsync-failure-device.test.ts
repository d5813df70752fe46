// A failed fdatasync from a real block device. The store runs on ext4 on a
// loop device whose backing file sits on a small tmpfs; filling the tmpfs
// makes the loop device's writes fail, so ext4's writeback fails and the
// store's fdatasync returns an error (ENOSPC or EIO) while the pages are
// marked clean: the next fdatasync succeeds although the data never reached
// the device (the PostgreSQL "fsyncgate" case; the kernel logs "potential
// data loss"). The store must fail the pending put, refuse writes from then
// on (even once space is back and fdatasync would succeed), write no more
// checkpoints, and after a reopen serve every acknowledged message and take
// writes again. Needs root (mount, losetup); skipped with the reason otherwise.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { readQueue } from '../helpers/messages.js';
import { sleep, waitDispatched } from '../helpers/wait.js';

const TMPFS_SIZE = '48m';
const BACKING_SIZE = 256 << 20;
const BATCH = 64;
const BODY = 1000;

let root = '';
let loop = '';
let fsDir = '';
let setupError = '';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }).trim();
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-eio-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', root]);
    const backing = path.join(root, 'backing');
    fs.closeSync(fs.openSync(backing, 'w'));
    fs.truncateSync(backing, BACKING_SIZE);
    loop = run('losetup', ['-f', '--show', backing]);
    // Journal and inode tables written now: later, only file data needs new backing pages.
    run('mkfs.ext4', ['-q', '-E', 'lazy_itable_init=0,lazy_journal_init=0', loop]);
    fsDir = path.join(root, 'fs');
    fs.mkdirSync(fsDir);
    run('mount', [loop, fsDir]);
  } catch (err) {
    setupError = String((err as Error).message).split('\n')[0]!;
  }
}, 60_000);

afterAll(() => {
  const quiet = (cmd: string, args: string[]): void => {
    try {
      run(cmd, args);
    } catch {
      // not set up that far
    }
  };
  if (fsDir !== '') quiet('umount', [fsDir]);
  if (loop !== '') quiet('losetup', ['-d', loop]);
  quiet('umount', [root]);
  fs.rmSync(root, { recursive: true, force: true });
});

function config(dir: string): MessageStoreConfig {
  return {
    dir,
    flushMode: 'sync',
    segmentSize: 8 << 20,
    maxMessageSize: 1024,
    preallocateSegments: false,
    checkpointIntervalMs: 3_600_000,
    retentionCheckIntervalMs: 0,
    diskHighWaterRatio: 1,
  };
}

const batch = (b: number, n = BATCH): { body: Buffer }[] => Array.from({ length: n }, (_, i) => ({ body: Buffer.alloc(BODY, (b * BATCH + i) & 0xff) }));
/** Messages in the put that meets the full device: megabytes of new blocks, so its writeback surely fails. */
const BIG_BATCH = 2048;

/** Fills the tmpfs holding the loop device's backing file: the device's next writes to new pages fail. */
function fillBacking(): string {
  const filler = path.join(root, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe('fdatasync failing on a real device', () => {
  it('sync flush: the put fails, writes stay refused after space is back, reopen serves every acknowledged message', async (ctx) => {
    if (setupError !== '') {
      ctx.skip(`cannot set up a loop device here (needs root): ${setupError}`);
      return;
    }
    const dir = path.join(fsDir, 'store');
    const store = await MessageStore.open(config(dir));
    let filler: string | undefined;
    const acked = 5;
    let checkpointBefore: Buffer;
    try {
      store.createTopic('t', 1);
      for (let b = 0; b < acked; b++) await store.put('t', 0, batch(b));
      await waitDispatched(store);
      await store.checkpoint();
      checkpointBefore = fs.readFileSync(path.join(dir, 'checkpoint'));

      filler = fillBacking();
      const failed = await rejectionOf(store.put('t', 0, batch(acked, BIG_BATCH)));
      expect(failed).toMatchObject({ code: 'METAQ_FLUSH_FAILED' });
      expect(['EIO', 'ENOSPC']).toContain(((failed as Error).cause as NodeJS.ErrnoException).code);
      expect(store.stats().unavailable).toMatch(/^METAQ_FLUSH_FAILED/);

      // Space is back: an fdatasync would now succeed, and prove nothing about the lost pages.
      fs.rmSync(filler);
      filler = undefined;
      const refused = await rejectionOf(store.put('t', 0, batch(acked + 1)));
      expect(refused).toMatchObject({ code: 'METAQ_STORE_UNAVAILABLE' });
      const { flushedOffset } = store.stats();
      await sleep(50);
      expect(store.stats().flushedOffset).toBe(flushedOffset);
      await store.checkpoint();
    } finally {
      if (filler !== undefined) fs.rmSync(filler);
      await store.close();
    }
    expect(fs.readFileSync(path.join(dir, 'checkpoint')).equals(checkpointBefore), 'no checkpoint after the failure').toBe(true);

    const reopened = await MessageStore.open(config(dir));
    try {
      expect(reopened.stats().unavailable).toBeUndefined();
      const got = readQueue(reopened, 't', 0, 0);
      expect(got.length).toBeGreaterThanOrEqual(acked * BATCH);
      for (let i = 0; i < acked * BATCH; i++) {
        if (!got[i]!.body.equals(Buffer.alloc(BODY, i & 0xff))) throw new Error(`acknowledged message ${i} differs after the reopen`);
      }
      const r = await reopened.put('t', 0, batch(99));
      expect(r.queueOffset).toBe(got.length);
    } finally {
      await reopened.close();
    }
  });
});
