// The producer's retry decisions: the backoff doubles from its first wait to
// its cap and stays there; the next queue skips the broker groups to avoid
// when another group is routed (and falls back to the round-robin queue when
// none is); a failed group is avoided for a while and forgiven by a SEND_OK;
// each send status is counted under its outcome; the give-up time and abort.
import { describe, expect, it } from 'vitest';
import { attemptOutcome, BROKER_AVOID_MS, BrokerAvoidance, givenUp, MIN_RETRY_US, pickQueue, RETRY_BACKOFF_FIRST_MS, RETRY_BACKOFF_MAX_MS, retryBackoffMs } from './send-retry.js';

const q = (brokerName: string, queueId: number): { brokerName: string; queueId: number } => ({ brokerName, queueId });
const TWO_GROUPS = [q('broker-a', 0), q('broker-a', 1), q('broker-b', 0), q('broker-b', 1)];

describe('retryBackoffMs', () => {
  it('starts at the first wait, doubles, and stays at the cap however many retries', () => {
    expect(retryBackoffMs(1)).toBe(RETRY_BACKOFF_FIRST_MS);
    expect(retryBackoffMs(2)).toBe(2 * RETRY_BACKOFF_FIRST_MS);
    expect(retryBackoffMs(3)).toBe(4 * RETRY_BACKOFF_FIRST_MS);
    expect([50, 100, 200, 400, 800, 1000, 1000]).toEqual([1, 2, 3, 4, 5, 6, 7].map(retryBackoffMs));
    expect(retryBackoffMs(10_000)).toBe(RETRY_BACKOFF_MAX_MS);
    expect(retryBackoffMs(0)).toBe(RETRY_BACKOFF_FIRST_MS);
  });
});

describe('pickQueue', () => {
  it('is plain round robin when nothing is avoided', () => {
    const none = new Set<string>();
    expect([0, 1, 2, 3, 4].map((c) => pickQueue(TWO_GROUPS, c, none))).toEqual([...TWO_GROUPS, TWO_GROUPS[0]]);
  });

  it('goes to another broker group than the failed one, round robin among its queues', () => {
    const avoid = new Set(['broker-a']);
    for (let c = 0; c < 8; c++) expect(pickQueue(TWO_GROUPS, c, avoid).brokerName).toBe('broker-b');
    expect(new Set([0, 1, 2, 3].map((c) => pickQueue(TWO_GROUPS, c, avoid).queueId))).toEqual(new Set([0, 1]));
  });

  it('with one broker group (or every group avoided), the queue at the cursor: there is nowhere else to go', () => {
    const one = [q('broker-a', 0), q('broker-a', 1)];
    expect(pickQueue(one, 1, new Set(['broker-a']))).toBe(one[1]);
    expect(pickQueue(TWO_GROUPS, 2, new Set(['broker-a', 'broker-b']))).toBe(TWO_GROUPS[2]);
  });

  it('rejects an empty route', () => {
    expect(() => pickQueue([], 0, new Set())).toThrow(RangeError);
  });
});

describe('BrokerAvoidance', () => {
  it('avoids a failed group until its time is up or it answers SEND_OK', () => {
    const a = new BrokerAvoidance();
    a.failed('broker-a', 1000);
    expect([...a.avoided]).toEqual(['broker-a']);
    a.expire(1000 + BROKER_AVOID_MS - 1);
    expect(a.avoided.has('broker-a')).toBe(true);
    a.expire(1000 + BROKER_AVOID_MS);
    expect(a.avoided.size).toBe(0);
    a.failed('broker-b', 5000);
    a.succeeded('broker-b');
    expect(a.avoided.size).toBe(0);
  });
});

describe('attemptOutcome', () => {
  it('counts each status under its outcome, and a rejected send as an error', () => {
    expect(attemptOutcome('SEND_OK')).toBe('ok');
    expect(attemptOutcome('SLAVE_TIMEOUT')).toBe('slaveTimeout');
    expect(attemptOutcome('SLAVE_NOT_AVAILABLE')).toBe('slaveNotAvailable');
    expect(attemptOutcome('FLUSH_DISK_TIMEOUT')).toBe('otherStatus');
    expect(attemptOutcome(undefined)).toBe('error');
  });
});

describe('givenUp', () => {
  it('gives up at the give-up time or on abort, not before', () => {
    expect(givenUp(99, 100, false)).toBe(false);
    expect(givenUp(100, 100, false)).toBe(true);
    expect(givenUp(0, 100, true)).toBe(true);
  });

  it('re-sends a batch that first failed late for MIN_RETRY_US still, past the give-up time', () => {
    const failed = 5_000_000;
    expect(givenUp(failed + MIN_RETRY_US - 1, 100, false, failed)).toBe(false);
    expect(givenUp(failed + MIN_RETRY_US, 100, false, failed)).toBe(true);
    expect(givenUp(failed + 1, 100, true, failed)).toBe(true);
  });
});
