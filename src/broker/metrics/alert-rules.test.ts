// Alert rule validation: a good list resolves with its defaults, and every
// kind of mistake (unknown key or kind, a group on a non-group rule, a
// negative or fractional bound, a disk ratio of 1 or more, a duplicate name,
// too many rules) is an InvalidConfigError naming the rule; the broker config
// rejects a bad `alerts` key at start.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { resolveBrokerConfig } from '../broker-config.js';
import { checkAlertRules, MAX_ALERT_RULES } from './alert-rules.js';

function rejects(raw: unknown, message: RegExp): void {
  let caught: unknown;
  try {
    checkAlertRules(raw);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidConfigError);
  expect((caught as Error).message).toMatch(message);
}

describe('checkAlertRules', () => {
  it('resolves a valid list with forSec defaulting to 0 and group to every group', () => {
    expect(
      checkAlertRules([
        { name: 'billing-lag', kind: 'groupLagMessages', group: 'billing', above: 1000, forSec: 30 },
        { name: 'any-late', kind: 'groupLagSeconds', above: 60 },
        { name: 'disk', kind: 'diskUsedRatio', above: 0.85 },
        { name: 'slave', kind: 'slaveLagBytes', above: 64 * 1024 * 1024 },
        { name: 'flush', kind: 'flushFailures', above: 0 },
      ]),
    ).toEqual([
      { name: 'billing-lag', kind: 'groupLagMessages', group: 'billing', above: 1000, forSec: 30 },
      { name: 'any-late', kind: 'groupLagSeconds', group: undefined, above: 60, forSec: 0 },
      { name: 'disk', kind: 'diskUsedRatio', group: undefined, above: 0.85, forSec: 0 },
      { name: 'slave', kind: 'slaveLagBytes', group: undefined, above: 64 * 1024 * 1024, forSec: 0 },
      { name: 'flush', kind: 'flushFailures', group: undefined, above: 0, forSec: 0 },
    ]);
  });

  it('rejects each kind of mistake with a message naming it', () => {
    rejects({}, /alerts must be a list/);
    rejects(['x'], /alerts\[0\] must be an object/);
    rejects([{ name: 'a', kind: 'groupLagMessages', above: 1, treshold: 2 }], /alerts\[0\]: unknown key "treshold"/);
    rejects([{ name: 'bad name', kind: 'groupLagMessages', above: 1 }], /name must be/);
    rejects([{ name: 'a', kind: 'lag', above: 1 }], /alert a: kind must be one of groupLagMessages/);
    rejects([{ name: 'a', kind: 'diskUsedRatio', group: 'g', above: 0.5 }], /group applies to groupLagMessages and groupLagSeconds rules only/);
    rejects([{ name: 'a', kind: 'groupLagMessages', group: '', above: 1 }], /group must be a consumer group name/);
    rejects([{ name: 'a', kind: 'groupLagMessages' }], /above must be a number >= 0/);
    rejects([{ name: 'a', kind: 'groupLagMessages', above: -1 }], /above must be a number >= 0/);
    rejects([{ name: 'a', kind: 'groupLagMessages', above: '5' }], /above must be a number >= 0/);
    rejects([{ name: 'a', kind: 'groupLagMessages', above: 1.5 }], /whole number/);
    rejects([{ name: 'a', kind: 'diskUsedRatio', above: 85 }], /share of the disk below 1/);
    rejects([{ name: 'a', kind: 'flushFailures', above: 0, forSec: -1 }], /forSec must be an integer in 0..86400/);
    rejects([{ name: 'a', kind: 'flushFailures', above: 0, forSec: 1.5 }], /forSec must be an integer/);
    rejects([{ name: 'a', kind: 'flushFailures', above: 0 }, { name: 'a', kind: 'diskUsedRatio', above: 0.9 }], /two rules are named "a"/);
    rejects(Array.from({ length: MAX_ALERT_RULES + 1 }, (_, i) => ({ name: `r${i}`, kind: 'flushFailures', above: 0 })), /more than 64/);
  });

  it('is part of the broker config: a bad rule stops the broker from starting', () => {
    expect(() => resolveBrokerConfig({ store: { dir: '/tmp/x' }, alerts: [{ name: 'a', kind: 'nope', above: 1 }] as never })).toThrow(InvalidConfigError);
    expect(resolveBrokerConfig({ store: { dir: '/tmp/x' } }).alerts).toEqual([]);
    expect(resolveBrokerConfig({ store: { dir: '/tmp/x' }, alerts: [{ name: 'a', kind: 'flushFailures', above: 0 }] }).alerts).toHaveLength(1);
    expect(() => resolveBrokerConfig({ store: { dir: '/tmp/x' }, metricsPort: 70_000 })).toThrow(/metricsPort must be an integer 0..65535/);
    expect(() => resolveBrokerConfig({ store: { dir: '/tmp/x' }, metricsHost: '' })).toThrow(/metricsHost must be a non-empty string/);
    expect(() => resolveBrokerConfig({ store: { dir: '/tmp/x' }, monitorIntervalMs: 10 })).toThrow(/monitorIntervalMs must be an integer >= 100/);
  });
});
