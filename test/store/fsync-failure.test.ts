// A failed fdatasync is never retried into an acknowledgement (the
// "fsyncgate" lesson: after a failure the kernel may have dropped the dirty
// pages, so a later successful fdatasync proves nothing about them). The
// store makes it fail for real: the test closes, under the running store, the
// descriptor of the file the store is about to sync, so the kernel answers
// the store's own fdatasync (or fstat) with EBADF; no part of the store is
// replaced. Afterwards the number is taken by a scratch file, so any retried
// sync on it would succeed: what the store must not do is believe it.
// Checked: the sync-flush group commit, the async interval flusher and the
// checkpoint's ConsumeQueue syncs. Each time the pending puts fail, later
// writes are refused with METAQ_STORE_UNAVAILABLE (and stats say why), no
// checkpoint is written any more, and a reopen verifies the tail and takes
// writes again with every acknowledged message readable. Linux only (/proc/self/fd).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { offsetFileName } from '../../src/common/index.js';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { rejectionOf } from '../helpers/errors.js';
import { readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched, waitUntil } from '../helpers/wait.js';

const HAS_PROC_FD = fs.existsSync('/proc/self/fd');
const BATCH = 256; // one ConsumeQueue write-out per batch (the queue's tail is written at 256 entries)

function config(dir: string, flushMode: 'sync' | 'async'): MessageStoreConfig {
  return {
    dir,
    flushMode,
    flushIntervalMs: flushMode === 'async' ? 20 : 500,
    segmentSize: 1 << 20,
    maxMessageSize: 1024,
    preallocateSegments: false,
    checkpointIntervalMs: 3_600_000,
    retentionCheckIntervalMs: 0,
  };
}

/** The descriptor this process holds on `file`. */
function fdOf(file: string): number {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === file) return Number(name);
    } catch {
      // closed meanwhile
    }
  }
  throw new Error(`no descriptor open on ${file}`);
}

/** Takes a just-closed descriptor number with a scratch file, so that a retried sync on it would succeed. */
function takeOver(fd: number, dir: string): void {
  const scratch = fs.openSync(path.join(dir, 'scratch'), 'w+');
  expect(scratch, 'the scratch file got the closed descriptor number').toBe(fd);
}

const batch = (tag: string, n = BATCH): { body: Buffer }[] => Array.from({ length: n }, (_, i) => ({ body: Buffer.from(`${tag}-${i}`) }));

function checkpointBytes(dir: string): Buffer {
  return fs.readFileSync(path.join(dir, 'checkpoint'));
}

/** Reopens: the tail is verified, writes are taken again, and every acknowledged message is there. */
async function reopenAndCheck(dir: string, flushMode: 'sync' | 'async', acked: number): Promise<void> {
  const store = await MessageStore.open(config(dir, flushMode));
  try {
    expect(store.stats().unavailable).toBeUndefined();
    const got = readQueue(store, 't', 0, 0);
    expect(got.length).toBeGreaterThanOrEqual(acked);
    for (let i = 0; i < acked; i++) expect(got[i]!.body.toString()).toBe(`ok${Math.floor(i / BATCH)}-${i % BATCH}`);
    const r = await store.put('t', 0, batch('after-reopen', 1));
    expect(r.queueOffset).toBe(got.length);
  } finally {
    await store.close();
  }
}

describe.skipIf(!HAS_PROC_FD)('a failed fdatasync', () => {
  const tempDir = useTempDirs('fsync-failure');

  it('sync flush: the pending put fails, later writes are refused until reopen, no checkpoint vouches for anything', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir, 'sync'));
    store.createTopic('t', 1);
    for (let b = 0; b < 3; b++) await store.put('t', 0, batch(`ok${b}`));
    await waitDispatched(store);
    await store.checkpoint();
    const before = checkpointBytes(dir);
    const segment = path.join(dir, 'commitlog', offsetFileName(0));
    const fd = fdOf(segment);
    // Right after the next write reaches the page cache and before its group
    // commit runs: the segment's descriptor goes, the fdatasync gets EBADF.
    let armed = true;
    const off = store.replicaLog.onWritten(() => {
      if (!armed) return;
      armed = false;
      fs.closeSync(fd);
    });
    const failed = await rejectionOf(store.put('t', 0, batch('lost')));
    off();
    takeOver(fd, dir);
    expect(failed).toMatchObject({ code: 'METAQ_FLUSH_FAILED' });
    expect(store.stats().unavailable).toMatch(/^METAQ_FLUSH_FAILED/);
    // Refused from now on, with a typed error, although an fdatasync on that descriptor would now succeed.
    const refused = await rejectionOf(store.put('t', 0, batch('refused', 1)));
    expect(refused).toMatchObject({ code: 'METAQ_STORE_UNAVAILABLE' });
    expect((refused as Error).cause).toBe(failed);
    expect(store.stats().pendingPuts).toBe(0);
    expect(store.stats().flushedOffset).toBeLessThan(store.stats().writtenOffset);
    await store.checkpoint();
    expect(checkpointBytes(dir).equals(before), 'no checkpoint after the failure').toBe(true);
    await store.close();
    expect(checkpointBytes(dir).equals(before), 'no checkpoint at close either').toBe(true);
    await reopenAndCheck(dir, 'sync', 3 * BATCH);
  });

  it('async flush: a failure of the interval flusher makes the store refuse writes until reopen', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir, 'async'));
    store.createTopic('t', 1);
    for (let b = 0; b < 2; b++) await store.put('t', 0, batch(`ok${b}`));
    await waitUntil(() => store.stats().flushedOffset === store.stats().writtenOffset, 'the interval flush');
    const fd = fdOf(path.join(dir, 'commitlog', offsetFileName(0)));
    // Acknowledged into the page cache (async flush): the interval flush of it then fails.
    await store.put('t', 0, batch('ok2'));
    fs.closeSync(fd);
    await waitUntil(() => store.stats().unavailable !== undefined, 'the flusher to report the failure', 5000);
    takeOver(fd, dir);
    expect(store.stats().unavailable).toMatch(/^METAQ_FLUSH_FAILED/);
    expect(await rejectionOf(store.put('t', 0, batch('refused', 1)))).toMatchObject({ code: 'METAQ_STORE_UNAVAILABLE' });
    // Later cycles would succeed on the scratch file: none runs, the flushed offset stays.
    const flushed = store.stats().flushedOffset;
    await new Promise((r) => setTimeout(r, 100));
    expect(store.stats().flushedOffset).toBe(flushed);
    await store.close();
    await reopenAndCheck(dir, 'async', 3 * BATCH);
  });

  it("a checkpoint's fdatasync of a ConsumeQueue file fails: writes refused, no checkpoint written, not even on a retry", async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir, 'sync'));
    store.createTopic('t', 1);
    await store.put('t', 0, batch('ok0'));
    await waitDispatched(store);
    await store.checkpoint();
    const before = checkpointBytes(dir);
    // A full batch: the queue's entries are written to its file at once (and left for the checkpoint to sync).
    await store.put('t', 0, batch('ok1'));
    await waitDispatched(store);
    const cqFile = path.join(dir, 'consumequeue', 't', '0', offsetFileName(0));
    const fd = fdOf(cqFile);
    fs.closeSync(fd);
    const failed = await rejectionOf(store.checkpoint());
    takeOver(fd, dir);
    expect(failed).toMatchObject({ code: 'METAQ_FLUSH_FAILED' });
    expect(store.stats().unavailable).toMatch(/^METAQ_FLUSH_FAILED/);
    expect(await rejectionOf(store.put('t', 0, batch('refused', 1)))).toMatchObject({ code: 'METAQ_STORE_UNAVAILABLE' });
    // A retry would now sync the scratch file and succeed: it must not write a checkpoint.
    await store.checkpoint();
    expect(checkpointBytes(dir).equals(before), 'no checkpoint after the failure').toBe(true);
    await store.close();
    await reopenAndCheck(dir, 'sync', 2 * BATCH);
  });
});
