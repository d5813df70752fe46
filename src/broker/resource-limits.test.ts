// The broker's resource limits on their own: all-or-nothing admission of
// topics and groups, the counters, the config checks (the default maxTopics
// fits one registration frame; an explicit one that does not is an error).
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, LimitExceededError, RefusalCounters } from '../common/index.js';
import { thrownBy } from '../../test/helpers/errors.js';
import { checkResourceLimits, groupsOfTopics, RESOURCE_LIMIT_DEFAULTS, ResourceLimits, topicsFittingOneRegistration } from './resource-limits.js';

function setup(over: Partial<typeof RESOURCE_LIMIT_DEFAULTS> = {}): { limits: ResourceLimits; topics: Map<string, number>; refusals: RefusalCounters } {
  const topics = new Map<string, number>([['A', 4]]);
  const refusals = new RefusalCounters();
  const view = { get topicCount() { return topics.size; }, queueCount: (t: string) => topics.get(t) };
  return { limits: new ResourceLimits({ ...RESOURCE_LIMIT_DEFAULTS, ...over }, view, refusals, ['known']), topics, refusals };
}

describe('ResourceLimits', () => {
  it('admits topics up to maxTopics, all or nothing, and counts refusals', () => {
    const { limits, topics, refusals } = setup({ maxTopics: 3 });
    limits.admitTopics(['A'], 4); // exists: always fine
    const err = thrownBy(() => limits.admitTopics(['B', 'C', 'D'], 1));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).limit).toBe('maxTopics');
    limits.admitTopics(['B', 'C'], 1);
    topics.set('B', 1).set('C', 1);
    expect(() => limits.admitTopics(['D'], 1)).toThrow(/limit maxTopics: this broker holds 3 topics, at most 3/);
    expect(refusals.snapshot()).toEqual({ maxTopics: 2 });
  });

  it('refuses more queues than maxQueuesPerTopic unless the topic already has them', () => {
    const { limits, topics, refusals } = setup({ maxQueuesPerTopic: 8 });
    expect(() => limits.admitTopics(['B'], 9)).toThrow(/limit maxQueuesPerTopic/);
    limits.admitTopics(['B'], 8);
    topics.set('Big', 100); // loaded from disk before the limit was lowered
    limits.admitTopics(['Big'], 100);
    expect(refusals.get('maxQueuesPerTopic')).toBe(1);
  });

  it('admits groups up to maxGroups and maxGroupsPerHeartbeat; known groups always pass', () => {
    const { limits, refusals } = setup({ maxGroups: 3, maxGroupsPerHeartbeat: 2 });
    expect(() => limits.admitGroups(['a', 'b', 'c'])).toThrow(/limit maxGroupsPerHeartbeat/);
    limits.admitGroups(['a', 'b']);
    expect(() => limits.admitGroups(['known', 'c'])).toThrow(/limit maxGroups/);
    limits.admitGroups(['known', 'a']);
    expect(limits.groupCount).toBe(3);
    expect(refusals.snapshot()).toEqual({ maxGroupsPerHeartbeat: 1, maxGroups: 1 });
  });

  it('clamps QUERY_BY_KEY maxCount into [1, maxKeyQueryCount]', () => {
    const { limits } = setup({ maxKeyQueryCount: 10 });
    expect([0, 1, 10, 65_535].map((n) => limits.keyQueryCount(n))).toEqual([1, 1, 10, 10]);
  });

  it('knows groups from retry and dead-letter topic names', () => {
    expect(groupsOfTopics(['%RETRY%g1', '%DLQ%g2', 'plain', 'SCHEDULE_TOPIC_XXXX'])).toEqual(['g1', 'g2']);
  });

  it('fits the default maxTopics to one registration frame; an explicit one that does not fit is a config error', () => {
    const small = { ...RESOURCE_LIMIT_DEFAULTS };
    checkResourceLimits(small, 128 * 1024, false);
    expect(small.maxTopics).toBe(topicsFittingOneRegistration(128 * 1024));
    expect(small.maxTopics).toBeLessThan(RESOURCE_LIMIT_DEFAULTS.maxTopics);
    expect(thrownBy(() => checkResourceLimits({ ...RESOURCE_LIMIT_DEFAULTS }, 128 * 1024, true))).toBeInstanceOf(InvalidConfigError);
    expect(thrownBy(() => checkResourceLimits({ ...RESOURCE_LIMIT_DEFAULTS, maxGroupsPerHeartbeat: 256 }, 16 << 20, false))).toBeInstanceOf(InvalidConfigError);
  });
});
