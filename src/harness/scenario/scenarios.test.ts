// Scenario lookup and validation: listScenarios finds the shipped scenarios,
// loadScenario loads double12 (the .ts module under vitest) and rejects unknown
// names and names with path characters with METAQ_INVALID_CONFIG listing the
// known ones, and checkScenario names the field of each kind of mistake.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { peakRate, type Scenario } from './scenario.js';
import { checkScenario, listScenarios, loadScenario } from './scenarios.js';

function valid(): Scenario {
  return {
    name: 'test',
    description: 'a valid scenario',
    topic: 'T',
    queues: 2,
    bodySize: 64,
    phases: [
      { name: 'warmup', durationSec: 1, startRate: 10, endRate: 10 },
      { name: 'peak', durationSec: 2, startRate: 10, endRate: 100 },
    ],
    drainTimeoutSec: 10,
    consumer: { capacityPerSec: 50, workers: 1 },
    producer: { workers: 0, tickMs: 1, batchMax: 16 },
    topology: { flush: 'sync', replication: 'none', isolation: 'thread', segmentSize: 1 << 20 },
    thresholds: { ackedRatePhases: ['peak'], minAckedRatio: 0.5 },
  };
}

/** The InvalidConfigError checkScenario throws for `s`. */
function rejection(s: Scenario): InvalidConfigError {
  try {
    checkScenario(s, 'scenario x');
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigError);
    expect((e as InvalidConfigError).code).toBe('METAQ_INVALID_CONFIG');
    expect((e as Error).message.startsWith('scenario x: ')).toBe(true);
    return e as InvalidConfigError;
  }
  throw new Error('checkScenario accepted it');
}

describe('listScenarios', () => {
  it('lists the shipped scenarios by name, sorted, without extensions', () => {
    const names = listScenarios();
    expect(names).toContain('double12');
    expect(names).toContain('smoke');
    expect([...names].sort()).toEqual(names);
    for (const n of names) expect(n).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
  });
});

describe('loadScenario', () => {
  it('loads double12: peak at 240,000 msg/s, phases warmup, ramp, peak, tail', async () => {
    const s = await loadScenario('double12');
    expect(s.name).toBe('double12');
    expect(s.phases.map((p) => p.name)).toEqual(['warmup', 'ramp', 'peak', 'tail']);
    const peak = s.phases.find((p) => p.name === 'peak')!;
    expect(peak.startRate).toBe(240_000);
    expect(peak.endRate).toBe(240_000);
    expect(peakRate(s)).toBe(240_000);
    expect(() => checkScenario(s, 'double12')).not.toThrow();
  });

  it('loads smoke, a valid scenario with the same phase names', async () => {
    const s = await loadScenario('smoke');
    expect(s.name).toBe('smoke');
    expect(s.phases.map((p) => p.name)).toEqual(['warmup', 'ramp', 'peak', 'tail']);
  });

  it.each(['nope', '../scenarios/double12', 'double12/..', 'scenarios/double12', '/etc/passwd', 'double12.ts', 'Double12', '', '-double12'])(
    'rejects %j with METAQ_INVALID_CONFIG listing the known scenarios',
    async (name) => {
      const err = await loadScenario(name).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidConfigError);
      expect((err as InvalidConfigError).code).toBe('METAQ_INVALID_CONFIG');
      const message = (err as Error).message;
      expect(message).toContain('unknown scenario');
      expect(message).toContain(JSON.stringify(name));
      expect(message).toMatch(/known: .*double12/);
      expect(message).toMatch(/known: .*smoke/);
    },
  );
});

describe('checkScenario', () => {
  it('accepts a valid scenario', () => {
    expect(() => checkScenario(valid(), 'scenario x')).not.toThrow();
  });

  const cases: [string, (s: Scenario) => Scenario, RegExp][] = [
    ['zero queues', (s) => ({ ...s, queues: 0 }), /queues must be a positive integer, got 0/],
    ['fractional queues', (s) => ({ ...s, queues: 1.5 }), /queues/],
    ['an empty topic', (s) => ({ ...s, topic: '' }), /topic/],
    ['bodySize below the claim header', (s) => ({ ...s, bodySize: 31 }), /bodySize .* got 31/],
    ['no phases', (s) => ({ ...s, phases: [] }), /phases must list at least one phase/],
    ['duplicate phase names', (s) => ({ ...s, phases: [s.phases[0]!, { ...s.phases[1]!, name: 'warmup' }] }), /phase names must be distinct/],
    ['a phase named drain', (s) => ({ ...s, phases: [...s.phases, { name: 'drain', durationSec: 1, startRate: 1, endRate: 1 }] }), /"drain"/],
    ['an unnamed phase', (s) => ({ ...s, phases: [{ ...s.phases[0]!, name: '' }] }), /phase names/],
    ['a zero-length phase', (s) => ({ ...s, phases: [{ ...s.phases[0]!, durationSec: 0 }] }), /phase warmup: durationSec must be positive/],
    ['a negative start rate', (s) => ({ ...s, phases: [{ ...s.phases[0]!, startRate: -1 }] }), /phase warmup: rates must be >= 0/],
    ['a negative end rate', (s) => ({ ...s, phases: [{ ...s.phases[0]!, endRate: -5 }] }), /phase warmup: rates must be >= 0/],
    ['an infinite rate', (s) => ({ ...s, phases: [{ ...s.phases[0]!, endRate: Infinity }] }), /phase warmup: rates/],
    ['a NaN rate', (s) => ({ ...s, phases: [{ ...s.phases[0]!, startRate: NaN }] }), /phase warmup: rates/],
    ['a zero drain timeout', (s) => ({ ...s, drainTimeoutSec: 0 }), /drainTimeoutSec/],
    ['zero consumer capacity', (s) => ({ ...s, consumer: { ...s.consumer, capacityPerSec: 0 } }), /consumer\.capacityPerSec/],
    ['zero consumer workers', (s) => ({ ...s, consumer: { ...s.consumer, workers: 0 } }), /consumer\.workers/],
    ['negative producer workers', (s) => ({ ...s, producer: { ...s.producer, workers: -1 } }), /producer\.workers/],
    ['zero tick', (s) => ({ ...s, producer: { ...s.producer, tickMs: 0 } }), /producer\.tickMs/],
    ['zero batchMax', (s) => ({ ...s, producer: { ...s.producer, batchMax: 0 } }), /producer\.batchMax/],
    ['a bad flush mode', (s) => ({ ...s, topology: { ...s.topology, flush: 'fsync' as never } }), /topology\.flush must be sync or async, got "fsync"/],
    ['a bad replication mode', (s) => ({ ...s, topology: { ...s.topology, replication: 'semi' as never } }), /topology\.replication .* got "semi"/],
    ['a bad isolation', (s) => ({ ...s, topology: { ...s.topology, isolation: 'container' as never } }), /topology\.isolation .* got "container"/],
    ['a zero segment size', (s) => ({ ...s, topology: { ...s.topology, segmentSize: 0 } }), /topology\.segmentSize/],
    ['an unknown threshold phase', (s) => ({ ...s, thresholds: { ...s.thresholds, ackedRatePhases: ['peak', 'rush'] } }), /thresholds\.ackedRatePhases .*"rush"/],
    ['minAckedRatio above 1', (s) => ({ ...s, thresholds: { ...s.thresholds, minAckedRatio: 1.01 } }), /thresholds\.minAckedRatio/],
    ['a negative minAckedRatio', (s) => ({ ...s, thresholds: { ...s.thresholds, minAckedRatio: -0.1 } }), /thresholds\.minAckedRatio/],
    ['a NaN minAckedRatio', (s) => ({ ...s, thresholds: { ...s.thresholds, minAckedRatio: NaN } }), /thresholds\.minAckedRatio/],
  ];

  it.each(cases)('rejects %s, naming the field', (_what, mutate, message) => {
    const s = valid();
    const before = structuredClone(s);
    const err = rejection(mutate(s));
    expect(err.message).toMatch(message);
    expect(s).toEqual(before);
  });

  it('accepts the limits: 32-byte bodies, rate 0, producers 0, minAckedRatio 0 and 1', () => {
    const s = valid();
    for (const t of [
      { ...s, bodySize: 32 },
      { ...s, phases: [{ name: 'idle', durationSec: 1, startRate: 0, endRate: 0 }], thresholds: { ackedRatePhases: [], minAckedRatio: 0 } },
      { ...s, thresholds: { ...s.thresholds, minAckedRatio: 1 } },
    ]) {
      expect(() => checkScenario(t, 'scenario x')).not.toThrow();
    }
  });
});
