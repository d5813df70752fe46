// The system poller's lag figures come from the broker's own monitor block:
// the worst client group's age and the client groups' summed messages, the
// broker's internal '%' groups left out; a broker without the block gives
// none (an empty cell, not a zero).
import { describe, expect, it } from 'vitest';
import { MONITOR_SAMPLE } from '../../../test/helpers/monitor-sample.js';
import type { BrokerStats } from '../../protocol/index.js';
import { brokerLag } from './system-poller.js';

describe('brokerLag', () => {
  it("takes the worst client group's age and sums their messages", () => {
    const monitor = { ...MONITOR_SAMPLE, groupTotals: [{ group: 'a', lagMessages: 5, lagMs: 900 }, { group: 'b', lagMessages: 7, lagMs: 3000 }, { group: '%RETRY-SCHEDULE', lagMessages: 1000, lagMs: 60_000 }] };
    expect(brokerLag({ monitor } as BrokerStats)).toEqual({ lagMs: 3000, lagMessages: 12 });
    expect(brokerLag({ monitor: { ...MONITOR_SAMPLE, groupTotals: [] } } as unknown as BrokerStats)).toEqual({ lagMs: 0, lagMessages: 0 });
    expect(brokerLag({} as BrokerStats)).toEqual({ lagMs: undefined, lagMessages: undefined });
  });
});
