// The producer registry: who is checked with (live connections only, round
// robin), leaving on close, expiry of silent producers, and its bound.
import { describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../common/index.js';
import type { RequestContext } from '../../net/index.js';
import { MAX_PRODUCER_REGISTRATIONS, ProducerGroups } from './producer-groups.js';

/** A connection's context as the registry uses it: closed flag, close listeners, notify. */
function fakeCtx(): RequestContext & { close(): void } {
  const listeners: (() => void)[] = [];
  const ctx = {
    closed: false,
    onClose: (fn: () => void) => listeners.push(fn),
    close() {
      ctx.closed = true;
      for (const f of listeners) f();
    },
  };
  return ctx as unknown as RequestContext & { close(): void };
}

describe('producer groups', () => {
  it('picks live producers of the group in turn; a closed connection leaves at once', () => {
    const g = new ProducerGroups();
    const a = fakeCtx();
    const b = fakeCtx();
    g.register('a', 'g1', a, 0);
    g.register('b', 'g1', b, 0);
    expect(new Set([g.pick('g1'), g.pick('g1')])).toEqual(new Set([a, b]));
    expect(g.pick('other')).toBeUndefined();
    a.close();
    expect(g.members('g1')).toEqual(['b']);
    expect(g.pick('g1')).toBe(b);
  });

  it('a reconnected producer is kept when its old connection closes; silent ones expire', () => {
    const g = new ProducerGroups();
    const old = fakeCtx();
    const now = fakeCtx();
    g.register('a', 'g1', old, 0);
    g.register('a', 'g1', now, 10);
    old.close();
    expect(g.pick('g1')).toBe(now);
    g.expire(100, 1000);
    expect(g.members('g1')).toEqual(['a']);
    g.expire(2000, 1000);
    expect(g.members('g1')).toEqual([]);
  });

  it('refuses registrations past its bound, and takes them again once some left', () => {
    const g = new ProducerGroups();
    const ctx = fakeCtx();
    for (let i = 0; i < MAX_PRODUCER_REGISTRATIONS; i++) g.register(`p${i}`, 'g', ctx, 0);
    expect(() => g.register('one-more', 'g', ctx, 0)).toThrow(LimitExceededError);
    // A known producer's heartbeat is still taken.
    g.register('p0', 'g', ctx, 1);
    g.unregister('p1', 'g');
    g.register('one-more', 'g', ctx, 0);
    expect(g.members('g')).toContain('one-more');
  });
});
