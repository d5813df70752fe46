// A BROKER_STATS monitor block with every field set, for the tests of its
// codec, the alert rules and `metaq stats`' formatting.
import type { BrokerMonitorView } from '../../src/protocol/index.js';

export const MONITOR_SAMPLE: BrokerMonitorView = {
  atMs: 1_765_000_000_000,
  msgsIn: 2 ** 40,
  bytesIn: 2 ** 45,
  msgsOut: 12,
  bytesOut: 3400,
  msgsInPerSec: 240_000,
  bytesInPerSec: 48_000_000,
  msgsOutPerSec: 239_000,
  bytesOutPerSec: 47_000_000,
  commitLogBytes: 2 ** 33,
  diskTotalBytes: 1000,
  diskFreeBytes: 250,
  flushFailures: 1,
  queues: [
    { topic: 'orders', queueId: 0, minOffset: 0, maxOffset: 100 },
    { topic: 'orders', queueId: 1, minOffset: 5, maxOffset: 7 },
  ],
  queuesOmitted: 3,
  groupTotals: [{ group: 'billing', lagMessages: 95, lagMs: 12_345 }],
  groupLags: [{ group: 'billing', topic: 'orders', queueId: 0, committedOffset: 5, maxOffset: 100, lagMessages: 95, lagMs: 12_345 }],
  groupLagsOmitted: 1,
  alerts: [
    { name: 'billing-behind', kind: 'groupLagSeconds', group: 'billing', above: 10, forSec: 5, firing: true, value: 12.345, sinceMs: 1_765_000_000_001 },
    { name: 'disk', kind: 'diskUsedRatio', group: '', above: 0.85, forSec: 0, firing: false, value: 0.75, sinceMs: 0 },
  ],
};
