import { describe, expect, it } from 'vitest';
import { InvalidDelayError } from '../../common/index.js';
import { deliverAtOf } from './delay.js';

const NOW = 1_700_000_000_000;
const MAX = 60_000;

describe('deliverAtOf', () => {
  it('is undefined for messages that are not delayed', () => {
    expect(deliverAtOf(undefined, NOW, MAX)).toBeUndefined();
    expect(deliverAtOf({ a: 'b' }, NOW, MAX)).toBeUndefined();
  });

  it('turns a delay into a time, and keeps a time (a past one means now)', () => {
    expect(deliverAtOf({ TIMER_DELAY_MS: '1500' }, NOW, MAX)).toBe(NOW + 1500);
    expect(deliverAtOf({ TIMER_DELAY_MS: '0' }, NOW, MAX)).toBe(NOW);
    expect(deliverAtOf({ TIMER_DELAY_MS: String(MAX) }, NOW, MAX)).toBe(NOW + MAX);
    expect(deliverAtOf({ TIMER_DELIVER_MS: String(NOW + 10) }, NOW, MAX)).toBe(NOW + 10);
    expect(deliverAtOf({ TIMER_DELIVER_MS: String(NOW - 10) }, NOW, MAX)).toBe(NOW);
  });

  it.each([
    [{ TIMER_DELAY_MS: '-1' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: '1.5' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: '1e3' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: '' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: ' 5' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: String(MAX + 1) }, /beyond this broker's maxDelayMs 60000/],
    [{ TIMER_DELIVER_MS: String(NOW + MAX + 1) }, /beyond this broker's maxDelayMs/],
    [{ TIMER_DELIVER_MS: 'soon' }, /non-negative integer/],
    [{ TIMER_DELAY_MS: '1', TIMER_DELIVER_MS: String(NOW) }, /not both/],
  ])('refuses %j with a typed error', (props, message) => {
    const call = (): unknown => deliverAtOf(props, NOW, MAX);
    expect(call).toThrow(InvalidDelayError);
    expect(call).toThrow(message);
  });
});
