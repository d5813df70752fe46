import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { checkConnectionLimits, CONNECTION_LIMIT_DEFAULTS, connectionLimitsOf } from './connection-limits.js';

describe('connection limits', () => {
  it('defaults pass; each bad value is an InvalidConfigError naming the key', () => {
    expect(checkConnectionLimits({ ...CONNECTION_LIMIT_DEFAULTS })).toEqual(CONNECTION_LIMIT_DEFAULTS);
    expect(checkConnectionLimits({ ...CONNECTION_LIMIT_DEFAULTS, partialFrameTimeoutMs: 0 }).partialFrameTimeoutMs).toBe(0);
    const bad: [string, unknown][] = [
      ['maxConnections', 0],
      ['maxConnections', 1.5],
      ['maxInFlightPerConnection', -1],
      ['outputHighWaterBytes', 1024],
      ['outputHighWaterBytes', '16MiB'],
      ['partialFrameTimeoutMs', -1],
    ];
    for (const [key, value] of bad) {
      expect(() => checkConnectionLimits({ ...CONNECTION_LIMIT_DEFAULTS, [key]: value }, 'name server ')).toThrow(InvalidConfigError);
      expect(() => checkConnectionLimits({ ...CONNECTION_LIMIT_DEFAULTS, [key]: value }, 'name server ')).toThrow(`name server ${key}`);
    }
  });

  it('connectionLimitsOf keeps only the four limits', () => {
    expect(connectionLimitsOf({ ...CONNECTION_LIMIT_DEFAULTS, port: 1 } as typeof CONNECTION_LIMIT_DEFAULTS)).toEqual(CONNECTION_LIMIT_DEFAULTS);
  });
});
