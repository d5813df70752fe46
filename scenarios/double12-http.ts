// Double 12 as the users see it: the same curve's shape, but the users scan
// the QR code and their phones call the activity service over HTTP (POST
// /claims), played by autocannon (closed loop, 256 concurrent users). The
// rates are double12's scaled down to what HTTP carries on a 2-core machine
// with the whole system on it (--rate scales them again). Zero loss is
// judged on the claims the service answered 200; 503s are counted.
import type { Scenario } from '../src/harness/index.js';
import { scenario as double12 } from './double12.js';

const PEAK_RATE = 3_000;
const WARMUP_RATE = 250;
const TAIL_END_RATE = 375;
/** double12's lottery takes a third of the peak: a backlog builds and drains after the sale. */
const LOTTERY_CAPACITY = 1_000;

export const scenario: Scenario = {
  ...double12,
  name: 'double12-http',
  description: 'Flash sale over HTTP: autocannon users call the activity service, ramp to 3,000 claims/s, hold a minute, backlog drained at 1,000/s',
  phases: [
    { name: 'warmup', durationSec: 20, startRate: WARMUP_RATE, endRate: WARMUP_RATE },
    { name: 'ramp', durationSec: 10, startRate: WARMUP_RATE, endRate: PEAK_RATE },
    { name: 'peak', durationSec: 60, startRate: PEAK_RATE, endRate: PEAK_RATE },
    { name: 'tail', durationSec: 20, startRate: PEAK_RATE, endRate: TAIL_END_RATE },
  ],
  consumer: { capacityPerSec: LOTTERY_CAPACITY, workers: 2 },
  front: 'http',
  http: { connections: 256, workers: 0, serviceWorkers: 0, timeoutSec: 20 },
  thresholds: {
    // The peak answered 200 at 90% of what it offered (a closed loop falls behind when answers slow down).
    ackedRatePhases: ['peak'],
    minAckedRatio: 0.9,
    // The claim-level send latency counts from the curve's instant, and autocannon's quotas send a second's
    // claims in a burst: it is reported, not bounded; the user's wait is bounded by the response p99.
    latencyPhases: ['ramp', 'peak', 'tail'],
    maxLost: { 'sync/async': PEAK_RATE, 'async/async': PEAK_RATE, 'async/none': PEAK_RATE },
    http: { max503Share: 0.01, maxResponseP99Ms: 500, minAchievedRatio: 0.9 },
  },
};
