import { describe, expect, it } from 'vitest';
import { TimerWheel } from './timer-wheel.js';

describe('TimerWheel', () => {
  it('keeps the first and last offset of each second and hands back the previous last', () => {
    const w = new TimerWheel(10);
    expect(w.add(100, 5)).toBe(-1);
    expect(w.add(100, 7)).toBe(5);
    expect(w.add(103, 8)).toBe(-1);
    expect(w.add(100, 9)).toBe(7);
    expect(w.last(100)).toBe(9);
    expect(w.last(103)).toBe(8);
    expect(w.last(101)).toBe(-1);
    expect(w.liveSlots).toBe(2);
    expect(w.minFirst(50)).toBe(5);
  });

  it('tells a second from the one a wheel turn later, and forgets a cleared second', () => {
    const w = new TimerWheel(10);
    w.add(100, 1);
    expect(w.last(110)).toBe(-1);
    w.clear(110); // not the second the slot holds: nothing happens
    expect(w.last(100)).toBe(1);
    w.clear(100);
    expect(w.last(100)).toBe(-1);
    expect(w.liveSlots).toBe(0);
    expect(w.minFirst(42)).toBe(42);
    expect(w.add(110, 2)).toBe(-1);
    expect(w.minFirst(42)).toBe(2);
  });
});
