import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../common/index.js';
import { parseClaimRequest } from './claim-request.js';

const none = new URLSearchParams();
const body = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseClaimRequest', () => {
  it('takes the JSON body', () => {
    expect(parseClaimRequest(body({ userId: 10_000_000_042, activityId: 'double12', seq: 7, intendedUs: 123 }), none)).toEqual({ userId: 10_000_000_042, activityId: 'double12', seq: 7, intendedUs: 123 });
    expect(parseClaimRequest(body({ userId: '42' }), none)).toEqual({ userId: 42 });
  });

  it('takes the query string when there is no body', () => {
    expect(parseClaimRequest(Buffer.alloc(0), new URLSearchParams('userId=42&activityId=a-1&seq=3'))).toEqual({ userId: 42, activityId: 'a-1', seq: 3 });
  });

  it.each([
    ['no user id', body({}), none, /userId is required/],
    ['an empty request', Buffer.alloc(0), none, /userId is required/],
    ['broken JSON', body('{"userId": 4'), none, /not valid JSON/],
    ['a JSON array', body([1]), none, /JSON object/],
    ['a negative user id', body({ userId: -1 }), none, /userId/],
    ['a fractional user id', body({ userId: 1.5 }), none, /userId/],
    ['an unsafe user id', body({ userId: 2 ** 60 }), none, /userId/],
    ['a non-numeric user id', body({ userId: 'abc' }), none, /userId/],
    ['a user id as boolean', body({ userId: true }), none, /userId/],
    ['an unknown field', body({ userId: 1, user: 2 }), none, /unknown field "user"/],
    ['a bad activity id', body({ userId: 1, activityId: 'a b' }), none, /activityId/],
    ['a seq past 32 bits', body({ userId: 1, seq: 2 ** 32 }), none, /seq/],
    ['a seq as string in JSON', body({ userId: 1, seq: '3' }), none, /seq/],
    ['a repeated query parameter', Buffer.alloc(0), new URLSearchParams('userId=1&userId=2'), /twice/],
    ['a bad query user id', Buffer.alloc(0), new URLSearchParams('userId=1e3'), /userId/],
  ])('refuses %s with an InvalidRequestError', (_what, b, q, message) => {
    let caught: unknown;
    try {
      parseClaimRequest(b, q);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidRequestError);
    expect((caught as Error).message).toMatch(message);
  });
});
