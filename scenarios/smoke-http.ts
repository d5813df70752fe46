// double12-http in miniature, for CI and the harness's own test: the same
// front (autocannon users over HTTP, the activity service) at a low rate for
// a few seconds, with bounds loose enough for a busy shared machine; the
// zero-loss check is as strict as everywhere.
import type { Scenario } from '../src/harness/index.js';
import { scenario as double12Http } from './double12-http.js';

const PEAK_RATE = 200;

export const scenario: Scenario = {
  ...double12Http,
  name: 'smoke-http',
  description: 'double12-http in miniature: 200 claims/s peak over HTTP, ~6 s, for CI',
  queues: 8,
  phases: [
    { name: 'warmup', durationSec: 1, startRate: 50, endRate: 50 },
    { name: 'ramp', durationSec: 1, startRate: 50, endRate: PEAK_RATE },
    { name: 'peak', durationSec: 3, startRate: PEAK_RATE, endRate: PEAK_RATE },
    { name: 'tail', durationSec: 1, startRate: PEAK_RATE, endRate: 50 },
  ],
  drainTimeoutSec: 120,
  consumer: { capacityPerSec: 400, workers: 2 },
  topology: { ...double12Http.topology, segmentSize: 64 << 20 },
  http: { connections: 64, workers: 1, serviceWorkers: 2, timeoutSec: 20 },
  thresholds: {
    ackedRatePhases: [],
    minAckedRatio: 0,
    maxLost: { 'sync/async': PEAK_RATE, 'async/async': PEAK_RATE, 'async/none': PEAK_RATE },
    http: { max503Share: 0.05, maxResponseP99Ms: 10_000, minAchievedRatio: 0.5 },
  },
};
