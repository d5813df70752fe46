// The "Double 12" flash sale (README, "The Double-12 scenario"): every user who scans the
// QR code claims one lottery ticket. The activity system produces one message
// per claim at up to 240,000 msg/s for a minute and returns at once; the
// lottery system issues tickets at 80,000 msg/s, so a backlog of millions of
// messages builds up and is drained after the sale. Not one may be lost.
import type { Scenario } from '../src/harness/index.js';

const PEAK_RATE = 240_000;
const WARMUP_RATE = 20_000;
const TAIL_END_RATE = 30_000;
const LOTTERY_CAPACITY = 80_000;

export const scenario: Scenario = {
  name: 'double12',
  description: 'Flash sale: ramp to 240,000 msg/s, hold a minute, backlog drained by a lottery system at 80,000 msg/s',
  topic: 'LOTTERY_CLAIM',
  queues: 16,
  // A claim record: user id, activity, channel, time, the allocation it confirms.
  bodySize: 128,
  phases: [
    { name: 'warmup', durationSec: 20, startRate: WARMUP_RATE, endRate: WARMUP_RATE },
    { name: 'ramp', durationSec: 10, startRate: WARMUP_RATE, endRate: PEAK_RATE },
    { name: 'peak', durationSec: 60, startRate: PEAK_RATE, endRate: PEAK_RATE },
    { name: 'tail', durationSec: 20, startRate: PEAK_RATE, endRate: TAIL_END_RATE },
  ],
  drainTimeoutSec: 900,
  consumer: { capacityPerSec: LOTTERY_CAPACITY, workers: 2 },
  producer: { workers: 0, tickMs: 1, batchMax: 512 },
  topology: { flush: 'sync', replication: 'sync', isolation: 'thread', segmentSize: 1 << 30 },
  thresholds: {
    // The sale's question: did the broker take the peak as it came?
    ackedRatePhases: ['peak'],
    minAckedRatio: 0.95,
    // The activity system must return at once: a claim's acknowledgement within 100 ms,
    // judged over the sale itself (the warm-up is there to warm the JIT and the caches).
    maxSendP99Ms: 100,
    latencyPhases: ['ramp', 'peak', 'tail'],
    // What a mode that promises less may lose to a fault (a power cut, a lost disk): at most one
    // second of the peak, about what an async flush (every 500 ms) or an async slave may not hold yet.
    // sync/sync and async/sync (the slave holds every acknowledged message) promise no loss.
    maxLost: { 'sync/async': PEAK_RATE, 'async/async': PEAK_RATE, 'async/none': PEAK_RATE },
  },
};
