// The sync record under a real SIGKILL: a store child keeps the record, is
// killed from outside, its directory is cut in place to what the record says
// (cutToDurableImage), and the reopened store is checked.
//  - async flush: what was written after the last flush cycle is gone after
//    the cut (the cut really drops data), everything below the recorded
//    durable offset is there;
//  - sync flush: every acknowledged message survives the cut; and the same
//    check, run on a copy cut below the record, reports acknowledged messages
//    lost (the check can fail).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cutToDurableImage, MessageStore, readSyncRecord } from '../../src/store/index.js';
import { spawnTs, type RunningChild } from '../helpers/child.js';
import { positionalBody, readQueue } from '../helpers/messages.js';
import { listFiles, useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitDispatched } from '../helpers/wait.js';
import { SYNC_RECORD_MAX_BODY, SYNC_RECORD_QUEUES, SYNC_RECORD_TOPIC, syncRecordStoreConfig } from './fixtures/sync-record-config.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'sync-record-writer.ts');

async function firstLine(child: RunningChild, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (child.lines.length === 0) {
    if (child.child.exitCode !== null || Date.now() - start > timeoutMs) throw new Error(`writer printed nothing:\n${child.stderr()}`);
    await sleep(5);
  }
}

async function kill(child: RunningChild): Promise<void> {
  child.child.kill('SIGKILL');
  const exit = await child.exited;
  expect(exit.signal, `writer died on its own: ${child.stderr()}`).toBe('SIGKILL');
}

/** Per queue: how many messages the reopened store holds, each checked against its positional body. */
async function recoveredCounts(dir: string, runSeed: number): Promise<{ counts: number[]; writtenOffset: number; rebuilt: boolean; warning: string }> {
  let rebuilt = false;
  let warning = '';
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'METAQ_INDEX_REBUILT') {
      rebuilt = true;
      warning = w.message;
    }
  };
  process.on('warning', onWarning);
  const store = await MessageStore.open(syncRecordStoreConfig(dir, 'sync')).finally(() => setTimeout(() => process.off('warning', onWarning), 50));
  await sleep(20); // warnings are emitted on a later tick
  try {
    await waitDispatched(store);
    const counts: number[] = [];
    for (let q = 0; q < SYNC_RECORD_QUEUES; q++) {
      const messages = readQueue(store, SYNC_RECORD_TOPIC, q, 0);
      for (const m of messages) {
        if (!m.body.equals(positionalBody(runSeed, SYNC_RECORD_TOPIC, q, m.queueOffset, SYNC_RECORD_MAX_BODY))) {
          throw new Error(`queue ${q} offset ${m.queueOffset}: wrong body`);
        }
      }
      counts.push(messages.length);
    }
    return { counts, writtenOffset: store.stats().writtenOffset, rebuilt, warning };
  } finally {
    await store.close();
  }
}

describe('sync record: SIGKILL, then cut to what the completed fdatasyncs covered', () => {
  const tempDir = useTempDirs('sync-record');

  it('async flush: messages written after the last flush cycle are gone, all below the recorded offset are there', async () => {
    const dir = tempDir();
    const record = path.join(tempDir(), 'master.sync-record');
    const runSeed = Math.floor(Math.random() * 2 ** 31);
    const writer = spawnTs(WRITER, [dir, record, 'async', String(runSeed)]);
    await firstLine(writer);
    await kill(writer);
    const reported = JSON.parse(writer.lines[0]!) as { flushed: number; written: number; a: number; b: number };
    expect(reported.written).toBeGreaterThan(reported.flushed);

    const image = readSyncRecord(record);
    // The record says exactly what the last completed cycle covered: batch A, not B.
    expect(image.logOffset).toBe(reported.flushed);
    const cut = cutToDurableImage(dir, image);
    expect(cut.zeroedLogBytes).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);

    const { counts, writtenOffset } = await recoveredCounts(dir, runSeed);
    const recovered = counts.reduce((a, b) => a + b, 0);
    expect(writtenOffset).toBe(image.logOffset);
    expect(recovered).toBe(reported.a);
    expect(reported.a + reported.b - recovered).toBe(reported.b); // lost > 0: the cut dropped B
  }, 60_000);

  it('sync flush: every acknowledged message survives the cut (and a cut below the record loses some)', async () => {
    const dir = tempDir();
    const record = path.join(tempDir(), 'master.sync-record');
    const runSeed = Math.floor(Math.random() * 2 ** 31);
    const writer = spawnTs(WRITER, [dir, record, 'sync', String(runSeed)]);
    await firstLine(writer);
    await sleep(300 + Math.floor(Math.random() * 700));
    await kill(writer);

    const ackedEnd = new Array<number>(SYNC_RECORD_QUEUES).fill(0);
    for (const line of writer.lines) {
      const a = JSON.parse(line) as { q: number; o: number; n: number };
      ackedEnd[a.q] = Math.max(ackedEnd[a.q]!, a.o + a.n);
    }
    const acked = ackedEnd.reduce((a, b) => a + b, 0);
    expect(acked).toBeGreaterThan(100);
    const image = readSyncRecord(record);

    // For the control below: the same directory, to be cut below the record.
    const control = tempDir();
    for (const rel of listFiles(dir)) {
      fs.mkdirSync(path.dirname(path.join(control, rel)), { recursive: true });
      fs.copyFileSync(path.join(dir, rel), path.join(control, rel));
    }
    // Index lengths are recorded before each checkpoint vouches for them: the
    // cut leaves every queue as long as the checkpoint says, nothing to rebuild.
    expect([...image.files.keys()].some((f) => f.startsWith(`consumequeue${path.sep}`))).toBe(true);
    cutToDurableImage(dir, image);
    const { counts, rebuilt, warning } = await recoveredCounts(dir, runSeed);
    expect(rebuilt, warning).toBe(false);
    const lost = ackedEnd.reduce((sum, end, q) => sum + Math.max(0, end - counts[q]!), 0);
    expect(lost, `acknowledged ${acked}, per queue ${ackedEnd.join(',')}, recovered ${counts.join(',')}`).toBe(0);

    // The control: cut below the record (at the first half of the log), the
    // same check must find acknowledged messages lost.
    cutToDurableImage(control, { ...image, logOffset: Math.floor(image.logOffset / 2) });
    // (The checkpoint vouches for more than that: without it recovery re-reads the log from its start.)
    fs.rmSync(path.join(control, 'checkpoint'));
    const short = await recoveredCounts(control, runSeed);
    expect(short.rebuilt).toBe(true); // (so the warning is seen when there is one)
    const lostInControl = ackedEnd.reduce((sum, end, q) => sum + Math.max(0, end - short.counts[q]!), 0);
    expect(lostInControl).toBeGreaterThan(0);
  }, 60_000);
});
