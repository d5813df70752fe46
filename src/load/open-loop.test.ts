// runOpenLoop on small synthetic schedules: every message handed to `send`
// exactly once and in order, chunks within batchMax, chunk times taken from the
// schedule (never before they are due), lag never negative, the in-flight bound
// of room() respected while everything still goes out (late, with its intended
// time), and stopped() ending the loop early. Timing is only ever asserted as
// a lower bound that the code guarantees: this runs on a shared, noisy machine.
import { describe, expect, it } from 'vitest';
import { nowUs } from './clock.js';
import { runOpenLoop, type OpenLoopSchedule } from './open-loop.js';

/** `rate` msg/s from t = 0, `total` messages; message n is due at (n + 1) / rate. */
function constantSchedule(rate: number, total: number): OpenLoopSchedule {
  return {
    total,
    dueAt: (t) => Math.min(total, Math.max(0, Math.floor(t * rate))),
    intendedSec: (seq) => (seq + 1) / rate,
  };
}

interface Chunk {
  first: number;
  count: number;
  firstUs: number;
  lastUs: number;
  atUs: number;
}

/** Every message exactly once, in order, chunks non-empty and within batchMax. */
function expectContiguous(chunks: Chunk[], total: number, batchMax: number): void {
  let next = 0;
  for (const c of chunks) {
    expect(c.first).toBe(next);
    expect(c.count).toBeGreaterThanOrEqual(1);
    expect(c.count).toBeLessThanOrEqual(batchMax);
    next += c.count;
  }
  expect(next).toBe(total);
}

describe('runOpenLoop', () => {
  it('hands every message to send once, in order, in chunks of at most batchMax, at the intended times', async () => {
    const rate = 2_000;
    const total = 600; // 0.3 s
    const schedule = constantSchedule(rate, total);
    const startUs = nowUs() + 20_000;
    const chunks: Chunk[] = [];
    const lags: number[] = [];
    await runOpenLoop({
      schedule,
      startUs,
      tickMs: 1,
      batchMax: 7,
      send: (first, count, firstUs, lastUs) => chunks.push({ first, count, firstUs, lastUs, atUs: nowUs() }),
      onLag: (l) => lags.push(l),
    });
    expectContiguous(chunks, total, 7);
    for (const c of chunks) {
      expect(c.firstUs).toBe(startUs + schedule.intendedSec(c.first) * 1e6);
      expect(c.lastUs).toBe(startUs + schedule.intendedSec(c.first + c.count - 1) * 1e6);
      // Open loop, not early: a chunk goes out once its last message is due (1 µs of rounding).
      expect(c.atUs).toBeGreaterThanOrEqual(c.lastUs - 1);
    }
    expect(chunks[0]!.firstUs).toBe(startUs + 500);
    expect(chunks.at(-1)!.lastUs).toBe(startUs + 300_000);
    // One lag report per tick that had something due: at least one, at most one per run of chunks.
    expect(lags.length).toBeGreaterThanOrEqual(1);
    expect(lags.length).toBeLessThanOrEqual(chunks.length);
    for (const l of lags) {
      expect(Number.isFinite(l)).toBe(true);
      expect(l).toBeGreaterThanOrEqual(0);
    }
  });

  it('waits for startUs before sending anything', async () => {
    const startUs = nowUs() + 30_000;
    const at: number[] = [];
    await runOpenLoop({
      schedule: constantSchedule(10_000, 20),
      startUs,
      tickMs: 1,
      batchMax: 100,
      send: () => at.push(nowUs()),
      onLag: () => {},
    });
    expect(at.length).toBeGreaterThanOrEqual(1);
    // The first message is due 100 µs after the start.
    for (const t of at) expect(t).toBeGreaterThanOrEqual(startUs + 100 - 1);
  });

  it('respects room(): never more in flight than allowed, and every message still goes out', async () => {
    const total = 200;
    const maxInFlight = 8;
    const schedule = constantSchedule(4_000, total);
    const startUs = nowUs() + 20_000;
    const chunks: Chunk[] = [];
    let inFlight = 0;
    let peak = 0;
    let answered = 0;
    const allAnswered = new Promise<void>((resolve) => {
      const answer = (count: number): void => {
        inFlight -= count;
        answered += count;
        if (answered === total) resolve();
      };
      void runOpenLoop({
        schedule,
        startUs,
        tickMs: 1,
        batchMax: 3,
        room: () => maxInFlight - inFlight,
        send: (first, count, firstUs, lastUs) => {
          chunks.push({ first, count, firstUs, lastUs, atUs: nowUs() });
          inFlight += count;
          peak = Math.max(peak, inFlight);
          setTimeout(() => answer(count), 2);
        },
        onLag: () => {},
      });
    });
    await allAnswered;
    expect(peak).toBeLessThanOrEqual(maxInFlight);
    expect(peak).toBeGreaterThan(0);
    expectContiguous(chunks, total, 3);
    // Held back or not, each chunk keeps its intended times.
    for (const c of chunks) {
      expect(c.firstUs).toBe(startUs + schedule.intendedSec(c.first) * 1e6);
      expect(c.lastUs).toBe(startUs + schedule.intendedSec(c.first + c.count - 1) * 1e6);
    }
  });

  it('holds everything back while room() is 0, then sends it late with its intended times and reports the lag', async () => {
    const total = 100;
    const schedule = constantSchedule(2_000, total); // all due by 50 ms
    const startUs = nowUs() + 10_000;
    const openAtUs = startUs + 100_000;
    const chunks: Chunk[] = [];
    const lags: number[] = [];
    await runOpenLoop({
      schedule,
      startUs,
      tickMs: 1,
      batchMax: 16,
      room: () => (nowUs() < openAtUs ? 0 : Infinity),
      send: (first, count, firstUs, lastUs) => chunks.push({ first, count, firstUs, lastUs, atUs: nowUs() }),
      onLag: (l) => lags.push(l),
    });
    expectContiguous(chunks, total, 16);
    expect(chunks[0]!.atUs).toBeGreaterThanOrEqual(openAtUs);
    expect(chunks[0]!.firstUs).toBe(startUs + 500);
    // The first tick that could send was at least 100 ms after the start; message 0 was due at 0.5 ms.
    expect(lags[0]).toBeGreaterThanOrEqual(100_000 - 500);
  });

  it('stops early once stopped() is true', async () => {
    const total = 20_000; // 10 s at 2000 msg/s: the test must not wait for it
    const chunks: Chunk[] = [];
    let stop = false;
    const t0 = Date.now();
    await runOpenLoop({
      schedule: constantSchedule(2_000, total),
      startUs: nowUs() + 10_000,
      tickMs: 1,
      batchMax: 50,
      stopped: () => stop,
      send: (first, count, firstUs, lastUs) => {
        chunks.push({ first, count, firstUs, lastUs, atUs: nowUs() });
        if (first + count >= 20) stop = true;
      },
      onLag: () => {},
    });
    const sent = chunks.reduce((n, c) => n + c.count, 0);
    expect(sent).toBeGreaterThanOrEqual(20);
    expect(sent).toBeLessThan(total);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expectContiguous(chunks, sent, 50);
  });

  it('sends nothing when stopped() is true from the start', async () => {
    let sends = 0;
    let lagReports = 0;
    await runOpenLoop({
      schedule: constantSchedule(2_000, 10_000),
      startUs: nowUs(),
      tickMs: 1,
      batchMax: 50,
      stopped: () => true,
      send: () => sends++,
      onLag: () => lagReports++,
    });
    expect(sends).toBe(0);
    expect(lagReports).toBe(0);
  });

  it('resolves at once for an empty schedule', async () => {
    let sends = 0;
    await runOpenLoop({ schedule: constantSchedule(1_000, 0), startUs: nowUs(), tickMs: 1, batchMax: 10, send: () => sends++, onLag: () => {} });
    expect(sends).toBe(0);
  });
});
