// A really full disk: the store runs on a small tmpfs that fills up. A put
// that cannot be written fails with a typed error and is not acknowledged,
// what was acknowledged before stays readable, and once space is freed the
// store goes on with no gap in queue offsets. Needs root (mount); skipped
// with a reason where mounting is not allowed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecords, MessageStore } from '../../src/index.js';

const MOUNT_SIZE = '3m';
let mountPoint: string;
let mounted = false;
let mountError = '';

beforeAll(() => {
  mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    mountError = String((err as Error).message).split('\n')[0]!;
  }
});

afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

describe('full disk (ENOSPC)', () => {
  it('rejects what it cannot write, keeps what it acknowledged, resumes without gaps', async (ctx) => {
    if (!mounted) {
      ctx.skip(`cannot mount a tmpfs here: ${mountError}`);
      return;
    }
    const dir = path.join(mountPoint, 'store');
    const store = await MessageStore.open({
      dir,
      flushMode: 'async',
      segmentSize: 1 << 20,
      maxMessageSize: 4096,
      preallocateSegments: false,
      diskHighWaterRatio: 1, // let the disk really fill up
      retentionCheckIntervalMs: 0,
    });
    store.createTopic('fill', 1);
    // Leave ~1 MiB free, then keep writing past it.
    const filler = path.join(mountPoint, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(2 << 20));
    const body = Buffer.alloc(2000, 7);
    const batch = Array.from({ length: 8 }, () => ({ body }));
    let acked = 0;
    let failure: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 400 && failure === undefined; i++) {
      try {
        const r = await store.put('fill', 0, batch);
        expect(r.queueOffset).toBe(acked);
        acked += r.count;
      } catch (err) {
        failure = err as Error & { code?: string };
      }
    }
    expect(failure, 'the disk never filled up').toBeDefined();
    expect(failure!.code).toBe('METAQ_STORE_WRITE_FAILED');
    expect((failure!.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');

    // Free space; the next put gets the next queue offset: nothing skipped.
    fs.rmSync(filler);
    const next = await store.put('fill', 0, batch);
    expect(next.queueOffset).toBe(acked);
    acked += next.count;

    // Everything acknowledged is readable, in order, and nothing else.
    await new Promise((r) => setTimeout(r, 150)); // the dispatcher may be retrying after ENOSPC
    let offset = 0;
    const seen: number[] = [];
    for (;;) {
      const r = store.getMessages('fill', 0, offset, 64, 1 << 20);
      if (r.status !== 'FOUND') break;
      for (const m of decodeRecords(r.records)) {
        expect(m.body.equals(body)).toBe(true);
        seen.push(m.queueOffset);
      }
      offset = r.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: acked }, (_, i) => i));
    await store.close();

    const reopened = await MessageStore.open({ dir, segmentSize: 1 << 20, maxMessageSize: 4096, preallocateSegments: false, diskHighWaterRatio: 1 });
    expect(reopened.maxOffset('fill', 0)).toBe(acked);
    await reopened.close();
  });
});
