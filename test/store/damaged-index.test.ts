// Damaged indexes of a stopped store: one queue's ConsumeQueue file shortened,
// deleted or with garbage entries at its tail, or the key index deleted. The
// CommitLog is the truth: on reopen it is byte for byte what it was, every
// acknowledged message of every topic is readable (bodies checked), lookups by
// key work, and the damaged index is rebuilt from the log.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MessageStore, type MessageStoreConfig } from '../../src/store/index.js';
import { positionalBody, readQueue } from '../helpers/messages.js';
import { listFiles, useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const SEGMENT = 256 * 1024;
const MAX_BODY = 300;
const SEED = 4242;
const TOPICS = ['dmg_a', 'dmg_b'];
const QUEUES = 2;
const PER_TOPIC = 2000;
const BATCH = 10;
const ENTRIES_PER_FILE = 400;
const CQ_ENTRY = 20;

function config(dir: string): MessageStoreConfig {
  return {
    dir,
    flushMode: 'sync',
    segmentSize: SEGMENT,
    maxMessageSize: MAX_BODY,
    consumeQueueEntriesPerFile: ENTRIES_PER_FILE,
    indexSlotCount: 512,
    indexMaxEntries: 1500,
    preallocateSegments: false,
    // Checkpoints only when the test takes them: it decides where recovery starts verifying.
    checkpointIntervalMs: 3_600_000,
    retentionCheckIntervalMs: 0,
  };
}

const bodyAt = (t: string, q: number, o: number): Buffer => positionalBody(SEED, t, q, o, MAX_BODY);
const keyAt = (t: string, q: number, o: number): string => `${t}/${q}/${o}`;

type Layout = 'interleaved' | 'a-then-b';

/**
 * Writes PER_TOPIC messages to each topic (spread over its queues, keys on
 * every message) and stops the store cleanly. 'interleaved': the topics'
 * batches alternate, with a checkpoint half-way, so recovery re-verifies the
 * second half and the damaged queue has records on both sides of that point.
 * 'a-then-b': all of dmg_a, a checkpoint, all of dmg_b, a checkpoint: the
 * damaged queue has no record in the re-verified tail.
 */
async function writeStore(dir: string, layout: Layout): Promise<void> {
  const store = await MessageStore.open(config(dir));
  const next = new Map<string, number>();
  const put = async (t: string, q: number): Promise<void> => {
    const first = next.get(`${t}/${q}`) ?? 0;
    next.set(`${t}/${q}`, first + BATCH);
    await store.put(
      t,
      q,
      Array.from({ length: BATCH }, (_, i) => ({ body: bodyAt(t, q, first + i), keys: keyAt(t, q, first + i) })),
    );
  };
  for (const t of TOPICS) store.createTopic(t, QUEUES);
  const batches = PER_TOPIC / BATCH;
  if (layout === 'interleaved') {
    for (let b = 0; b < batches; b++) {
      for (const t of TOPICS) await put(t, b % QUEUES);
      if (b === batches / 2) {
        await waitDispatched(store);
        await store.checkpoint();
      }
    }
  } else {
    for (const t of TOPICS) {
      for (let b = 0; b < batches; b++) await put(t, b % QUEUES);
      await waitDispatched(store);
      await store.checkpoint();
    }
  }
  await waitDispatched(store);
  await store.checkpoint();
  await store.close();
}

/** SHA-256 of every CommitLog segment, by name. */
function logDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const logDir = path.join(dir, 'commitlog');
  for (const name of fs.readdirSync(logDir).sort()) {
    out.set(name, crypto.createHash('sha256').update(fs.readFileSync(path.join(logDir, name))).digest('hex'));
  }
  return out;
}

function queueFiles(dir: string, topic: string, queueId: number): string[] {
  const qdir = path.join(dir, 'consumequeue', topic, String(queueId));
  return fs.readdirSync(qdir).sort().map((n) => path.join(qdir, n));
}

type Damage =
  | 'shorten the last ConsumeQueue file to half'
  | 'cut the ConsumeQueue to a quarter of its entries'
  | 'delete the ConsumeQueue files'
  | 'delete the first ConsumeQueue file'
  | 'zero the last 50 entries'
  | 'overwrite the last 50 entries with garbage';

function damageQueue(dir: string, how: Damage): void {
  const files = queueFiles(dir, 'dmg_a', 0);
  expect(files.length).toBeGreaterThan(1);
  const last = files[files.length - 1]!;
  const size = fs.statSync(last).size;
  expect(size).toBeGreaterThan(100 * CQ_ENTRY);
  if (how === 'shorten the last ConsumeQueue file to half') {
    fs.truncateSync(last, Math.floor(size / 2 / CQ_ENTRY) * CQ_ENTRY);
  } else if (how === 'cut the ConsumeQueue to a quarter of its entries') {
    const keep = PER_TOPIC / QUEUES / 4;
    for (const f of files) {
      const base = Number(path.basename(f));
      if (base >= keep) fs.rmSync(f);
      else if (base + ENTRIES_PER_FILE > keep) fs.truncateSync(f, (keep - base) * CQ_ENTRY);
    }
  } else if (how === 'delete the ConsumeQueue files') {
    for (const f of files) fs.rmSync(f);
  } else if (how === 'delete the first ConsumeQueue file') {
    fs.rmSync(files[0]!);
  } else {
    const bytes = how === 'zero the last 50 entries' ? Buffer.alloc(50 * CQ_ENTRY) : crypto.randomBytes(50 * CQ_ENTRY);
    const fd = fs.openSync(last, 'r+');
    fs.writeSync(fd, bytes, 0, bytes.length, size - bytes.length);
    fs.closeSync(fd);
  }
}

function deleteKeyIndex(dir: string): void {
  const indexDir = path.join(dir, 'index');
  const files = fs.readdirSync(indexDir);
  expect(files.length).toBeGreaterThan(1);
  for (const f of files) fs.rmSync(path.join(indexDir, f));
}

/** Every message of every queue is there, in order, with its body, and found by its key. */
function expectEverything(store: MessageStore): void {
  for (const t of TOPICS) {
    for (let q = 0; q < QUEUES; q++) {
      const want = PER_TOPIC / QUEUES;
      expect(store.maxOffset(t, q), `${t}/${q} max offset`).toBe(want);
      const got = readQueue(store, t, q, 0);
      expect(got.length, `${t}/${q} readable messages`).toBe(want);
      got.forEach((m, i) => {
        if (m.queueOffset !== i || !m.body.equals(bodyAt(t, q, i))) throw new Error(`${t}/${q}@${i}: wrong message (offset ${m.queueOffset})`);
      });
      for (let o = 0; o < want; o += 37) {
        const found = store.queryByKey(t, keyAt(t, q, o));
        expect(found.map((m) => m.queueOffset), `key ${keyAt(t, q, o)}`).toEqual([o]);
      }
    }
  }
}

describe('damaged index of a stopped store', () => {
  const tempDir = useTempDirs('damaged-index');

  it.each<[Damage, Layout]>([
    ['shorten the last ConsumeQueue file to half', 'a-then-b'],
    ['cut the ConsumeQueue to a quarter of its entries', 'interleaved'],
    ['cut the ConsumeQueue to a quarter of its entries', 'a-then-b'],
    ['delete the ConsumeQueue files', 'interleaved'],
    ['delete the ConsumeQueue files', 'a-then-b'],
    ['delete the first ConsumeQueue file', 'interleaved'],
    ['delete the first ConsumeQueue file', 'a-then-b'],
    ['zero the last 50 entries', 'a-then-b'],
    ['zero the last 50 entries', 'interleaved'],
    ['overwrite the last 50 entries with garbage', 'a-then-b'],
    ['overwrite the last 50 entries with garbage', 'interleaved'],
  ])('%s (%s), key index deleted: the log is intact, every message readable, indexes rebuilt', async (how, layout) => {
    const dir = tempDir();
    await writeStore(dir, layout);
    const before = logDigest(dir);
    const cqBefore = fs.statSync(queueFiles(dir, 'dmg_a', 0).at(-1)!).size;
    damageQueue(dir, how);
    deleteKeyIndex(dir);

    const store = await MessageStore.open(config(dir));
    try {
      expect(store.stats().truncatedTail).toBe(false);
      expectEverything(store);
      // New messages continue each queue where its log left off.
      const r = await store.put('dmg_a', 0, [{ body: Buffer.from('after the repair'), keys: 'after' }]);
      expect(r.queueOffset).toBe(PER_TOPIC / QUEUES);
      await waitDispatched(store);
      expect(store.queryByKey('dmg_a', 'after').map((m) => m.queueOffset)).toEqual([PER_TOPIC / QUEUES]);
    } finally {
      await store.close();
    }
    // The CommitLog holds every record it held (plus the one message above, in its last segment).
    const after = logDigest(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const name of [...before.keys()].slice(0, -1)) expect(after.get(name), `segment ${name}`).toBe(before.get(name));
    // The ConsumeQueue was rebuilt on disk, not only in memory.
    expect(fs.statSync(queueFiles(dir, 'dmg_a', 0).at(-1)!).size).toBe(cqBefore + CQ_ENTRY);
    expect(listFiles(path.join(dir, 'index')).length).toBeGreaterThan(1);

    const again = await MessageStore.open(config(dir));
    try {
      expect(again.maxOffset('dmg_a', 0)).toBe(PER_TOPIC / QUEUES + 1);
      expect(again.queryByKey('dmg_a', keyAt('dmg_a', 0, 3)).map((m) => m.queueOffset)).toEqual([3]);
      expect(again.queryByKey('dmg_b', keyAt('dmg_b', 1, 999)).map((m) => m.queueOffset)).toEqual([999]);
    } finally {
      await again.close();
    }
  });

  it('a key index deleted alone is rebuilt: queries by key find every message', async () => {
    const dir = tempDir();
    await writeStore(dir, 'a-then-b');
    deleteKeyIndex(dir);
    const store = await MessageStore.open(config(dir));
    try {
      expectEverything(store);
    } finally {
      await store.close();
    }
  });
});
