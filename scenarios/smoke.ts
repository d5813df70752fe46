// The Double-12 shape at a low rate in about 20 seconds, for CI: every role,
// every phase, a backlog that builds and drains, and the zero-loss check.
import type { Scenario } from '../src/harness/index.js';
import { scenario as double12 } from './double12.js';

const PEAK_RATE = 20_000;

export const scenario: Scenario = {
  ...double12,
  name: 'smoke',
  description: 'Double 12 in miniature: 20,000 msg/s peak, ~20 s, for CI',
  queues: 8,
  phases: [
    { name: 'warmup', durationSec: 2, startRate: 2_000, endRate: 2_000 },
    { name: 'ramp', durationSec: 2, startRate: 2_000, endRate: PEAK_RATE },
    { name: 'peak', durationSec: 5, startRate: PEAK_RATE, endRate: PEAK_RATE },
    { name: 'tail', durationSec: 3, startRate: PEAK_RATE, endRate: 3_000 },
  ],
  drainTimeoutSec: 120,
  // Half the peak (double12: a third), so that the backlog drains within the ~20 s:
  // it still builds during the peak and drains after.
  consumer: { capacityPerSec: 10_000, workers: 2 },
  producer: { workers: 1, tickMs: 1, batchMax: 512 },
  // Small segments: CI machines need not have gigabytes free, and segment rolls get exercised.
  topology: { ...double12.topology, segmentSize: 64 << 20 },
  // double12's loss limits, for this curve's peak: one second of it.
  thresholds: { ...double12.thresholds, maxLost: { 'sync/async': PEAK_RATE, 'async/async': PEAK_RATE, 'async/none': PEAK_RATE } },
};
