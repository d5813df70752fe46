import { describe, expect, it } from 'vitest';
import type { CpuFigure } from '../run-result.js';
import { cpuFigures, cpuPerMessage, roleKind, type ActivitySnapshot } from './cpu-figures.js';

function snap(at: number, roles: Record<string, [activeMs: number, cpuUs: number | undefined]>): ActivitySnapshot {
  return { at, activity: Object.entries(roles).map(([role, [activeMs, cpuUs]]) => ({ role, activeMs, cpuUs })) };
}

const saleStart = snap(1000, { master: [100, 1_000_000], 'producer 0': [50, 200_000], 'producer 1': [50, 300_000], 'consumer 0': [10, 0] });
const saleEnd = snap(11_000, { master: [8100, 9_000_000], 'producer 0': [5050, 4_000_000], 'producer 1': [3050, 3_000_000], 'consumer 0': [2010, 2_000_000] });
const drainEnd = snap(13_000, { master: [9000, 10_000_000], 'producer 0': [5060, 4_200_000], 'producer 1': [3060, 3_300_000], 'consumer 0': [3000, 3_000_000] });

const input = {
  saleStart,
  saleEnd,
  drainEnd,
  acked: 1_000_000,
  producerAcked: new Map([
    ['producer 0', 600_000],
    ['producer 1', 400_000],
  ]),
  consumerReceived: new Map([['consumer 0', 750_000]]),
};

describe('cpuFigures', () => {
  it('gives each role its busy share over the sale and its CPU per message over the sale and the drain, against its own denominator', () => {
    const f = cpuFigures(input);
    expect(f).toEqual([
      // 9 s of CPU over 1,000,000 acknowledged messages.
      { role: 'master', busyShare: 0.8, cpuUs: 9_000_000, messages: 1_000_000, usPerMessage: 9 },
      // A producer: its own acknowledged messages.
      { role: 'producer 0', busyShare: 0.5, cpuUs: 4_000_000, messages: 600_000, usPerMessage: 6.67 },
      { role: 'producer 1', busyShare: 0.3, cpuUs: 3_000_000, messages: 400_000, usPerMessage: 7.5 },
      // A consumer: what it received; its drain CPU counts.
      { role: 'consumer 0', busyShare: 0.2, cpuUs: 3_000_000, messages: 750_000, usPerMessage: 4 },
    ]);
  });

  it('gives no CPU per message where a reading is missing or went backwards, or there was no message', () => {
    const f = cpuFigures({
      ...input,
      drainEnd: snap(13_000, { master: [9000, undefined], 'producer 0': [5060, 100_000], 'producer 1': [3060, 3_300_000], 'consumer 0': [3000, 3_000_000] }),
      consumerReceived: new Map(),
    });
    expect(f.map((r) => [r.role, r.cpuUs, r.usPerMessage])).toEqual([
      ['master', null, null],
      ['producer 0', null, null],
      ['producer 1', 3_000_000, 7.5],
      ['consumer 0', 3_000_000, null],
    ]);
  });
});

describe('cpuPerMessage', () => {
  const figures: CpuFigure[] = cpuFigures(input);

  it('adds every role up per acknowledged message, and by kind', () => {
    expect(cpuPerMessage(figures, 1_000_000, 12_000)).toEqual({ windowSec: 12, all: 19, brokers: 9, producers: 7, consumers: 3 });
  });

  it('gives no total for a kind with a role whose CPU is unknown, nor without messages', () => {
    const unknown = figures.map((f) => (f.role === 'consumer 0' ? { ...f, cpuUs: null } : f));
    expect(cpuPerMessage(unknown, 1_000_000, 12_000)).toMatchObject({ all: null, brokers: 9, producers: 7, consumers: null });
    expect(cpuPerMessage(figures, 0, 12_000)).toMatchObject({ all: null, brokers: null });
  });

  it('tells the kinds apart by name', () => {
    expect(['master', 'slave broker-b', 'producer 3', 'consumer 0'].map(roleKind)).toEqual(['broker', 'broker', 'producer', 'consumer']);
  });
});
