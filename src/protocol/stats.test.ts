// The BROKER_STATS body: every field survives the round trip, for each kind
// of replication view, and a short or odd body is a MalformedFrameError.
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

const slave: BrokerStats = {
  ...base,
  role: 'slave',
  groups: [],
  store: { ...base.store, flushMode: 'async', diskFull: false, dispatchError: undefined, recovered: true, truncatedTail: false, unavailable: undefined },
  ha: { connected: true, masterHaAddr: '127.0.0.1:10912', replicatedOffset: 77, truncations: 1, masterDurableOffset: 2 ** 40 + 5, resyncs: 3 },
};

describe('BROKER_STATS', () => {
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
