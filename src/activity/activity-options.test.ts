import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../common/index.js';
import { ACTIVITY_DEFAULTS, resolveActivityOptions, type ActivityServiceOptions } from './activity-options.js';

describe('resolveActivityOptions', () => {
  it('fills in the defaults: the double12 claim topic, loopback, every core', () => {
    const o = resolveActivityOptions({ namesrv: '127.0.0.1:9876; 127.0.0.1:9877' });
    expect(o).toMatchObject({ ...ACTIVITY_DEFAULTS, namesrv: ['127.0.0.1:9876', '127.0.0.1:9877'], producer: {} });
    expect(o.topic).toBe('LOTTERY_CLAIM');
    expect(o.workers).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['an unknown option (a typo)', { namesrv: 'a:1', wokers: 2 }, /unknown option "wokers"/],
    ['an unknown producer option', { namesrv: 'a:1', producer: { batchng: true } }, /unknown producer option "batchng"/],
    ['no name server', { namesrv: ' ' }, /namesrv is required/],
    ['zero workers', { namesrv: 'a:1', workers: 0 }, /workers must be an integer in 1\.\./],
    ['a body too small for the claim header', { namesrv: 'a:1', bodySize: 16 }, /bodySize/],
    ['a port out of range', { namesrv: 'a:1', port: 70000 }, /port/],
    ['a bad activity id', { namesrv: 'a:1', activity: 'a b' }, /activity must be/],
  ])('refuses %s', (_what, o, message) => {
    expect(() => resolveActivityOptions(o as unknown as ActivityServiceOptions)).toThrow(InvalidConfigError);
    expect(() => resolveActivityOptions(o as unknown as ActivityServiceOptions)).toThrow(message);
  });
});
