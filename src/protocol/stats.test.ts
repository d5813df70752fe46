// The BROKER_STATS body: every field survives the round trip, for each kind
// of replication view and with the runtime block, and a short or odd body is
// a MalformedFrameError; a body without the runtime block (an older broker)
// still decodes, and a block of a kind or length this reader does not know
// (a newer broker) is skipped.
import { describe, expect, it } from 'vitest';
import { expectMalformed } from '../../test/helpers/errors.js';
import { decodeBrokerStats, encodeBrokerStats, type BrokerStats } from './stats.js';

const base: BrokerStats = {
  brokerName: 'broker-a',
  addr: '127.0.0.1:10911',
  connections: 7,
  heldPulls: 3,
  retried: 2 ** 40,
  deadLettered: 5,
  groups: [
    { group: 'g1', mode: 'clustering', ordered: true, members: ['c1', 'c2'], topics: ['orders', '%RETRY%g1'] },
    { group: 'g2', mode: 'broadcasting', ordered: false, members: [], topics: [] },
  ],
  store: {
    flushMode: 'sync',
    minOffset: 1,
    appendOffset: 2 ** 45 + 3,
    writtenOffset: 2 ** 45 + 2,
    flushedOffset: 2 ** 45 + 1,
    dispatchedOffset: 2 ** 45,
    segments: 4,
    topics: 9,
    flushCycles: 1234,
    pendingPuts: 6,
    openQueueFiles: 8,
    diskFull: true,
    dispatchError: 'ENOSPC: no space left on device',
    recovered: false,
    truncatedTail: true,
    unavailable: 'METAQ_FLUSH_FAILED: fdatasync of the commit log [0, 100) failed',
  },
  role: 'master',
  ha: { mode: 'sync', slaveConnected: true, writtenOffset: 100, replicatedOffset: 90, slaveLagBytes: 10, slaveLagMs: 3, sendsWaitingForSlave: 2, readersCappedBySlave: true, slaveResyncs: 4, writesHeld: 'behind', slavesRefused: 5 },
};

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const slave: BrokerStats = {
  ...base,
  role: 'slave',
  groups: [],
  store: { ...base.store, flushMode: 'async', diskFull: false, dispatchError: undefined, recovered: true, truncatedTail: false, unavailable: undefined },
  ha: { connected: true, masterHaAddr: '127.0.0.1:10912', replicatedOffset: 77, truncations: 1, masterDurableOffset: 2 ** 40 + 5, resyncs: 3 },
};

const runtime = {
  rssBytes: 2 ** 33 + 1,
  heapUsedBytes: 50_000_000,
  gcCount: 1234,
  gcPauseUs: 2 ** 40 + 7,
  syncCycles: 99_999,
  syncTotalUs: 2 ** 41,
  syncBytes: 2 ** 45 + 3,
  syncLatencyBuckets: Array.from({ length: 27 }, (_, i) => i * 1000 + (i === 26 ? 2 ** 40 : 0)),
};

describe('BROKER_STATS', () => {
  it('round-trips the runtime block after each kind of replication view', () => {
    for (const s of [base, slave, { ...base, ha: undefined }]) {
      const withRuntime = { ...s, runtime };
      expect(decodeBrokerStats(encodeBrokerStats(withRuntime))).toEqual(withRuntime);
    }
  });

  it('reads a body without the runtime block (an older broker) and skips blocks it does not know (a newer one)', () => {
    const old = encodeBrokerStats(base);
    const full = encodeBrokerStats({ ...base, runtime });
    expect(decodeBrokerStats(old).runtime).toBeUndefined();
    // Everything before the block is the older body, byte for byte.
    expect(full.subarray(0, old.length).equals(old)).toBe(true);
    const unknown = Buffer.concat([full, Buffer.from([7, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc])]);
    expect(decodeBrokerStats(unknown)).toEqual({ ...base, runtime });
    // A runtime block with fields appended by a newer broker: the known ones are read, the rest skipped.
    const block = full.subarray(old.length + 5);
    const longer = Buffer.concat([old, Buffer.from([1]), u32(block.length + 2), block, Buffer.from([1, 2])]);
    expect(decodeBrokerStats(longer)).toEqual({ ...base, runtime });
  });

  it('round-trips the refusals block beside the runtime block, and without it', () => {
    const refusals = { unauthenticated: 3, connectionsPerBroker: 2 ** 40 };
    for (const s of [{ ...base, refusals }, { ...base, runtime, refusals }]) expect(decodeBrokerStats(encodeBrokerStats(s))).toEqual(s);
    expect(decodeBrokerStats(encodeBrokerStats({ ...base, refusals: {} }))).toEqual({ ...base, refusals: {} });
    expect(decodeBrokerStats(encodeBrokerStats({ ...base, runtime })).refusals).toBeUndefined();
  });

  it('refuses a runtime block cut short, inside or at its length', () => {
    const old = encodeBrokerStats(base);
    const full = encodeBrokerStats({ ...base, runtime });
    // Any cut past the older body's end (there, it reads as an older broker's) is malformed.
    for (let n = old.length + 1; n < full.length; n++) expectMalformed(() => decodeBrokerStats(full.subarray(0, n)));
    // A length that claims less than the fields need.
    const block = full.subarray(old.length + 5);
    expectMalformed(() => decodeBrokerStats(Buffer.concat([old, Buffer.from([1]), u32(block.length - 8), block.subarray(0, block.length - 8)])));
  });

  it('round-trips a master, a slave and a broker without replication', () => {
    for (const s of [base, slave, { ...base, ha: undefined }]) {
      expect(decodeBrokerStats(encodeBrokerStats(s))).toEqual(s);
    }
  });

  it('cuts a long dispatch error so that it always fits', () => {
    const long = { ...base, store: { ...base.store, dispatchError: 'x'.repeat(100_000) } };
    expect(decodeBrokerStats(encodeBrokerStats(long)).store.dispatchError).toBe('x'.repeat(1024));
  });

  it('carries the failure after which the store refuses writes, and its absence', () => {
    expect(decodeBrokerStats(encodeBrokerStats(base)).store.unavailable).toBe(base.store.unavailable);
    expect(decodeBrokerStats(encodeBrokerStats(slave)).store.unavailable).toBeUndefined();
    const long = { ...base, store: { ...base.store, unavailable: 'y'.repeat(100_000) } };
    expect(decodeBrokerStats(encodeBrokerStats(long)).store.unavailable).toBe('y'.repeat(1024));
  });

  it('refuses a truncated body, trailing bytes and unknown enum values', () => {
    for (const s of [base, slave]) {
      const body = encodeBrokerStats(s);
      for (let n = 0; n < body.length; n++) expectMalformed(() => decodeBrokerStats(body.subarray(0, n)));
      expectMalformed(() => decodeBrokerStats(Buffer.concat([body, Buffer.from([0])])));
    }
    const body = encodeBrokerStats({ ...base, ha: undefined });
    const roleAt = 1 + base.brokerName.length + 1 + base.addr.length;
    const badRole = Buffer.from(body);
    badRole[roleAt] = 9;
    expectMalformed(() => decodeBrokerStats(badRole));
    const badKind = Buffer.from(body);
    badKind[badKind.length - 1] = 9;
    expectMalformed(() => decodeBrokerStats(badKind));
  });
});
