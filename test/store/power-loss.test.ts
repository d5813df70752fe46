// Power loss: a copy of the store made from durableImage() while puts are in flight.
// Sync flush mode loses no acknowledged message; async mode recovers a consistent prefix (loss reported).
import { describe, expect, it } from 'vitest';
import { MessageStore, type FlushMode, type MessageStoreConfig } from '../../src/store/index.js';
import { positionalBody, prng, randomInt, readQueue } from '../helpers/messages.js';
import { copyAsAfterPowerLoss, type PowerLossCopyStats } from '../helpers/power-loss.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { nextTurn, sleep, waitDispatched } from '../helpers/wait.js';

const TOPICS = ['pl_a', 'pl_b', 'pl_c'];
const QUEUES = 4;
const MAX_BODY = 1024;
const ROUNDS = 3;

function config(dir: string, flushMode: FlushMode): MessageStoreConfig {
  return {
    dir,
    flushMode,
    segmentSize: 128 * 1024,
    maxMessageSize: MAX_BODY,
    consumeQueueEntriesPerFile: 64,
    indexSlotCount: 512,
    indexMaxEntries: 1000,
    flushIntervalMs: 200,
    checkpointIntervalMs: 50,
  };
}

interface Outcome {
  acked: number;
  written: number;
  recovered: number;
  missingAcked: number;
  copy: PowerLossCopyStats;
}

/** Writes with puts in flight, cuts the power at a random moment, recovers the copy and checks it. */
async function powerLossRound(flushMode: FlushMode, seed: number, tempDir: () => string): Promise<Outcome> {
  const dir = tempDir();
  const copyDir = tempDir();
  const rng = prng(seed);
  const store = await MessageStore.open(config(dir, flushMode));
  for (const t of TOPICS) store.createTopic(t, QUEUES);

  const next = new Map<string, number>(); // offsets handed out (the store must agree)
  const ackedEnd = new Map<string, number>();
  let stop = false;
  const producer = async (): Promise<void> => {
    while (!stop) {
      // In async mode a put resolves within microtasks: yield a turn so that
      // timers (the flusher, the power cut) and the dispatcher get to run.
      await nextTurn();
      if (stop) break;
      const t = TOPICS[randomInt(rng, 0, TOPICS.length - 1)]!;
      const q = randomInt(rng, 0, QUEUES - 1);
      const key = `${t}/${q}`;
      const first = next.get(key) ?? 0;
      const n = randomInt(rng, 1, 24);
      next.set(key, first + n);
      const batch = Array.from({ length: n }, (_, i) => ({ body: positionalBody(seed, t, q, first + i, MAX_BODY), keys: `${key}#${first + i}` }));
      const r = await store.put(t, q, batch);
      expect(r.queueOffset).toBe(first);
      // Acks of one queue come in order, so the acknowledged set is a prefix.
      expect(ackedEnd.get(key) ?? 0).toBe(first);
      ackedEnd.set(key, first + n);
    }
  };
  const producers = Array.from({ length: 6 }, producer);

  // The power cut: in one macrotask, what was acknowledged and what is durable.
  const cutAfter = 250 + Math.floor(rng() * 500);
  const snapshot = await new Promise<{ acked: Map<string, number>; written: Map<string, number>; copy: PowerLossCopyStats }>((resolve) =>
    setTimeout(() => {
      const acked = new Map(ackedEnd);
      const written = new Map(next);
      const copy = copyAsAfterPowerLoss(dir, copyDir, store.durableImage());
      stop = true;
      resolve({ acked, written, copy });
    }, cutAfter),
  );
  await Promise.all(producers);
  await store.close();

  const recoveredStore = await MessageStore.open(config(copyDir, flushMode));
  try {
    await waitDispatched(recoveredStore);
    let acked = 0;
    let written = 0;
    let recovered = 0;
    let missingAcked = 0;
    for (const t of TOPICS) {
      for (let q = 0; q < QUEUES; q++) {
        const key = `${t}/${q}`;
        const ackedN = snapshot.acked.get(key) ?? 0;
        const writtenN = snapshot.written.get(key) ?? 0;
        // A gap-free run of offsets from 0 (readQueue checks), nothing past what was put,
        // and every message the one put at that offset: a consistent prefix.
        const got = readQueue(recoveredStore, t, q, 0, 128, 1 << 20);
        expect(recoveredStore.maxOffset(t, q)).toBe(got.length);
        expect(got.length, `${key}: more messages than were ever put`).toBeLessThanOrEqual(writtenN);
        for (const m of got) {
          if (!m.body.equals(positionalBody(seed, t, q, m.queueOffset, MAX_BODY))) throw new Error(`${key}@${m.queueOffset}: body differs`);
          expect(m.keys).toEqual([`${key}#${m.queueOffset}`]);
        }
        if (flushMode === 'sync') {
          expect(got.length, `${key}: acknowledged messages lost (sync flush)`).toBeGreaterThanOrEqual(ackedN);
          // The key index came through too: the last acknowledged message is found by key.
          if (ackedN > 0) {
            const k = `${key}#${ackedN - 1}`;
            expect(recoveredStore.queryByKey(t, k).map((m) => m.queueOffset), `key ${k}`).toEqual([ackedN - 1]);
          }
        }
        acked += ackedN;
        written += writtenN;
        recovered += got.length;
        missingAcked += Math.max(0, ackedN - got.length);
      }
    }
    // Still a working store.
    const before = recoveredStore.maxOffset(TOPICS[0]!, 0);
    const r = await recoveredStore.put(TOPICS[0]!, 0, [{ body: Buffer.from('after power loss') }]);
    expect(r.queueOffset).toBe(before);
    return { acked, written, recovered, missingAcked, copy: snapshot.copy };
  } finally {
    await recoveredStore.close();
  }
}

describe('power loss (durable image of a running store)', () => {
  const tempDir = useTempDirs('powerloss');

  it('sync flush: no acknowledged message is lost', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const o = await powerLossRound('sync', seed, tempDir);
      console.log(
        `power loss sync  seed=${seed}: acked ${o.acked}, put ${o.written}, recovered ${o.recovered}, acked missing ${o.missingAcked}; ` +
          `cut ${o.copy.zeroedLogBytes} log bytes, ${o.copy.cutIndexBytes} index bytes`,
      );
      expect(o.acked).toBeGreaterThan(0);
      expect(o.missingAcked).toBe(0);
      await sleep(1);
    }
  });

  it('async flush: recovers a consistent prefix; reports acknowledged messages lost', async () => {
    let totalAcked = 0;
    let totalMissing = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const o = await powerLossRound('async', seed, tempDir);
      console.log(
        `power loss async seed=${seed}: acked ${o.acked}, put ${o.written}, recovered ${o.recovered}, ACKED MISSING ${o.missingAcked} ` +
          `(${((100 * o.missingAcked) / Math.max(1, o.acked)).toFixed(1)}%); cut ${o.copy.zeroedLogBytes} log bytes, ${o.copy.cutIndexBytes} index bytes`,
      );
      expect(o.acked).toBeGreaterThan(0);
      totalAcked += o.acked;
      totalMissing += o.missingAcked;
    }
    console.log(`power loss async total: ${totalMissing} of ${totalAcked} acknowledged messages lost over ${ROUNDS} cuts (flushIntervalMs 200)`);
  });
});
