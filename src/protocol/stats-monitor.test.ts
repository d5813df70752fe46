// The monitor block of BROKER_STATS: every field survives the round trip
// inside a BROKER_STATS body, fractional thresholds keep six decimals, a
// reader of the block ignores fields a newer broker appends, and a body
// without the block (an older broker) decodes with `monitor` absent.
import { describe, expect, it } from 'vitest';
import { decodeBrokerStats, encodeBrokerStats, type BrokerStats } from './stats.js';
import { decodeMonitorBlock, diskUsedRatio, encodeMonitorBlock } from './stats-monitor.js';
import { MONITOR_SAMPLE } from '../../test/helpers/monitor-sample.js';


const stats: BrokerStats = {
  brokerName: 'broker-a',
  addr: '127.0.0.1:10911',
  connections: 1,
  heldPulls: 0,
  retried: 0,
  deadLettered: 0,
  groups: [],
  store: {
    flushMode: 'async', minOffset: 0, appendOffset: 0, writtenOffset: 0, flushedOffset: 0, dispatchedOffset: 0, segments: 1, topics: 1, flushCycles: 0, pendingPuts: 0, openQueueFiles: 0,
    diskFull: false, dispatchError: undefined, recovered: false, truncatedTail: false, unavailable: undefined,
  },
  role: 'master',
  ha: undefined,
  refusals: { maxTopics: 2 },
};

describe('BROKER_STATS monitor block', () => {
  it('round-trips every field after the other blocks', () => {
    const back = decodeBrokerStats(encodeBrokerStats({ ...stats, monitor: MONITOR_SAMPLE }));
    expect(back.monitor).toEqual(MONITOR_SAMPLE);
    expect(back.refusals).toEqual({ maxTopics: 2 });
  });

  it('is absent from an older broker\'s body', () => {
    expect(decodeBrokerStats(encodeBrokerStats(stats)).monitor).toBeUndefined();
  });

  it('ignores fields a newer broker appends to the block', () => {
    const block = Buffer.concat([encodeMonitorBlock(MONITOR_SAMPLE), Buffer.from([1, 2, 3, 4])]);
    expect(decodeMonitorBlock(block)).toEqual(MONITOR_SAMPLE);
  });

  it('caps a huge alert value instead of failing the whole answer', () => {
    const huge = { ...MONITOR_SAMPLE, alerts: [{ ...MONITOR_SAMPLE.alerts[0]!, value: 2 ** 60 }] };
    expect(decodeMonitorBlock(encodeMonitorBlock(huge)).alerts[0]!.value).toBeCloseTo(Number.MAX_SAFE_INTEGER / 1e6, 0);
  });

  it('computes the used disk share, 0 when the disk is unknown', () => {
    expect(diskUsedRatio(MONITOR_SAMPLE)).toBe(0.75);
    expect(diskUsedRatio({ diskTotalBytes: 0, diskFreeBytes: 0 })).toBe(0);
  });
});
