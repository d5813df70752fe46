// A colliding-key flood against a real broker over TCP. Keys made of "Aa" and
// "BB" blocks all have the same 31-polynomial hash, so every one of them lands
// in the same chain of the key index, and each entry also matches the hash
// (each costs a record read to tell them apart). With 20,000 of them stored,
// one QUERY_BY_KEY (asking maxCount 65,535) must still do bounded work: at
// most maxKeyLookupCandidates index reads, counted two ways: by the store's
// lookup counters, and by the positional reads (fs.readSync, counted, not
// replaced) the broker process makes while answering. The answer is right for
// what it says: a complete answer lists every match; one cut short by the
// bound has status Truncated, lists only real matches, and is counted.
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Producer } from '../../src/client/index.js';
import { stringHash } from '../../src/common/index.js';
import { decodeRecord } from '../../src/message/index.js';
import { RequestClient } from '../../src/net/index.js';
import { decodeRecordList, encodeQueryByKey, Opcode, Status } from '../../src/protocol/index.js';
import { useCluster } from '../helpers/cluster.js';
import { waitDispatched } from '../helpers/wait.js';

const TOPIC = 'KeyFlood';
const BITS = 15;
const STORED = 20_000;
const BATCH = 250;
const CANDIDATES = 1000;
const TIMEOUT_MS = 30_000;

/** The i-th key of the colliding family: bit b of i picks "Aa" or "BB" for block b. */
function collidingKey(i: number): string {
  let k = '';
  for (let b = 0; b < BITS; b++) k += (i >> b) & 1 ? 'BB' : 'Aa';
  return k;
}

describe('a colliding-key flood', () => {
  const cluster = useCluster();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('does bounded work per QUERY_BY_KEY and answers correctly for what it says', async () => {
    // The premise: the keys really collide under the index hash.
    const hash = stringHash(`${TOPIC}#${collidingKey(0)}`);
    for (const i of [1, 2, 777, STORED - 1, (1 << BITS) - 1]) expect(stringHash(`${TOPIC}#${collidingKey(i)}`)).toBe(hash);

    const c = await cluster({ topics: { [TOPIC]: 4 }, broker: { maxKeyLookupCandidates: CANDIDATES } });
    const broker = c.brokers[0]!;
    const producer = new Producer({ namesrv: c.ns });
    const client = await RequestClient.connect(broker.addr);
    try {
      for (let from = 0; from < STORED; from += BATCH) {
        const batch = Array.from({ length: BATCH }, (_, j) => ({ body: `m-${from + j}`, keys: collidingKey(from + j) }));
        await producer.send(TOPIC, batch, { shardingKey: 'one-queue' });
      }
      await producer.send(TOPIC, { body: 'plain', keys: 'plain-key' });
      await waitDispatched(broker.store);

      const reads = vi.spyOn(fs, 'readSync');
      const query = async (key: string, maxCount: number): Promise<{ status: number; bodies: string[]; reads: number; examined: number }> => {
        const before = broker.store.keyLookupStats().examined;
        reads.mockClear();
        const f = await client.call(Opcode.QueryByKey, encodeQueryByKey({ topic: TOPIC, key, maxCount }), TIMEOUT_MS);
        const made = reads.mock.calls.length;
        const records = decodeRecordList(f.body).map((r) => decodeRecord(r, 0));
        for (const m of records) expect(m.keys, 'every record answered carries the key').toContain(key);
        return { status: f.status, bodies: records.map((m) => Buffer.from(m.body).toString('utf8')), reads: made, examined: broker.store.keyLookupStats().examined - before };
      };
      // Two positional reads per candidate at most (its index entry, then its record's head and body are one or two more):
      // bounded by the budget, far below the 20,000 entries of the chain.
      const READ_BOUND = 4 * CANDIDATES;

      // The oldest key sits at the end of a 20,000-entry chain: the bound stops the walk; nothing found, and it says so.
      const oldest = await query(collidingKey(0), 65_535);
      expect(oldest.status).toBe(Status.Truncated);
      expect(oldest.bodies).toEqual([]);
      expect(oldest.examined).toBeLessThanOrEqual(CANDIDATES);
      expect(oldest.reads).toBeLessThanOrEqual(READ_BOUND);

      // The newest key is found at once; asking for one, the answer is complete.
      const newest = await query(collidingKey(STORED - 1), 1);
      expect(newest.status).toBe(Status.Ok);
      expect(newest.bodies).toEqual([`m-${STORED - 1}`]);
      expect(newest.examined).toBeLessThanOrEqual(2);

      // A key a little way down the chain is found within the budget; looking on for more, the answer is cut short and says so.
      const near = await query(collidingKey(STORED - 100), 65_535);
      expect(near.status).toBe(Status.Truncated);
      expect(near.bodies).toEqual([`m-${STORED - 100}`]);
      expect(near.reads).toBeLessThanOrEqual(READ_BOUND);

      // A key outside the flood is answered completely and cheaply.
      const plain = await query('plain-key', 32);
      expect(plain.status).toBe(Status.Ok);
      expect(plain.bodies).toEqual(['plain']);

      // A flood of such requests: each bounded; every cut-short answer counted.
      const FLOOD = 20;
      const before = broker.store.keyLookupStats();
      reads.mockClear();
      await Promise.all(Array.from({ length: FLOOD }, (_, i) => client.call(Opcode.QueryByKey, encodeQueryByKey({ topic: TOPIC, key: collidingKey(i), maxCount: 65_535 }), TIMEOUT_MS)));
      const after = broker.store.keyLookupStats();
      expect(after.lookups - before.lookups).toBe(FLOOD);
      expect(after.examined - before.examined).toBeLessThanOrEqual(FLOOD * CANDIDATES);
      expect(reads.mock.calls.length).toBeLessThanOrEqual(FLOOD * READ_BOUND);
      expect(broker.stats().refusals?.maxKeyLookupCandidates).toBe(2 + FLOOD);
      console.log(`[key-flood] ${STORED} colliding keys stored; oldest key: ${oldest.examined} index reads, ${oldest.reads} preads; flood of ${FLOOD}: ${after.examined - before.examined} index reads, ${reads.mock.calls.length} preads`);
    } finally {
      client.close();
      producer.shutdown();
    }
  });
});
