// Crash safety: a child writing in `sync` flush mode is killed with SIGKILL at a random
// moment; on reopen every acknowledged message is present, intact and in order.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MessageStore } from '../../src/store/index.js';
import { spawnTs } from '../helpers/child.js';
import { positionalBody, readQueue } from '../helpers/messages.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { sleep, waitDispatched } from '../helpers/wait.js';
import { CRASH_MAX_BODY, CRASH_QUEUES, CRASH_TOPICS, crashStoreConfig } from './fixtures/crash-config.js';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-writer.ts');
const RUNS = 4;

interface Ack {
  t: string;
  q: number;
  o: number;
  n: number;
  s: number;
}

describe('crash (SIGKILL) in sync flush mode', () => {
  const tempDir = useTempDirs('crash');

  it.each(Array.from({ length: RUNS }, (_, i) => i + 1))('kill point %i: every acknowledged message survives', async () => {
    const dir = tempDir();
    const runSeed = Math.floor(Math.random() * 2 ** 31);
    const killAfterMs = 300 + Math.floor(Math.random() * 1200);

    let firstAck: (() => void) | undefined;
    const gotFirstAck = new Promise<void>((resolve) => (firstAck = resolve));
    const writer = spawnTs(WRITER, [dir, String(runSeed)], { onLine: () => firstAck?.() });
    const first = await Promise.race([gotFirstAck.then(() => true), writer.exited.then(() => false)]);
    if (!first) throw new Error(`crash writer exited before its first ack:\n${writer.stderr()}`);
    await sleep(killAfterMs);
    writer.child.kill('SIGKILL');
    const exit = await writer.exited;
    expect(exit.signal, `writer died on its own: ${writer.stderr()}`).toBe('SIGKILL');

    const acks = writer.lines.map((l) => JSON.parse(l) as Ack);
    expect(acks.length).toBeGreaterThan(0);
    // The highest acknowledged end offset of each queue.
    const ackedEnd = new Map<string, number>();
    let ackedMessages = 0;
    for (const a of acks) {
      expect(a.s).toBe(runSeed);
      const key = `${a.t}/${a.q}`;
      ackedEnd.set(key, Math.max(ackedEnd.get(key) ?? 0, a.o + a.n));
      ackedMessages += a.n;
    }

    const store = await MessageStore.open(crashStoreConfig(dir));
    try {
      expect(store.stats().recovered).toBe(true);
      await waitDispatched(store);
      let recoveredMessages = 0;
      for (const t of CRASH_TOPICS) {
        for (let q = 0; q < CRASH_QUEUES; q++) {
          const key = `${t}/${q}`;
          const acked = ackedEnd.get(key) ?? 0;
          expect(store.maxOffset(t, q), `${key}: recovered up to`).toBeGreaterThanOrEqual(acked);
          // readQueue checks that offsets run 0, 1, 2, ... with no gap.
          const got = readQueue(store, t, q, 0, 256, 1 << 20);
          expect(got.length).toBe(store.maxOffset(t, q));
          // Every message present (acknowledged or not) is the one written at that offset.
          for (const m of got) {
            const want = positionalBody(runSeed, t, q, m.queueOffset, CRASH_MAX_BODY);
            if (!want.equals(m.body)) throw new Error(`${key}@${m.queueOffset}: body differs after the crash`);
            expect(m.keys).toEqual([`${key}#${m.queueOffset}`]);
          }
          recoveredMessages += got.length;
        }
      }
      // Every acknowledged batch was counted once; the store may hold a few more
      // (written and synced, but killed before the ack line went out).
      expect(recoveredMessages).toBeGreaterThanOrEqual(ackedMessages);

      // The key index was rebuilt over the recovered tail: the last acknowledged
      // message of each batch in the last ack lines is found by its key.
      for (const a of acks.slice(-20)) {
        const k = `${a.t}/${a.q}#${a.o + a.n - 1}`;
        const found = store.queryByKey(a.t, k);
        expect(found.map((m) => [m.queueId, m.queueOffset]), `key ${k}`).toEqual([[a.q, a.o + a.n - 1]]);
      }

      // The store takes writes again, continuing each queue's offsets.
      const t = CRASH_TOPICS[0]!;
      const before = store.maxOffset(t, 0);
      const r = await store.put(t, 0, [{ body: positionalBody(runSeed, t, 0, before, CRASH_MAX_BODY) }]);
      expect(r.queueOffset).toBe(before);
      console.log(
        `crash run seed=${runSeed} kill=${killAfterMs}ms: ${acks.length} batches / ${ackedMessages} messages acknowledged, ${recoveredMessages} recovered, log ${store.stats().appendOffset} bytes`,
      );
    } finally {
      await store.close();
    }
  });
});
