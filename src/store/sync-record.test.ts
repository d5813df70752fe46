// The sync record's format: what the writer keeps reads back (log offset,
// index lengths relative to the store dir); a missing, short, torn or foreign
// file is a SyncRecordError, never a guess; an earlier run's valid record is
// kept at open and a broken one replaced by an empty one; and a store with the
// option on keeps it equal to its own durableImage().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncRecordError } from '../common/index.js';
import { MessageStore } from './message-store.js';
import { readSyncRecord, SyncRecord } from './sync-record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-syncrec-'));
  dirs.push(d);
  return d;
}

function expectInvalid(file: string, what: RegExp): void {
  try {
    readSyncRecord(file);
  } catch (err) {
    expect(err).toBeInstanceOf(SyncRecordError);
    expect((err as SyncRecordError).code).toBe('METAQ_SYNC_RECORD_INVALID');
    expect((err as Error).message).toMatch(what);
    return;
  }
  throw new Error(`${file} was read as a valid sync record`);
}

/** A record with a log offset and two files, as a store in `store` would write it. */
async function writeSample(file: string, store: string): Promise<void> {
  const r = SyncRecord.open(file, store);
  r.logDurable(1);
  const files = r.filesDurable([
    [path.join(store, 'consumequeue', 'orders', '0', '00000000000000000000'), 4000],
    [path.join(store, 'index', '00000000000000000000'), 99],
  ]);
  // A flush cycle completing while the new record is being written: its offset is in the new record.
  r.logDurable(123_456_789_012);
  await files;
  r.close();
}

describe('sync record', () => {
  it('reads back the log offset and the file lengths, relative to the store dir', async () => {
    const d = tempDir();
    const file = path.join(d, 'rec');
    await writeSample(file, path.join(d, 'store'));
    const image = readSyncRecord(file);
    expect(image.logOffset).toBe(123_456_789_012);
    expect([...image.files]).toEqual([
      [path.join('consumequeue', 'orders', '0', '00000000000000000000'), 4000],
      [path.join('index', '00000000000000000000'), 99],
    ]);
    // The log slot is rewritten in place and keeps the file part; the synchronous variant writes the same.
    const r = SyncRecord.open(file, path.join(d, 'store'));
    r.logDurable(7);
    expect(readSyncRecord(file).logOffset).toBe(7);
    expect(readSyncRecord(file).files.size).toBe(2);
    r.filesDurableSync([[path.join(d, 'store', 'index', '00000000000000000000'), 5]]);
    r.logDurable(8);
    r.close();
    expect(readSyncRecord(file)).toEqual({ logOffset: 8, files: new Map([[path.join('index', '00000000000000000000'), 5]]) });
  });

  it('a missing file is a SyncRecordError', () => {
    expectInvalid(path.join(tempDir(), 'none'), /cannot be read/);
  });

  it('a short, torn or foreign file is a SyncRecordError', async () => {
    const d = tempDir();
    const file = path.join(d, 'rec');
    await writeSample(file, path.join(d, 'store'));
    const good = fs.readFileSync(file);

    fs.writeFileSync(file, good.subarray(0, 20));
    expectInvalid(file, /too short/);
    fs.writeFileSync(file, good.subarray(0, good.length - 3));
    expectInvalid(file, /CRC/);

    const slot = Buffer.from(good);
    slot[18] = slot[18]! ^ 0x40; // the log offset, half rewritten
    fs.writeFileSync(file, slot);
    expectInvalid(file, /CommitLog offset fails its CRC/);

    const files = Buffer.from(good);
    files[40] = files[40]! ^ 1;
    fs.writeFileSync(file, files);
    expectInvalid(file, /file lengths fail their CRC/);

    const foreign = Buffer.from(good);
    foreign.write('XXXX', 0, 'latin1');
    fs.writeFileSync(file, foreign);
    expectInvalid(file, /bad magic/);

    fs.writeFileSync(file, good);
    expect(readSyncRecord(file).logOffset).toBe(123_456_789_012);
  });

  it('open keeps an earlier valid record and replaces a broken one with an empty one', async () => {
    const d = tempDir();
    const file = path.join(d, 'rec');
    await writeSample(file, path.join(d, 'store'));
    SyncRecord.open(file, path.join(d, 'store')).close();
    expect(readSyncRecord(file).logOffset).toBe(123_456_789_012);

    fs.writeFileSync(file, 'garbage');
    SyncRecord.open(file, path.join(d, 'store')).close();
    const image = readSyncRecord(file);
    expect(image.logOffset).toBe(0);
    expect(image.files.size).toBe(0);
  });

  it('a store with syncRecordFile keeps the record equal to its durableImage()', async () => {
    const d = tempDir();
    const file = path.join(d, 'master.sync-record');
    const store = await MessageStore.open({ dir: path.join(d, 'store'), flushMode: 'sync', segmentSize: 1 << 20, maxMessageSize: 1024, checkpointIntervalMs: 60_000, syncRecordFile: file });
    try {
      store.createTopic('t', 2);
      for (let i = 0; i < 5; i++) await store.put('t', i % 2, [{ body: Buffer.from(`m${i}`), keys: `k${i}` }]);
      expect(readSyncRecord(file).logOffset).toBe(store.stats().flushedOffset);
      expect(store.stats().flushedOffset).toBeGreaterThan(0);
      await store.checkpoint();
      const image = store.durableImage();
      expect(image.files.size).toBeGreaterThan(0);
      expect(readSyncRecord(file)).toEqual(image);
    } finally {
      await store.close();
    }
    // Reopened: recovery syncs and records the recovered end and every index file (an earlier run wrote them).
    const again = await MessageStore.open({ dir: path.join(d, 'store'), flushMode: 'sync', segmentSize: 1 << 20, maxMessageSize: 1024, syncRecordFile: file });
    try {
      const image = readSyncRecord(file);
      expect(image.logOffset).toBe(again.stats().writtenOffset);
      const queueFiles = fs.readdirSync(path.join(d, 'store', 'consumequeue', 't'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(queueFiles.length).toBe(2);
      for (const e of queueFiles) {
        const rel = path.relative(path.join(d, 'store'), path.join(e.parentPath, e.name));
        expect(image.files.get(rel), rel).toBe(fs.statSync(path.join(e.parentPath, e.name)).size);
      }
    } finally {
      await again.close();
    }
  });
});
