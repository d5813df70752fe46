// The scenario arithmetic: command-line overrides (duration and rate scaling,
// topology and pool sizes, input left alone), the curve's length and peak, the
// offered message count (floor of the rate's integral), the rate and phase at
// an instant, and timeOfMessage as the inverse of messagesDueAt.
import { describe, expect, it } from 'vitest';
import {
  applyOverrides,
  DRAIN_PHASE,
  messagesDueAt,
  peakRate,
  phaseAt,
  producingSeconds,
  rateAt,
  timeOfMessage,
  type Phase,
  type Scenario,
} from './scenario.js';

function sample(): Scenario {
  return {
    name: 'sample',
    description: 'a test scenario',
    topic: 'T',
    queues: 4,
    bodySize: 64,
    phases: [
      { name: 'warmup', durationSec: 10, startRate: 1_000, endRate: 1_000 },
      { name: 'ramp', durationSec: 5, startRate: 1_000, endRate: 4_000 },
      { name: 'peak', durationSec: 20, startRate: 4_000, endRate: 4_000 },
      { name: 'tail', durationSec: 5, startRate: 4_000, endRate: 500 },
    ],
    drainTimeoutSec: 60,
    consumer: { capacityPerSec: 2_000, workers: 2 },
    producer: { workers: 1, tickMs: 1, batchMax: 128 },
    topology: { flush: 'sync', replication: 'sync', isolation: 'thread', segmentSize: 1 << 20 },
    thresholds: { ackedRatePhases: ['peak'], minAckedRatio: 0.9, maxSendP99Ms: 100 },
  };
}

describe('producingSeconds and peakRate', () => {
  it('sums the phase durations and finds the highest start or end rate', () => {
    const s = sample();
    expect(producingSeconds(s)).toBe(40);
    expect(peakRate(s)).toBe(4_000);
    expect(peakRate({ ...s, phases: [{ name: 'down', durationSec: 1, startRate: 7_000, endRate: 10 }] })).toBe(7_000);
    expect(peakRate({ ...s, phases: [] })).toBe(0);
    expect(producingSeconds({ ...s, phases: [] })).toBe(0);
  });
});

describe('applyOverrides', () => {
  it('returns an equal scenario when nothing is overridden', () => {
    const s = sample();
    expect(applyOverrides(s, {})).toEqual(s);
  });

  it('scales each phase duration in proportion to the new total', () => {
    const s = sample();
    const o = applyOverrides(s, { durationSec: 20 });
    expect(o.phases.map((p) => p.durationSec)).toEqual([5, 2.5, 10, 2.5]);
    expect(producingSeconds(o)).toBeCloseTo(20, 12);
    expect(o.phases.map((p) => p.name)).toEqual(['warmup', 'ramp', 'peak', 'tail']);
    // Rates are untouched by a duration override.
    expect(o.phases.map((p) => [p.startRate, p.endRate])).toEqual(s.phases.map((p) => [p.startRate, p.endRate]));
    expect(o.consumer.capacityPerSec).toBe(2_000);
  });

  it('scales every rate and the consumer capacity by new peak / old peak', () => {
    const s = sample();
    const o = applyOverrides(s, { rate: 1_000 }); // peak 4000 -> 1000: factor 1/4
    expect(o.phases.map((p) => [p.startRate, p.endRate])).toEqual([
      [250, 250],
      [250, 1_000],
      [1_000, 1_000],
      [1_000, 125],
    ]);
    expect(peakRate(o)).toBe(1_000);
    expect(o.consumer.capacityPerSec).toBe(500);
    expect(o.phases.map((p) => p.durationSec)).toEqual([10, 5, 20, 5]);
  });

  it('scales duration and rate together', () => {
    const o = applyOverrides(sample(), { durationSec: 80, rate: 8_000 });
    expect(o.phases[1]).toEqual({ name: 'ramp', durationSec: 10, startRate: 2_000, endRate: 8_000 });
    expect(o.consumer.capacityPerSec).toBe(4_000);
  });

  it('leaves rates alone when the curve is all zero (no division by a zero peak)', () => {
    const s = { ...sample(), phases: [{ name: 'idle', durationSec: 3, startRate: 0, endRate: 0 }] };
    const o = applyOverrides(s, { rate: 5_000 });
    expect(o.phases[0]).toEqual({ name: 'idle', durationSec: 3, startRate: 0, endRate: 0 });
    expect(o.consumer.capacityPerSec).toBe(2_000);
  });

  it('overrides flush, replication, isolation, queues, consumers and producers, keeping the rest', () => {
    const s = sample();
    const o = applyOverrides(s, { flush: 'async', replication: 'none', isolation: 'process', queues: 9, consumers: 5, producers: 3 });
    expect(o.topology).toEqual({ flush: 'async', replication: 'none', isolation: 'process', segmentSize: 1 << 20 });
    expect(o.queues).toBe(9);
    expect(o.consumer).toEqual({ capacityPerSec: 2_000, workers: 5 });
    expect(o.producer).toEqual({ workers: 3, tickMs: 1, batchMax: 128 });
    expect(o.name).toBe('sample');
    expect(o.thresholds).toEqual(s.thresholds);
    // producers: 0 is a real value (size to the machine), not "no override".
    expect(applyOverrides(s, { producers: 0 }).producer.workers).toBe(0);
  });

  it('does not change its input', () => {
    const s = sample();
    const before = structuredClone(s);
    const o = applyOverrides(s, { durationSec: 7, rate: 123, flush: 'async', replication: 'async', isolation: 'process', queues: 1, consumers: 1, producers: 7 });
    expect(s).toEqual(before);
    expect(o.phases).not.toBe(s.phases);
    expect(o.topology).not.toBe(s.topology);
    expect(o.consumer).not.toBe(s.consumer);
    expect(o.producer).not.toBe(s.producer);
  });
});

describe('messagesDueAt', () => {
  const constant: Phase[] = [{ name: 'c', durationSec: 2, startRate: 1_000, endRate: 1_000 }];
  const ramp: Phase[] = [{ name: 'r', durationSec: 4, startRate: 1_000, endRate: 3_000 }];

  it('is rate * t on a constant phase, floored', () => {
    expect(messagesDueAt(constant, 0)).toBe(0);
    expect(messagesDueAt(constant, 0.0009)).toBe(0);
    expect(messagesDueAt(constant, 0.001)).toBe(1);
    expect(messagesDueAt(constant, 0.0015)).toBe(1);
    expect(messagesDueAt(constant, 1.25)).toBe(1_250);
    expect(messagesDueAt(constant, 2)).toBe(2_000);
  });

  it('is 0 before the start', () => {
    expect(messagesDueAt(constant, -1)).toBe(0);
    expect(messagesDueAt(ramp, -0.5)).toBe(0);
  });

  it('is the trapezoid area on a linear ramp', () => {
    // rate(t) = 1000 + 500 t: area to t = 1000 t + 250 t^2.
    expect(messagesDueAt(ramp, 1)).toBe(1_250);
    expect(messagesDueAt(ramp, 2)).toBe(3_000);
    expect(messagesDueAt(ramp, 4)).toBe(8_000); // (1000 + 3000) / 2 * 4
    expect(messagesDueAt(ramp, 0.1)).toBe(Math.floor(100 + 2.5));
    // A ramp down: rate(t) = 3000 - 500 t.
    const down: Phase[] = [{ name: 'd', durationSec: 4, startRate: 3_000, endRate: 1_000 }];
    expect(messagesDueAt(down, 1)).toBe(2_750);
    expect(messagesDueAt(down, 4)).toBe(8_000);
  });

  it('adds the phases up across boundaries', () => {
    const phases: Phase[] = [...constant, ...ramp];
    expect(messagesDueAt(phases, 2)).toBe(2_000);
    expect(messagesDueAt(phases, 3)).toBe(2_000 + 1_250);
    expect(messagesDueAt(phases, 6)).toBe(10_000);
  });

  it('stays at the total beyond the end of the curve', () => {
    const phases: Phase[] = [...constant, ...ramp];
    expect(messagesDueAt(phases, 6.001)).toBe(10_000);
    expect(messagesDueAt(phases, 1e6)).toBe(10_000);
    expect(messagesDueAt(phases, Infinity)).toBe(10_000);
    expect(messagesDueAt([], 5)).toBe(0);
  });

  it('floors a fractional total', () => {
    const phases: Phase[] = [{ name: 'x', durationSec: 1, startRate: 0, endRate: 3 }]; // area 1.5
    expect(messagesDueAt(phases, 10)).toBe(1);
  });
});

describe('rateAt and phaseAt', () => {
  const phases: Phase[] = [
    { name: 'warmup', durationSec: 2, startRate: 100, endRate: 100 },
    { name: 'ramp', durationSec: 4, startRate: 100, endRate: 500 },
    { name: 'tail', durationSec: 1, startRate: 500, endRate: 0 },
  ];

  it('interpolates the rate linearly within a phase', () => {
    expect(rateAt(phases, 0)).toBe(100);
    expect(rateAt(phases, 1.9)).toBe(100);
    expect(rateAt(phases, 2)).toBe(100); // the ramp starts at 100
    expect(rateAt(phases, 3)).toBe(200);
    expect(rateAt(phases, 5)).toBe(400);
    expect(rateAt(phases, 6)).toBe(500);
    expect(rateAt(phases, 6.5)).toBe(250);
  });

  it('is 0 after the curve', () => {
    expect(rateAt(phases, 7)).toBe(0);
    expect(rateAt(phases, 100)).toBe(0);
    expect(rateAt([], 0)).toBe(0);
  });

  it('names the running phase, half-open intervals, and the drain after the curve', () => {
    expect(phaseAt(phases, 0)).toBe('warmup');
    expect(phaseAt(phases, 1.999)).toBe('warmup');
    expect(phaseAt(phases, 2)).toBe('ramp');
    expect(phaseAt(phases, 5.999)).toBe('ramp');
    expect(phaseAt(phases, 6)).toBe('tail');
    expect(phaseAt(phases, 7)).toBe(DRAIN_PHASE);
    expect(phaseAt(phases, 1e9)).toBe('drain');
    expect(phaseAt([], 0)).toBe('drain');
  });
});

describe('timeOfMessage', () => {
  // Starts at rate 0, then constant, ramp up, ramp down, a pause (rate 0), constant.
  const phases: Phase[] = [
    { name: 'from-zero', durationSec: 1, startRate: 0, endRate: 1_000 }, // 500
    { name: 'constant', durationSec: 0.5, startRate: 1_000, endRate: 1_000 }, // 500
    { name: 'up', durationSec: 0.7, startRate: 1_000, endRate: 3_000 }, // 1400
    { name: 'down', durationSec: 1.3, startRate: 3_000, endRate: 200 }, // 2080
    { name: 'pause', durationSec: 0.4, startRate: 0, endRate: 0 }, // 0
    { name: 'last', durationSec: 0.25, startRate: 200, endRate: 200 }, // 50
  ];
  const total = messagesDueAt(phases, Infinity);

  /** Message n is due exactly when floor(integral) reaches n + 1: not a microsecond before. */
  function checkInverse(n: number): void {
    const t = timeOfMessage(phases, n);
    expect(Number.isFinite(t), `message ${n}`).toBe(true);
    expect(messagesDueAt(phases, t + 1e-9), `message ${n} due just after ${t}`).toBeGreaterThanOrEqual(n + 1);
    expect(messagesDueAt(phases, t - 1e-6), `message ${n} not due just before ${t}`).toBeLessThanOrEqual(n);
  }

  it('has the expected total', () => {
    expect(total).toBe(500 + 500 + 1_400 + 2_080 + 50);
  });

  it('is the inverse of messagesDueAt for every message of the curve', () => {
    for (let n = 0; n < total; n++) checkInverse(n);
  });

  it('puts the first and last message of each phase at the right instants', () => {
    // First message of the whole curve, where the rate starts at 0: 1 = 500 t^2.
    expect(timeOfMessage(phases, 0)).toBeCloseTo(Math.sqrt(1 / 500), 12);
    // Last message of a phase whose area is a whole number: exactly at its end.
    expect(timeOfMessage(phases, 499)).toBeCloseTo(1, 12);
    expect(timeOfMessage(phases, 999)).toBeCloseTo(1.5, 12);
    expect(timeOfMessage(phases, 2_399)).toBeCloseTo(2.2, 12);
    expect(timeOfMessage(phases, 4_479)).toBeCloseTo(3.5, 9);
    // First messages of the next phases.
    expect(timeOfMessage(phases, 500)).toBeCloseTo(1.001, 12);
    expect(timeOfMessage(phases, 1_000)).toBeGreaterThan(1.5);
    expect(timeOfMessage(phases, 2_400)).toBeGreaterThan(2.2);
    // After the pause: nothing is due during it, the next message comes 1/200 s into 'last'.
    expect(timeOfMessage(phases, 4_480)).toBeCloseTo(3.9 + 1 / 200, 9);
    expect(timeOfMessage(phases, total - 1)).toBeCloseTo(4.15, 9);
    for (const n of [0, 499, 500, 999, 1_000, 2_399, 2_400, 4_479, 4_480, total - 1]) checkInverse(n);
  });

  it('never puts a message inside a pause', () => {
    for (let n = 0; n < total; n++) {
      const t = timeOfMessage(phases, n);
      expect(t > 3.5 && t < 3.9, `message ${n} at ${t}`).toBe(false);
    }
  });

  it('is non-decreasing in n', () => {
    let prev = -Infinity;
    for (let n = 0; n < total; n++) {
      const t = timeOfMessage(phases, n);
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
    }
  });

  it('is Infinity past the last message', () => {
    expect(timeOfMessage(phases, total)).toBe(Infinity);
    expect(timeOfMessage(phases, total + 1_000)).toBe(Infinity);
    expect(timeOfMessage([], 0)).toBe(Infinity);
    // A fractional total: 1.5 messages' worth is one message.
    const frac: Phase[] = [{ name: 'x', durationSec: 1, startRate: 0, endRate: 3 }];
    expect(timeOfMessage(frac, 0)).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(timeOfMessage(frac, 1)).toBe(Infinity);
  });

  it('holds for a realistic flash-sale curve, sampled', () => {
    const sale: Phase[] = [
      { name: 'warmup', durationSec: 20, startRate: 20_000, endRate: 20_000 },
      { name: 'ramp', durationSec: 10, startRate: 20_000, endRate: 240_000 },
      { name: 'peak', durationSec: 60, startRate: 240_000, endRate: 240_000 },
      { name: 'tail', durationSec: 20, startRate: 240_000, endRate: 30_000 },
    ];
    const saleTotal = messagesDueAt(sale, Infinity);
    expect(saleTotal).toBe(400_000 + 1_300_000 + 14_400_000 + 2_700_000);
    const boundaries = [0, 399_999, 400_000, 1_699_999, 1_700_000, 16_099_999, 16_100_000, saleTotal - 1];
    const samples = [...boundaries];
    for (let n = 1; n < saleTotal; n += 7_919) samples.push(n);
    for (const n of samples) {
      const t = timeOfMessage(sale, n);
      expect(messagesDueAt(sale, t + 1e-9), `message ${n}`).toBeGreaterThanOrEqual(n + 1);
      expect(messagesDueAt(sale, t - 1e-6), `message ${n}`).toBeLessThanOrEqual(n);
    }
    expect(timeOfMessage(sale, saleTotal)).toBe(Infinity);
  });
});
