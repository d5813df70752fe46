// Alert rule transitions: a rule fires at the first evaluation above its
// bound when forSec is 0, only after forSec of continuous excess otherwise (a
// dip resets the wait), stays firing without repeating the transition, and
// resolves at the first evaluation at or below the bound; the views carry
// the value and when the state last changed. ruleValue picks the figure each
// kind watches from a monitor view.
import { describe, expect, it } from 'vitest';
import { MONITOR_SAMPLE } from '../../../test/helpers/monitor-sample.js';
import { checkAlertRules } from './alert-rules.js';
import { AlertStates } from './alert-states.js';
import { ruleValue } from './broker-monitor.js';

describe('AlertStates', () => {
  it('fires at once above the bound with forSec 0, resolves at or below it', () => {
    const rules = checkAlertRules([{ name: 'lag', kind: 'groupLagMessages', above: 10 }]);
    const a = new AlertStates(rules);
    expect(a.evaluate(() => 10, 1000)).toEqual([]);
    expect(a.evaluate(() => 11, 2000)).toEqual([{ rule: rules[0], firing: true, value: 11 }]);
    expect(a.evaluate(() => 50, 3000)).toEqual([]);
    expect(a.views()[0]).toMatchObject({ name: 'lag', firing: true, value: 50, sinceMs: 2000 });
    expect(a.firing).toBe(1);
    expect(a.evaluate(() => 10, 4000)).toEqual([{ rule: rules[0], firing: false, value: 10 }]);
    expect(a.views()[0]).toMatchObject({ firing: false, value: 10, sinceMs: 4000 });
    expect(a.firing).toBe(0);
  });

  it('waits forSec of continuous excess; a dip starts the wait again', () => {
    const rules = checkAlertRules([{ name: 'late', kind: 'groupLagSeconds', above: 5, forSec: 3 }]);
    const a = new AlertStates(rules);
    expect(a.evaluate(() => 6, 0)).toEqual([]);
    expect(a.evaluate(() => 6, 2000)).toEqual([]);
    expect(a.evaluate(() => 4, 2500)).toEqual([]); // dip: the wait restarts
    expect(a.evaluate(() => 6, 3000)).toEqual([]);
    expect(a.evaluate(() => 6, 5999)).toEqual([]);
    expect(a.evaluate(() => 6, 6000)).toHaveLength(1);
    expect(a.views()[0]!.firing).toBe(true);
  });

  it('keeps each rule apart', () => {
    const rules = checkAlertRules([{ name: 'a', kind: 'flushFailures', above: 0 }, { name: 'b', kind: 'diskUsedRatio', above: 0.5 }]);
    const a = new AlertStates(rules);
    const t = a.evaluate((r) => (r.name === 'a' ? 1 : 0.4), 1);
    expect(t.map((x) => x.rule.name)).toEqual(['a']);
    expect(a.views().map((v) => v.firing)).toEqual([true, false]);
  });
});

describe('ruleValue', () => {
  const ha = { mode: 'async', slaveConnected: true, writtenOffset: 100, replicatedOffset: 40, slaveLagBytes: 60, slaveLagMs: 5, sendsWaitingForSlave: 0, readersCappedBySlave: false, slaveResyncs: 0, writesHeld: 'none', slavesRefused: 0 } as const;
  const view = { ...MONITOR_SAMPLE, groupTotals: [{ group: 'billing', lagMessages: 95, lagMs: 12_345 }, { group: 'audit', lagMessages: 300, lagMs: 2000 }, { group: '%internal', lagMessages: 10_000, lagMs: 99_000 }] };
  const value = (raw: object): number => ruleValue(checkAlertRules([{ name: 'r', ...raw }])[0]!, view, ha);

  it('takes the named group, or the worst client group (never the broker\'s own % groups)', () => {
    expect(value({ kind: 'groupLagMessages', group: 'billing', above: 0 })).toBe(95);
    expect(value({ kind: 'groupLagMessages', above: 0 })).toBe(300);
    expect(value({ kind: 'groupLagSeconds', above: 0 })).toBe(12.345);
    expect(value({ kind: 'groupLagSeconds', group: 'nobody', above: 0 })).toBe(0);
  });

  it('reads the slave lag, the disk share and the flush failures', () => {
    expect(value({ kind: 'slaveLagBytes', above: 0 })).toBe(60);
    expect(value({ kind: 'diskUsedRatio', above: 0.5 })).toBe(0.75);
    expect(value({ kind: 'flushFailures', above: 0 })).toBe(1);
  });
});
