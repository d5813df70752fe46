// The one integer check behind every config and flag (store config, broker
// config, CLI flags): a typo or a bad value fails loudly with the option's
// name and the allowed range, never silently falls back to a default.
import { InvalidConfigError } from './errors.js';

/**
 * `value` as an integer in [min, max], or an InvalidConfigError naming `what`
 * (the option as the user wrote it: `--queues`, `store config segmentSize`).
 */
export function checkInteger(what: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new InvalidConfigError(`${what} must be an integer ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}
