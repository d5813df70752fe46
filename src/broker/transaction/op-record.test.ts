// Op records: what is written is read back; anything else in the op topic is
// skipped (undefined), never mistaken for an end.
import { describe, expect, it } from 'vitest';
import { encodeOpBody, OpKind, parseOpRecord } from './op-record.js';

describe('op records', () => {
  it('round trips every kind, with the committed position for a commit', () => {
    expect(parseOpRecord(OpKind.Rollback, encodeOpBody(12))).toEqual({ kind: 'r', halfQueueOffset: 12, committed: undefined });
    expect(parseOpRecord(OpKind.Check, encodeOpBody(0))).toEqual({ kind: 'k', halfQueueOffset: 0, committed: undefined });
    expect(parseOpRecord(OpKind.Discard, encodeOpBody(2 ** 50))).toEqual({ kind: 'd', halfQueueOffset: 2 ** 50, committed: undefined });
    const at = { queueId: 3, queueOffset: 41, physicalOffset: 9000 };
    expect(parseOpRecord(OpKind.Commit, encodeOpBody(5, at))).toEqual({ kind: 'c', halfQueueOffset: 5, committed: at });
  });

  it('skips what is not an op record', () => {
    expect(parseOpRecord(undefined, encodeOpBody(1))).toBeUndefined();
    expect(parseOpRecord('x', encodeOpBody(1))).toBeUndefined();
    expect(parseOpRecord('c', Buffer.from(''))).toBeUndefined();
    expect(parseOpRecord('c', Buffer.from('-1'))).toBeUndefined();
    expect(parseOpRecord('c', Buffer.from('1.5'))).toBeUndefined();
    expect(parseOpRecord('r', Buffer.from('1 2 3 4'))).toBeUndefined();
    expect(parseOpRecord('c', Buffer.from('1 2'))).toBeUndefined();
    expect(parseOpRecord('c', Buffer.from('99999999999999999999'))).toBeUndefined();
  });
});
