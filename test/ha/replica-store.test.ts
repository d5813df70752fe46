// Store-level replication: a replica built from readLog/appendReplicated holds
// the same queues as its source, also across a segment end where the writer
// rolled with fewer than 8 bytes left (no room for a blank marker).
import { describe, expect, it } from 'vitest';
import { MessageStore } from '../../src/store/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitDispatched } from '../helpers/wait.js';

const SEGMENT = 128 * 1024;
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
        await replica.replicaLog.appendReplicated(chunk.offset, chunk.bytes);
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
});
