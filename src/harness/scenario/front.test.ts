// The HTTP front in the scenario model: --front http on a producers scenario
// scales its peak to what HTTP carries (unless --rate says), --connections
// lands in the http settings, the defaults fill in, and bad HTTP settings or
// thresholds are errors naming the field; double12-http and smoke-http load.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { applyOverrides, frontOf, HTTP_DEFAULT_PEAK_RATE, HTTP_FRONT_DEFAULTS, httpFront, peakRate, type Scenario } from './scenario.js';
import { checkScenario, loadScenario } from './scenarios.js';

const BASE: Scenario = {
  name: 't',
  description: 't',
  topic: 'T',
  queues: 4,
  bodySize: 128,
  phases: [
    { name: 'warmup', durationSec: 10, startRate: 20_000, endRate: 20_000 },
    { name: 'peak', durationSec: 10, startRate: 240_000, endRate: 240_000 },
  ],
  drainTimeoutSec: 60,
  consumer: { capacityPerSec: 80_000, workers: 2 },
  producer: { workers: 1, tickMs: 1, batchMax: 512 },
  topology: { flush: 'sync', replication: 'sync', isolation: 'thread', segmentSize: 1 << 20 },
  thresholds: { ackedRatePhases: ['peak'], minAckedRatio: 0.9 },
};

describe('the HTTP front in the scenario model', () => {
  it('--front http without --rate scales the curve and the lottery to the HTTP peak; with --rate, --rate wins', () => {
    const s = applyOverrides(BASE, { front: 'http' });
    expect(frontOf(s)).toBe('http');
    expect(peakRate(s)).toBe(HTTP_DEFAULT_PEAK_RATE);
    expect(s.phases[0]!.startRate).toBeCloseTo(250, 6);
    expect(s.consumer.capacityPerSec).toBeCloseTo(1000, 6);
    expect(peakRate(applyOverrides(BASE, { front: 'http', rate: 500 }))).toBe(500);
    // A scenario already on the HTTP front keeps its own rates.
    const http = { ...BASE, front: 'http' as const, phases: [{ name: 'peak', durationSec: 5, startRate: 700, endRate: 700 }], thresholds: { ackedRatePhases: [], minAckedRatio: 0 } };
    expect(peakRate(applyOverrides(http, { front: 'http' }))).toBe(700);
    expect(frontOf(BASE)).toBe('producers');
  });

  it('fills the HTTP defaults in and takes --connections', () => {
    expect(httpFront(BASE)).toEqual(HTTP_FRONT_DEFAULTS);
    expect(httpFront(applyOverrides(BASE, { front: 'http', connections: 32 })).connections).toBe(32);
  });

  it('rejects bad HTTP settings and thresholds, naming the field', () => {
    const bad = (s: Partial<Scenario>, msg: RegExp): void => {
      expect(() => checkScenario({ ...BASE, ...s }, 'scenario t')).toThrow(InvalidConfigError);
      expect(() => checkScenario({ ...BASE, ...s }, 'scenario t')).toThrow(msg);
    };
    bad({ front: 'grpc' as never }, /front must be producers or http/);
    bad({ http: { conections: 3 } as never }, /http: unknown setting "conections"/);
    bad({ http: { connections: 0 } }, /http\.connections must be an integer within 1\.\.10000/);
    bad({ http: { timeoutSec: -1 } }, /http\.timeoutSec must be positive/);
    bad({ thresholds: { ...BASE.thresholds, http: { max503Share: 2 } } }, /thresholds\.http\.max503Share must be within 0\.\.1/);
    bad({ thresholds: { ...BASE.thresholds, http: { maxP99: 1 } as never } }, /thresholds\.http: unknown threshold "maxP99"/);
    expect(() => checkScenario({ ...BASE, front: 'http', http: { connections: 8 }, thresholds: { ...BASE.thresholds, http: { maxResponseP99Ms: 50 } } }, 'scenario t')).not.toThrow();
  });

  it('double12-http and smoke-http load as HTTP scenarios with HTTP thresholds', async () => {
    for (const name of ['double12-http', 'smoke-http']) {
      const s = await loadScenario(name);
      expect(frontOf(s), name).toBe('http');
      expect(s.thresholds.http, name).toBeDefined();
    }
  });
});
