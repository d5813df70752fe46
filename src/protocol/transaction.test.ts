// Transaction codecs: round trips, the exact END_TRANSACTION layout, and
// refusals as MalformedFrameError of every truncation, trailing bytes, a
// half request with other than one message, and unknown actions/outcomes.
import { describe, expect, it } from 'vitest';
import { MalformedFrameError } from '../common/index.js';
import {
  decodeCheckTransactionState,
  decodeEndTransaction,
  decodeEndTransactionResponse,
  decodeProducerRegistration,
  decodeTransactionHalf,
  encodeCheckTransactionState,
  encodeEndTransaction,
  encodeEndTransactionResponse,
  encodeProducerRegistration,
  encodeTransactionHalf,
  TransactionAction,
  TransactionOutcome,
} from './transaction.js';

function expectMalformed(fn: () => unknown): void {
  expect(fn).toThrow(MalformedFrameError);
}

/** Every strict prefix and one trailing byte are refused as malformed. */
function refusesDamage(body: Buffer, decode: (b: Buffer) => unknown): void {
  for (let n = 0; n < body.length; n++) expectMalformed(() => decode(body.subarray(0, n)));
  expectMalformed(() => decode(Buffer.concat([body, Buffer.from([0])])));
}

describe('transaction codecs', () => {
  it('TRANSACTION_HALF: the group, then a SEND request of exactly one message', () => {
    const body = encodeTransactionHalf({ group: 'g1', send: { topic: 'T', queueId: 3, messages: [{ body: Buffer.from('x'), tags: 't', keys: ['a', 'b'], properties: { p: 'v' }, bornTimestamp: 42 }] } });
    const d = decodeTransactionHalf(body);
    expect(d.group).toBe('g1');
    expect(d.send).toMatchObject({ topic: 'T', queueId: 3 });
    expect(d.send.messages[0]).toMatchObject({ tags: 't', keys: ['a', 'b'], properties: { p: 'v' }, bornTimestamp: 42 });
    expect(d.send.messages[0]!.body.toString()).toBe('x');
    refusesDamage(body, decodeTransactionHalf);
    const two = encodeTransactionHalf({ group: 'g1', send: { topic: 'T', queueId: 0, messages: [{ body: Buffer.from('a') }, { body: Buffer.from('b') }] } });
    expectMalformed(() => decodeTransactionHalf(two));
    const none = encodeTransactionHalf({ group: 'g1', send: { topic: 'T', queueId: 0, messages: [] } });
    expectMalformed(() => decodeTransactionHalf(none));
  });

  it('END_TRANSACTION: exact bytes, round trip, unknown action or flag refused', () => {
    const req = { group: 'g', halfPhysicalOffset: 2 ** 40 + 5, halfQueueOffset: 7, action: TransactionAction.Rollback, fromCheck: true } as const;
    const body = encodeEndTransaction(req);
    expect(body.toString('hex')).toBe('0167' + '0000010000000005' + '0000000000000007' + '02' + '01');
    expect(decodeEndTransaction(body)).toEqual(req);
    refusesDamage(body, decodeEndTransaction);
    const bad = Buffer.from(body);
    bad[bad.length - 2] = 3;
    expectMalformed(() => decodeEndTransaction(bad));
    bad[bad.length - 2] = 1;
    bad[bad.length - 1] = 2;
    expectMalformed(() => decodeEndTransaction(bad));
  });

  it('END_TRANSACTION response: round trip, unknown outcome refused', () => {
    const res = { outcome: TransactionOutcome.Committed, duplicate: true, queueId: 1, queueOffset: 99, physicalOffset: 1234 } as const;
    const body = encodeEndTransactionResponse(res);
    expect(decodeEndTransactionResponse(body)).toEqual(res);
    refusesDamage(body, decodeEndTransactionResponse);
    const bad = Buffer.from(body);
    bad[0] = 9;
    expectMalformed(() => decodeEndTransactionResponse(bad));
  });

  it('CHECK_TRANSACTION_STATE and producer registration: round trips', () => {
    const check = { brokerName: 'broker-a', group: 'g', halfPhysicalOffset: 10, halfQueueOffset: 2, checkTimes: 4, record: Buffer.from('record bytes') };
    const body = encodeCheckTransactionState(check);
    expect(decodeCheckTransactionState(body)).toEqual(check);
    refusesDamage(body, decodeCheckTransactionState);
    const reg = { clientId: 'host@1@ab', group: 'g' };
    const r = encodeProducerRegistration(reg);
    expect(decodeProducerRegistration(r)).toEqual(reg);
    refusesDamage(r, decodeProducerRegistration);
  });
});
