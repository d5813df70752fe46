import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { BROKER_DEFAULTS, resolveBrokerConfig } from './broker-config.js';

const DIR = '/nonexistent/metaq-config-test';

describe('broker config: maxDelayMs (delayed messages)', () => {
  it('defaults to 2 days, within the default retention', () => {
    const c = resolveBrokerConfig({ store: { dir: DIR } });
    expect(c.maxDelayMs).toBe(2 * 24 * 3600 * 1000);
    expect(BROKER_DEFAULTS.maxDelayMs).toBe(c.maxDelayMs);
  });

  it('takes an integer from 1 s to a year', () => {
    expect(resolveBrokerConfig({ store: { dir: DIR }, maxDelayMs: 60_000, retryDelaysMs: [1000] }).maxDelayMs).toBe(60_000);
  });

  it.each([
    [{ maxDelayMs: 999 }, /maxDelayMs must be an integer in 1000\.\./],
    [{ maxDelayMs: 1.5e6 + 0.5 }, /maxDelayMs must be an integer/],
    [{ maxDelayMs: '60000' }, /maxDelayMs must be an integer/],
    [{ maxDelayMs: 400 * 24 * 3600 * 1000 }, /maxDelayMs must be an integer in/],
    [{ maxDelayMs: 60_000 }, /retryDelaysMs go through the timer: none may exceed maxDelayMs 60000/],
    [{ maxDelayMs: 3600_000, store: { dir: DIR, retentionMs: 1000 } }, /maxDelayMs 3600000 is longer than store.retentionMs 1000/],
    [{ maxDelaysMs: 1000 }, /unknown broker option "maxDelaysMs"/],
  ])('refuses %j', (extra, message) => {
    const call = (): unknown => resolveBrokerConfig({ store: { dir: DIR }, ...(extra as object) });
    expect(call).toThrow(InvalidConfigError);
    expect(call).toThrow(message);
  });
});
