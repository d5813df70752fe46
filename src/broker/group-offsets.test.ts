// The offset-writing rules on their own, over fixed queue ranges and real
// ConsumerOffsets: commits clamped up to minOffset and refused past
// maxOffset (a batch all or nothing), internal groups refused, resets clamped
// and reported, and the fence that holds live members' commits back until
// their pull is redirected (or the fence expires).
import { describe, expect, it } from 'vitest';
import { InternalGroupError, InvalidRequestError, OffsetOutOfRangeError, UnknownQueueError, UnknownTopicError } from '../common/index.js';
import { thrownBy } from '../../test/helpers/errors.js';
import { useTempDirs } from '../../test/helpers/temp-dir.js';
import { ConsumerOffsets } from './consumer-offsets.js';
import { GroupOffsets, type QueueRanges } from './group-offsets.js';

const tempDir = useTempDirs('group-offsets');
const FENCE_MS = 1000;

/** Topic T: queue 0 holds [10, 20) (retention deleted 0..9), queue 1 holds [0, 5); message i of a queue stored at time 1000 + i. */
const ranges: QueueRanges = {
  queueCount: (topic) => (topic === 'T' ? 2 : undefined),
  minOffset: (_t, q) => (q === 0 ? 10 : 0),
  maxOffset: (_t, q) => (q === 0 ? 20 : 5),
  offsetForTimestamp: (_t, q, ts) => Math.min(Math.max(ts - 1000, q === 0 ? 10 : 0), q === 0 ? 20 : 5),
};

function setup(): { rules: GroupOffsets; offsets: ConsumerOffsets } {
  const offsets = new ConsumerOffsets(tempDir());
  return { rules: new GroupOffsets({ store: ranges, offsets, brokerName: 'b', fenceMs: FENCE_MS }), offsets };
}

describe('commits', () => {
  it('accept [minOffset, maxOffset], clamp below minOffset, refuse past maxOffset', () => {
    const { rules, offsets } = setup();
    rules.commit('g', [{ topic: 'T', queueId: 0, offset: 20 }], 0);
    expect(offsets.get('g', 'T', 0)).toBe(20);
    rules.commit('h', [{ topic: 'T', queueId: 0, offset: 3 }], 0);
    expect(offsets.get('h', 'T', 0)).toBe(10);
    const err = thrownBy(() => rules.commit('k', [{ topic: 'T', queueId: 0, offset: 21 }], 0));
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect((err as Error).message).toBe("COMMIT_OFFSETS for group k refused: T:0 offset 21 is past the queue's maxOffset 20 (nothing in the request was applied)");
  });

  it('apply a batch all or nothing', () => {
    const { rules, offsets } = setup();
    expect(thrownBy(() => rules.commit('g', [{ topic: 'T', queueId: 1, offset: 2 }, { topic: 'T', queueId: 0, offset: 2 ** 53 - 1 }], 0))).toBeInstanceOf(OffsetOutOfRangeError);
    expect(thrownBy(() => rules.commit('g', [{ topic: 'T', queueId: 1, offset: 2 }, { topic: 'T', queueId: 2, offset: 0 }], 0))).toBeInstanceOf(UnknownQueueError);
    expect(thrownBy(() => rules.commit('g', [{ topic: 'T', queueId: 1, offset: 2 }, { topic: 'U', queueId: 0, offset: 0 }], 0))).toBeInstanceOf(UnknownTopicError);
    expect(offsets.get('g', 'T', 1)).toBeUndefined();
    rules.commit('g', [{ topic: 'T', queueId: 1, offset: 2 }, { topic: 'T', queueId: 0, offset: 15 }], 0);
    expect([offsets.get('g', 'T', 1), offsets.get('g', 'T', 0)]).toEqual([2, 15]);
  });

  it('carried by a pull: past maxOffset not applied, below minOffset clamped', () => {
    const { rules, offsets } = setup();
    rules.commitOnPull('g', 'T', 1, 6, 0);
    expect(offsets.get('g', 'T', 1)).toBeUndefined();
    rules.commitOnPull('g', 'T', 0, 1, 0);
    expect(offsets.get('g', 'T', 0)).toBe(10);
  });

  it('refuse internal and empty groups', () => {
    const { rules } = setup();
    expect(thrownBy(() => rules.commit('%SCHEDULE%', [{ topic: 'T', queueId: 0, offset: 10 }], 0))).toBeInstanceOf(InternalGroupError);
    expect(thrownBy(() => rules.commitOnPull('%SCHEDULE%', 'T', 0, 10, 0))).toBeInstanceOf(InternalGroupError);
    expect(thrownBy(() => rules.reset({ group: '%X', topic: 'T', queueId: undefined, target: { offset: 0 } }, false, 0))).toBeInstanceOf(InternalGroupError);
    expect(thrownBy(() => rules.commit('', [], 0))).toBeInstanceOf(InvalidRequestError);
  });
});

describe('resets', () => {
  it('clamp into range, look timestamps up, and report the previous offset', () => {
    const { rules, offsets } = setup();
    rules.commit('g', [{ topic: 'T', queueId: 0, offset: 18 }], 0);
    expect(rules.reset({ group: 'g', topic: 'T', queueId: undefined, target: { offset: 2 } }, false, 0)).toEqual([
      { queueId: 0, offset: 10, previousOffset: 18, clamped: 'min', membersRedirected: false },
      { queueId: 1, offset: 2, previousOffset: undefined, clamped: undefined, membersRedirected: false },
    ]);
    expect(rules.reset({ group: 'g', topic: 'T', queueId: 1, target: { offset: 99 } }, false, 0)).toEqual([{ queueId: 1, offset: 5, previousOffset: 2, clamped: 'max', membersRedirected: false }]);
    expect(rules.reset({ group: 'g', topic: 'T', queueId: 0, target: { timestamp: 1013 } }, false, 0)).toEqual([{ queueId: 0, offset: 13, previousOffset: 10, clamped: undefined, membersRedirected: false }]);
    expect(offsets.get('g', 'T', 0)).toBe(13);
    expect(thrownBy(() => rules.reset({ group: 'g', topic: 'T', queueId: 2, target: { offset: 0 } }, false, 0))).toBeInstanceOf(UnknownQueueError);
    expect(thrownBy(() => rules.reset({ group: 'g', topic: 'U', queueId: undefined, target: { offset: 0 } }, false, 0))).toBeInstanceOf(UnknownTopicError);
  });

  it('with live members: hold their commits back until their pull is redirected, once', () => {
    const { rules, offsets } = setup();
    rules.commit('g', [{ topic: 'T', queueId: 0, offset: 20 }], 0);
    rules.reset({ group: 'g', topic: 'T', queueId: 0, target: { offset: 12 } }, true, 100);
    // The member's old position does not overwrite the reset, by commit or by pull.
    rules.commit('g', [{ topic: 'T', queueId: 0, offset: 20 }], 200);
    rules.commitOnPull('g', 'T', 0, 20, 200);
    expect(offsets.get('g', 'T', 0)).toBe(12);
    // Other groups and queues are not held back or redirected.
    expect(rules.redirect('other', 'T', 0, 20, 200)).toBeUndefined();
    expect(rules.redirect('g', 'T', 1, 5, 200)).toBeUndefined();
    // Its next pull is sent to the reset offset, once; then commits count again.
    expect(rules.redirect('g', 'T', 0, 20, 300)).toBe(12);
    expect(rules.redirect('g', 'T', 0, 12, 300)).toBeUndefined();
    rules.commitOnPull('g', 'T', 0, 14, 300);
    expect(offsets.get('g', 'T', 0)).toBe(14);
  });

  it('a pull already at the reset offset clears the fence; an expired fence lets commits through', () => {
    const { rules, offsets } = setup();
    rules.reset({ group: 'g', topic: 'T', queueId: undefined, target: { offset: 0 } }, true, 0); // queue 0: clamped up to 10
    expect(rules.redirect('g', 'T', 0, 10, 1)).toBeUndefined();
    rules.commitOnPull('g', 'T', 0, 11, 1);
    expect(offsets.get('g', 'T', 0)).toBe(11);
    // Queue 1's member never pulled: after the fence's lifetime its commits count, and no redirect comes.
    rules.commit('g', [{ topic: 'T', queueId: 1, offset: 4 }], FENCE_MS);
    expect(offsets.get('g', 'T', 1)).toBe(0);
    rules.commit('g', [{ topic: 'T', queueId: 1, offset: 4 }], FENCE_MS + 1);
    expect(offsets.get('g', 'T', 1)).toBe(4);
    expect(rules.redirect('g', 'T', 1, 4, FENCE_MS + 2)).toBeUndefined();
  });
});
