// Torn tail: after an unclean stop, a last record that is corrupt (CRC) or cut short is
// dropped by recovery (never delivered, not counted in maxOffset) and writing resumes there.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { offsetFileName } from '../../src/common/index.js';
import { MessageStore, type MessageStoreConfig, type PutResult } from '../../src/store/index.js';
import { OFF_BODY, OFF_BODY_LENGTH } from '../../src/message/index.js';
import { positionalBody, readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const SEGMENT = 128 * 1024;
const MAX_BODY = 4096;
const SEED = 77;
const TOPICS = ['torn_a', 'torn_b'];
const QUEUES = 3;

function config(dir: string): MessageStoreConfig {
  return {
    dir,
    flushMode: 'sync',
    segmentSize: SEGMENT,
    maxMessageSize: MAX_BODY,
    consumeQueueEntriesPerFile: 64,
    indexSlotCount: 256,
    indexMaxEntries: 1024,
    // No periodic checkpoint: the last one is the one taken at open, so the
    // whole log is "after the checkpoint", as after a crash.
    checkpointIntervalMs: 3_600_000,
  };
}

const bodyAt = (t: string, q: number, o: number): Buffer => positionalBody(SEED, t, q, o, MAX_BODY);
const keyAt = (t: string, q: number, o: number): string => `${t}/${q}#${o}`;

/**
 * Writes ~40 batches over every queue, the last one (5 messages) to torn_b/1,
 * then leaves behind the directory as a process kill would (byte image taken
 * while the store is open and the lock held), and closes the original.
 * Returns the crashed directory and the last batch's PutResult.
 */
async function writeAndCrash(tempDir: () => string): Promise<{ dir: string; last: PutResult }> {
  const live = tempDir();
  const store = await MessageStore.open(config(live));
  const next = new Map<string, number>();
  const put = (t: string, q: number, n: number): Promise<PutResult> => {
    const first = next.get(`${t}/${q}`) ?? 0;
    next.set(`${t}/${q}`, first + n);
    return store.put(
      t,
      q,
      Array.from({ length: n }, (_, i) => ({ body: bodyAt(t, q, first + i), keys: keyAt(t, q, first + i) })),
    );
  };
  for (const t of TOPICS) store.createTopic(t, QUEUES);
  for (let i = 0; i < 40; i++) await put(TOPICS[i % 2]!, i % QUEUES, 1 + (i % 9));
  // The last batch: its body must be non-empty for the CRC case.
  let last = await put('torn_b', 1, 5);
  while (bodyAt('torn_b', 1, last.queueOffset + 4).length < 16) last = await put('torn_b', 1, 5);
  await waitDispatched(store);
  expect(store.stats().segments).toBeGreaterThan(1);

  const dir = tempDir();
  fs.cpSync(live, dir, { recursive: true });
  await store.close();
  return { dir, last };
}

function segmentPath(dir: string, physical: number): string {
  return path.join(dir, 'commitlog', offsetFileName(Math.floor(physical / SEGMENT) * SEGMENT));
}

/** Reads the record header of the record at `physical`: its size and body length. */
function recordShape(dir: string, physical: number): { file: string; pos: number; size: number; bodyLength: number } {
  const file = segmentPath(dir, physical);
  const pos = physical % SEGMENT;
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(OFF_BODY);
    fs.readSync(fd, head, 0, OFF_BODY, pos);
    return { file, pos, size: head.readUInt32BE(0), bodyLength: head.readUInt32BE(OFF_BODY_LENGTH) };
  } finally {
    fs.closeSync(fd);
  }
}

function patch(file: string, pos: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, pos);
  } finally {
    fs.closeSync(fd);
  }
}

type Damage = 'flip a body byte (CRC mismatch)' | 'zero the last bytes' | 'truncate the file inside it';

function damage(dir: string, physical: number, how: Damage): void {
  const r = recordShape(dir, physical);
  expect(r.size).toBeGreaterThan(OFF_BODY);
  if (how === 'flip a body byte (CRC mismatch)') {
    const at = r.pos + OFF_BODY + Math.floor(r.bodyLength / 2);
    const fd = fs.openSync(r.file, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0x40;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
  } else if (how === 'zero the last bytes') {
    const cut = Math.min(12, r.size - OFF_BODY);
    patch(r.file, r.pos + r.size - cut, Buffer.alloc(cut));
  } else {
    // The segment file ends in the middle of the record (reopening re-extends it with zeros).
    fs.truncateSync(r.file, r.pos + Math.floor(r.size / 2));
  }
}

describe('torn tail after an unclean stop', () => {
  const tempDir = useTempDirs('torn');

  it.each<[Damage, number]>([
    ['flip a body byte (CRC mismatch)', 4],
    ['zero the last bytes', 4],
    ['truncate the file inside it', 4],
    // A tear inside the last batch: the records after it go too, the ones before stay.
    ['flip a body byte (CRC mismatch)', 2],
  ])('%s of record %i of the last batch: dropped, earlier records intact, next put continues', async (how, index) => {
    const { dir, last } = await writeAndCrash(tempDir);
    const badPhysical = last.physicalOffsets[index]!;
    const badOffset = last.queueOffset + index;
    damage(dir, badPhysical, how);

    // What every queue must hold: everything but torn_b/1 from badOffset on.
    const store = await MessageStore.open(config(dir));
    try {
      const s = store.stats();
      expect(s.recovered).toBe(true);
      expect(s.truncatedTail).toBe(true);
      expect(s.appendOffset).toBe(badPhysical);

      expect(store.maxOffset('torn_b', 1)).toBe(badOffset);
      const g = store.getMessages('torn_b', 1, badOffset, 32, 1 << 20);
      expect(g.status).toBe('NO_NEW_MESSAGE');
      expect(g.count).toBe(0);
      expect(store.getMessages('torn_b', 1, badOffset + 1, 32, 1 << 20).status).toBe('OFFSET_OVERFLOW');
      expect(store.getMessageByOffset(badPhysical)).toBeUndefined();
      for (let o = badOffset; o < last.queueOffset + last.count; o++) expect(store.queryByKey('torn_b', keyAt('torn_b', 1, o))).toEqual([]);

      for (const t of TOPICS) {
        for (let q = 0; q < QUEUES; q++) {
          const got = readQueue(store, t, q, 0);
          expect(got.length).toBe(store.maxOffset(t, q));
          for (const m of got) {
            if (!m.body.equals(bodyAt(t, q, m.queueOffset))) throw new Error(`${t}/${q}@${m.queueOffset}: body differs`);
            expect(m.keys).toEqual([keyAt(t, q, m.queueOffset)]);
          }
        }
      }
      // The records before the tear in the last batch are still there.
      for (let i = 0; i < index; i++) {
        const m = store.getMessageByOffset(last.physicalOffsets[i]!);
        expect(m?.queueOffset).toBe(last.queueOffset + i);
        expect(m?.body.equals(bodyAt('torn_b', 1, last.queueOffset + i))).toBe(true);
      }

      // The next put takes the freed queue offset and log position.
      const fresh = Buffer.from('written after recovery');
      const r = await store.put('torn_b', 1, [{ body: fresh, keys: 'after-recovery' }]);
      expect(r.queueOffset).toBe(badOffset);
      expect(r.physicalOffsets[0]).toBe(badPhysical);
      await waitDispatched(store);
      const after = readQueue(store, 'torn_b', 1, badOffset);
      expect(after).toHaveLength(1);
      expect(after[0]!.body.equals(fresh)).toBe(true);
      expect(store.queryByKey('torn_b', 'after-recovery').map((m) => m.queueOffset)).toEqual([badOffset]);
    } finally {
      await store.close();
    }

    // A clean reopen keeps it all as it is.
    const again = await MessageStore.open(config(dir));
    try {
      expect(again.stats().recovered).toBe(false);
      expect(again.stats().truncatedTail).toBe(false);
      expect(again.maxOffset('torn_b', 1)).toBe(badOffset + 1);
      expect(readQueue(again, 'torn_b', 1, badOffset)[0]!.body.toString()).toBe('written after recovery');
    } finally {
      await again.close();
    }
  });
});

describe('torn tail after a clean stop', () => {
  const tempDir = useTempDirs('torn-clean');

  it('a last record damaged while the store was closed is found and cut at the next open', async () => {
    const dir = tempDir();
    const store = await MessageStore.open(config(dir));
    store.createTopic('torn_a', 1);
    const body = (o: number): Buffer => Buffer.alloc(100 + (o % 7), o & 0xff);
    let first = 0;
    const put = async (n: number): Promise<PutResult> => {
      const r = await store.put('torn_a', 0, Array.from({ length: n }, (_, i) => ({ body: body(first + i) })));
      first += n;
      return r;
    };
    for (let i = 0; i < 20; i++) await put(10);
    await waitDispatched(store);
    await store.checkpoint(); // an older safe point: verification starts after it
    for (let i = 0; i < 20; i++) await put(10);
    const last = await put(3);
    await store.close();

    damage(dir, last.physicalOffsets[2]!, 'flip a body byte (CRC mismatch)');
    const reopened = await MessageStore.open(config(dir));
    try {
      expect(reopened.stats().recovered).toBe(false);
      expect(reopened.stats().truncatedTail).toBe(true);
      expect(reopened.maxOffset('torn_a', 0)).toBe(last.queueOffset + 2);
      const got = readQueue(reopened, 'torn_a', 0, 0);
      expect(got).toHaveLength(last.queueOffset + 2);
      for (const m of got) expect(m.body.equals(body(m.queueOffset))).toBe(true);
    } finally {
      await reopened.close();
    }
  });
});
