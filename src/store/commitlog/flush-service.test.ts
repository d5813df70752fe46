// Group commit and failure handling of the FlushService against real files:
// a failed fdatasync (a real EBADF from the kernel) is reported, never
// turned into a flushed offset.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { FlushService } from './flush-service.js';
import type { RecordFields } from '../../message/index.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

function openLog(): CommitLog {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-flush-'));
  return new CommitLog({ dir, segmentSize: 1 << 20, maxRecordSize: 4096, stagingSize: 1 << 16, preallocate: false, spareSegments: 0 });
}

function append(log: CommitLog, count: number): void {
  const f: RecordFields = {
    body: Buffer.alloc(100, 1),
    topic: Buffer.from('t'),
    properties: '',
    propertiesLength: 0,
    queueId: 0,
    queueOffset: 0,
    physicalOffset: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    storeTimestamp: 1,
    reconsumeTimes: 0,
    tagsCode: 0,
  };
  log.appendBatch(count, f, (i) => (f.queueOffset = i), new Array<number>(count));
}

describe('FlushService', () => {
  it('sync mode: one cycle covers everything written before it began', async () => {
    const log = openLog();
    const flushed: number[] = [];
    const service = new FlushService(log, 'sync', 500, { flushed: (o) => flushed.push(o), failed: (e) => expect.fail(e.message) });
    append(log, 10);
    log.drain();
    service.request();
    append(log, 10);
    log.drain();
    service.request(); // joins the running loop, which loops again for it
    await service.flushAll();
    expect(log.flushedOffset).toBe(log.writtenOffset);
    expect(flushed[flushed.length - 1]).toBe(log.writtenOffset);
    expect(service.cycles).toBeGreaterThanOrEqual(1);
    expect(service.cycles).toBeLessThanOrEqual(2);
    // Each cycle timed once, and together they covered every byte written.
    const latency = service.latency.stats();
    expect(latency.cycles).toBe(service.cycles);
    expect(latency.bytes).toBe(log.writtenOffset);
    expect(latency.buckets.reduce((a, b) => a + b, 0)).toBe(service.cycles);
    expect(latency.totalUs).toBeGreaterThan(0);
    log.close();
  });

  it('tells the durable listener before the flush listener, and a listener that throws fails the flush', async () => {
    const log = openLog();
    const events: string[] = [];
    log.durableListener = (o) => events.push(`durable ${o}`);
    const service = new FlushService(log, 'sync', 500, { flushed: (o) => events.push(`flushed ${o}`), failed: (e) => events.push(`failed ${e.code}`) });
    append(log, 5);
    log.drain();
    await service.flushAll();
    const end = log.writtenOffset;
    expect(events).toEqual([`durable ${end}`, `flushed ${end}`]);

    log.durableListener = () => {
      throw new Error('record not writable');
    };
    append(log, 5);
    log.drain();
    await service.flushAll();
    expect(events.slice(2)).toEqual(['failed METAQ_FLUSH_FAILED']);
    expect(log.flushedOffset).toBe(end); // nothing acknowledged past what was recorded
    log.close();
  });

  it('reports a failed fdatasync and never advances the flushed offset past it', async () => {
    const log = openLog();
    const errors: Error[] = [];
    const service = new FlushService(log, 'sync', 500, { flushed: () => undefined, failed: (e) => errors.push(e) });
    append(log, 5);
    log.drain();
    // Close the segment's descriptor under the store: fdatasync now fails for real (EBADF).
    fs.closeSync(log.segments[0]!.fd);
    service.request();
    await service.flushAll();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'METAQ_FLUSH_FAILED' });
    expect((errors[0]!.cause as NodeJS.ErrnoException).code).toBe('EBADF');
    expect(log.flushedOffset).toBe(0);
    // A failed cycle is not a timed one.
    expect(service.latency.stats().cycles).toBe(0);
    // Once failed it stays failed: no later cycle may report success.
    service.request();
    await service.flushAll();
    expect(log.flushedOffset).toBe(0);
  });

  it('a failed write throws a typed error and leaves the written offset alone', () => {
    const log = openLog();
    append(log, 3);
    log.drain();
    const written = log.writtenOffset;
    append(log, 3);
    fs.closeSync(log.segments[0]!.fd);
    expect(() => log.drain()).toThrow(expect.objectContaining({ code: 'METAQ_STORE_WRITE_FAILED' }));
    expect(log.writtenOffset).toBe(written);
  });
});
