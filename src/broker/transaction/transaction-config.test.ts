// The transaction timings in the broker config: RocketMQ's defaults, settable,
// and bad values refused with InvalidConfigError naming the key.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { resolveBrokerConfig } from '../broker-config.js';

const store = { dir: '/tmp/metaq-config-test-unused' };

describe('transaction config keys', () => {
  it('defaults to 6 s, 30 s and 15 checks; takes other values', () => {
    expect(resolveBrokerConfig({ store })).toMatchObject({ transactionTimeoutMs: 6000, transactionCheckIntervalMs: 30_000, transactionCheckMax: 15 });
    expect(resolveBrokerConfig({ store, transactionTimeoutMs: 100, transactionCheckIntervalMs: 50, transactionCheckMax: 0 })).toMatchObject({ transactionTimeoutMs: 100, transactionCheckIntervalMs: 50, transactionCheckMax: 0 });
  });

  it('refuses bad values and typos', () => {
    for (const bad of [{ transactionTimeoutMs: 0 }, { transactionCheckIntervalMs: -1 }, { transactionCheckMax: 65_536 }, { transactionCheckMax: 1.5 }, { transactionTimeoutMs: '6000' }]) {
      expect(() => resolveBrokerConfig({ store, ...(bad as object) })).toThrow(InvalidConfigError);
    }
    expect(() => resolveBrokerConfig({ store, transactionCheckMaxx: 3 } as never)).toThrow(/unknown broker option "transactionCheckMaxx"/);
  });
});
