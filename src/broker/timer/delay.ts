// What a delayed send asks for, read from its message properties: a delay
// (TIMER_DELAY_MS) or a delivery time (TIMER_DELIVER_MS), checked against the
// broker's maxDelayMs. A refused delay is an InvalidDelayError before anything
// is stored.
import { InvalidDelayError, PROPERTY_TIMER_DELAY_MS, PROPERTY_TIMER_DELIVER_MS } from '../../common/index.js';

/** Decimal digits only: no sign, no fraction, no exponent, no spaces. */
const DIGITS = /^[0-9]{1,16}$/;

function parseMs(name: string, value: string): number {
  const n = DIGITS.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidDelayError(`${name} must be a non-negative integer number of ms, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * When a message asks to be delivered (ms since the epoch, never before
 * `now`), or undefined for a message that is not delayed. A delivery time in
 * the past means now.
 */
export function deliverAtOf(properties: Readonly<Record<string, string>> | undefined, now: number, maxDelayMs: number): number | undefined {
  if (properties === undefined) return undefined;
  const delay = properties[PROPERTY_TIMER_DELAY_MS];
  const at = properties[PROPERTY_TIMER_DELIVER_MS];
  if (delay === undefined && at === undefined) return undefined;
  if (delay !== undefined && at !== undefined) throw new InvalidDelayError(`a message carries either ${PROPERTY_TIMER_DELAY_MS} or ${PROPERTY_TIMER_DELIVER_MS}, not both`);
  if (delay !== undefined) {
    const d = parseMs(PROPERTY_TIMER_DELAY_MS, delay);
    if (d > maxDelayMs) throw new InvalidDelayError(`${PROPERTY_TIMER_DELAY_MS} ${d} is beyond this broker's maxDelayMs ${maxDelayMs}`);
    return now + d;
  }
  const t = parseMs(PROPERTY_TIMER_DELIVER_MS, at!);
  if (t - now > maxDelayMs) throw new InvalidDelayError(`${PROPERTY_TIMER_DELIVER_MS} ${t} is ${t - now} ms away, beyond this broker's maxDelayMs ${maxDelayMs}`);
  return Math.max(t, now);
}
