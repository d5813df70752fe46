// Store-level replication: a replica built from readLog/appendReplicated holds
// the same queues as its source, also across a segment end where the writer
// rolled with fewer than 8 bytes left (no room for a blank marker); and a
// replica that fell behind the source's retention re-syncs: its log reset to
// the source's oldest kept offset, every queue going on at the source's queue
// offset there, also after a reopen; and a replica's newest record
// signatures (what a slave's handshake compares) reach the end of its log
// even where it has not indexed it (past what its master said is durable);
// and what appendReplicated checks: a chunk's CRC (HA_DATA) or, without one,
// each record's (HA_CATCH_UP), and each record's framing and position either
// way; a refused chunk appends nothing.
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CorruptStoreError, InvalidMessageError } from '../../src/common/index.js';
import { OFF_BODY, OFF_PHYSICAL_OFFSET } from '../../src/message/index.js';
import { MessageStore } from '../../src/store/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched, waitUntil } from '../helpers/wait.js';

const SEGMENT = 128 * 1024;
/** A time at which every segment has expired under the default retention (72 h). */
const LONG_AFTER_MS = 100 * 3_600_000;
const config = (dir: string) => ({ dir, segmentSize: SEGMENT, maxMessageSize: 1024, preallocateSegments: false });

describe('replica store', () => {
  const tempDir = useTempDirs('replica');

  it('copies the log across a segment end that has no blank marker', async () => {
    const source = await MessageStore.open(config(tempDir()));
    const replica = await MessageStore.open(config(tempDir()));
    try {
      source.createTopic('T', 1);
      // 744 records of 176 bytes, then one of 123: 5 bytes left in the first segment.
      for (let i = 0; i < 744; i += 124) await source.put('T', 0, Array.from({ length: 124 }, () => ({ body: Buffer.alloc(100, 1) })));
      const r = await source.put('T', 0, [{ body: Buffer.alloc(47, 2) }]);
      expect(SEGMENT - r.endOffset).toBe(5);
      await source.put('T', 0, Array.from({ length: 10 }, (_, i) => ({ body: Buffer.alloc(60, 3 + i) })));
      expect(source.writtenOffset).toBeGreaterThan(SEGMENT);

      let offset = replica.writtenOffset;
      for (;;) {
        const chunk = source.replicaLog.readLog(offset, 4096);
        if (chunk === undefined) break;
        // As HA_DATA carries it: with the chunk's CRC.
        await replica.replicaLog.appendReplicated(chunk.offset, chunk.bytes, crc32(chunk.bytes));
        offset = chunk.nextOffset;
      }
      expect(replica.writtenOffset).toBe(source.writtenOffset);
      await waitDispatched(source);
      await waitDispatched(replica);
      const a = source.getMessages('T', 0, 0, 4096, 1 << 22);
      const b = replica.getMessages('T', 0, 0, 4096, 1 << 22);
      expect(b.count).toBe(755);
      expect(b.records.equals(a.records)).toBe(true);
    } finally {
      await source.close();
      await replica.close();
    }
  });

  it('re-syncs a replica that fell behind retention, and reopens it the same', async () => {
    const sourceDir = tempDir();
    const replicaDir = tempDir();
    const source = await MessageStore.open(config(sourceDir));
    let replica = await MessageStore.open(config(replicaDir));
    const copy = async (): Promise<void> => {
      let offset = replica.writtenOffset;
      for (;;) {
        const chunk = source.replicaLog.readLog(offset, 4096);
        if (chunk === undefined) break;
        await replica.replicaLog.appendReplicated(chunk.offset, chunk.bytes);
        offset = chunk.nextOffset;
      }
    };
    const put = async (n: number, fill: number): Promise<void> => {
      for (let i = 0; i < n; i++) await source.put(i % 3 === 0 ? 'A' : 'B', i % 2, [{ body: Buffer.alloc(200 + (i % 50), fill + (i % 7)) }]);
    };
    try {
      source.createTopic('A', 2);
      source.createTopic('B', 2);
      await put(300, 1);
      await copy();
      const replicaEnd = replica.writtenOffset;
      // The source writes on over several segments and retention deletes what the replica has not got yet.
      await put(2500, 20);
      await waitDispatched(source);
      await waitUntil(() => source.stats().flushedOffset === source.writtenOffset, 'the source to flush', 5000, 10);
      source.deleteExpiredSegments(Date.now() + LONG_AFTER_MS);
      const min = source.stats().minOffset;
      expect(min).toBeGreaterThan(replicaEnd);
      expect(() => source.replicaLog.readLog(replicaEnd, 4096)).toThrow(/below the oldest kept/);

      await replica.replicaLog.resetLog(min, source.replicaLog.queueStarts(min));
      expect(replica.stats().minOffset).toBe(min);
      expect(replica.writtenOffset).toBe(min);
      await copy();
      await waitDispatched(source);
      await waitDispatched(replica);
      const check = (r: MessageStore, what: string): void => {
        for (const [topic, q] of [['A', 0], ['A', 1], ['B', 0], ['B', 1]] as const) {
          const from = source.minOffset(topic, q);
          expect(r.maxOffset(topic, q), `${what} ${topic}/${q}: end`).toBe(source.maxOffset(topic, q));
          const a = source.getMessages(topic, q, from, 4096, 1 << 22);
          const b = r.getMessages(topic, q, Math.max(from, r.minOffset(topic, q)), 4096, 1 << 22);
          expect(a.count, `${what} ${topic}/${q}: messages`).toBeGreaterThan(0);
          expect(b.count, `${what} ${topic}/${q}: messages`).toBe(a.count);
          expect(b.records.equals(a.records), `${what} ${topic}/${q}: records`).toBe(true);
        }
      };
      check(replica, 'after the reset');
      // More writes replicate on top; a reopen finds the same log and queues.
      await put(200, 40);
      await copy();
      await replica.close();
      replica = await MessageStore.open(config(replicaDir));
      await waitDispatched(source);
      await waitDispatched(replica);
      expect(replica.stats().minOffset).toBe(min);
      check(replica, 'after a reopen');
    } finally {
      await source.close();
      await replica.close();
    }
  });

  it('gives the newest record signatures of the whole log, also past what is indexed', async () => {
    const source = await MessageStore.open(config(tempDir()));
    const replica = await MessageStore.open(config(tempDir()));
    try {
      source.createTopic('A', 2);
      source.createTopic('B', 3);
      const ends: number[] = [];
      // Over a segment end (a blank marker), in batches on five queues.
      for (let i = 0; i < 300; i++) {
        const r = await source.put(i % 2 === 0 ? 'A' : 'B', i % 2 === 0 ? (i >> 1) % 2 : i % 3, Array.from({ length: 1 + (i % 4) }, (_, j) => ({ body: Buffer.alloc(200 + ((i + j) % 90), i % 251) })));
        ends.push(r.endOffset);
      }
      expect(source.writtenOffset).toBeGreaterThan(SEGMENT);
      await waitDispatched(source);
      // The replica indexes nothing past `cap` (a slave whose master said "durable" up to there).
      const cap = ends[120]!;
      expect(cap, 'what is not indexed crosses the segment end').toBeLessThan(SEGMENT);
      replica.replicaLog.setVisibilityLimit(cap);
      let offset = replica.writtenOffset;
      for (;;) {
        const chunk = source.replicaLog.readLog(offset, 8192);
        if (chunk === undefined) break;
        await replica.replicaLog.appendReplicated(chunk.offset, chunk.bytes);
        offset = chunk.nextOffset;
      }
      await waitUntil(() => replica.stats().dispatchedOffset === cap, 'the replica to index up to its cap', 5000, 5);
      expect(replica.writtenOffset).toBe(source.writtenOffset);
      for (const max of [1, 5, 64, 400]) {
        const want = source.replicaLog.lastRecordSignatures(max);
        const got = replica.replicaLog.lastRecordSignatures(max);
        expect(want.length).toBe(max);
        expect(want.at(-1)!.offset + want.at(-1)!.size, 'the newest record ends the log').toBe(source.writtenOffset);
        expect(got, `newest ${max} records`).toEqual(want);
      }
      // Indexed everywhere, the same again.
      replica.replicaLog.setVisibilityLimit(undefined);
      await waitDispatched(replica);
      expect(replica.replicaLog.lastRecordSignatures(64)).toEqual(source.replicaLog.lastRecordSignatures(64));
    } finally {
      await source.close();
      await replica.close();
    }
  });

  it('checks a chunk\'s CRC, or else each record\'s, and each record\'s position; a refused chunk appends nothing', async () => {
    const source = await MessageStore.open(config(tempDir()));
    const replica = await MessageStore.open(config(tempDir()));
    try {
      source.createTopic('T', 1);
      await source.put('T', 0, Array.from({ length: 20 }, (_, i) => ({ body: Buffer.alloc(100, i) })));
      const first = source.replicaLog.readLog(0, 10 * 176)!;
      expect(first.bytes.length).toBe(10 * 176);
      const log = replica.replicaLog;
      const flipBody = (b: Buffer): Buffer => {
        const copy = Buffer.from(b);
        copy[176 + OFF_BODY] ^= 0x01; // the second record's first body byte: its framing stays intact
        return copy;
      };
      // Damaged on the way, the sender's chunk CRC no longer matches.
      await expect(log.appendReplicated(0, flipBody(first.bytes), crc32(first.bytes))).rejects.toThrow(/replicated chunk at log offset 0 \(1760 bytes\) fails its CRC/);
      await expect(log.appendReplicated(0, first.bytes, crc32(first.bytes) ^ 1)).rejects.toThrow(CorruptStoreError);
      // Without a chunk CRC (HA_CATCH_UP), each record's CRC catches it.
      await expect(log.appendReplicated(0, flipBody(first.bytes))).rejects.toThrow(/replicated bytes at log offset 176 are not a valid record/);
      expect(replica.writtenOffset, 'nothing of a refused chunk is appended').toBe(0);
      // A record whose stamped position is not where it lands is refused whatever the chunk CRC says.
      const moved = Buffer.from(first.bytes);
      moved.writeUInt32BE(moved.readUInt32BE(176 + OFF_PHYSICAL_OFFSET + 4) + 8, 176 + OFF_PHYSICAL_OFFSET + 4);
      await expect(log.appendReplicated(0, moved, crc32(moved))).rejects.toThrow(/replicated bytes at log offset 176 are not a valid record/);
      // Bytes that do not start at this log's end are refused too.
      const second = source.replicaLog.readLog(first.nextOffset, 1 << 20)!;
      await expect(log.appendReplicated(second.offset, second.bytes, crc32(second.bytes))).rejects.toThrow(InvalidMessageError);
      expect(replica.writtenOffset).toBe(0);
      // The intact chunks, with their CRCs, are taken.
      expect(await log.appendReplicated(0, first.bytes, crc32(first.bytes))).toBe(first.nextOffset);
      expect(await log.appendReplicated(second.offset, second.bytes, crc32(second.bytes))).toBe(source.writtenOffset);
      await waitDispatched(replica);
      expect(replica.getMessages('T', 0, 0, 100, 1 << 20).records.equals(source.getMessages('T', 0, 0, 100, 1 << 20).records)).toBe(true);
    } finally {
      await source.close();
      await replica.close();
    }
  });
});
