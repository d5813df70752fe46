// Transactional messages (docs/PROTOCOL.md "Transactional messages"): the
// half message a producer stores first, the end of its transaction (commit or
// rollback), the broker's check back on a producer of the group, and the
// registration of a producer's group that lets the broker find one.
//
// TRANSACTION_HALF request:  group str8 | a SEND request body (one message)
//   response: as SEND's (the half message's queue and CommitLog offsets)
// END_TRANSACTION request:   group str8 | halfPhysicalOffset u64 | halfQueueOffset u64 | action u8 | fromCheck u8
//   response: outcome u8 | duplicate u8 | queueId u32 | queueOffset u64 | physicalOffset u64
// CHECK_TRANSACTION_STATE (broker to producer, oneway):
//   brokerName str8 | group str8 | halfPhysicalOffset u64 | halfQueueOffset u64 | checkTimes u16 | record bytes32
// REGISTER_PRODUCER / UNREGISTER_PRODUCER request: clientId str8 | group str8; response empty
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';
import { decodeSendRequest, encodeSendRequest, type DecodedSendRequest, type SendRequest } from './send.js';

/** What a producer asks for when it ends a transaction. */
export const TransactionAction = {
  Commit: 1,
  Rollback: 2,
} as const;
export type TransactionAction = (typeof TransactionAction)[keyof typeof TransactionAction];

/** How a transaction ended, as END_TRANSACTION answers. */
export const TransactionOutcome = {
  Committed: 1,
  RolledBack: 2,
  /** Checked transactionCheckMax times without an answer: moved to the discard topic. */
  Discarded: 3,
  /** Ended before (a duplicate END) long enough ago that the broker no longer remembers how. */
  Ended: 4,
} as const;
export type TransactionOutcome = (typeof TransactionOutcome)[keyof typeof TransactionOutcome];

export interface TransactionHalfRequest {
  group: string;
  send: SendRequest;
}

export interface DecodedTransactionHalf {
  group: string;
  send: DecodedSendRequest;
}

/** Names one half message: where it is in the broker's CommitLog and in the half topic's queue. */
export interface HalfRef {
  group: string;
  halfPhysicalOffset: number;
  halfQueueOffset: number;
}

export interface EndTransactionRequest extends HalfRef {
  action: TransactionAction;
  /** Answers a CHECK_TRANSACTION_STATE (not the producer's own END). */
  fromCheck: boolean;
}

export interface EndTransactionResponse {
  outcome: TransactionOutcome;
  /** The transaction had already ended (or was ending): nothing was written for this request. */
  duplicate: boolean;
  /** Where the committed message is (zero unless committed by this request or remembered). */
  queueId: number;
  queueOffset: number;
  physicalOffset: number;
}

export interface CheckTransactionState extends HalfRef {
  /** The broker asking (with the half's physical offset, the transaction's id). */
  brokerName: string;
  /** Checks sent before this one. */
  checkTimes: number;
  /** The half message's raw record (the producer's checker reads its keys and properties). */
  record: Buffer;
}

export interface ProducerRegistration {
  clientId: string;
  group: string;
}

export function encodeTransactionHalf(req: TransactionHalfRequest): Buffer {
  const head = new BodyWriter().str8(req.group, 'group').finish();
  return Buffer.concat([head, encodeSendRequest(req.send)]);
}

export function decodeTransactionHalf(body: Buffer): DecodedTransactionHalf {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const send = decodeSendRequest(r.rest());
  if (send.messages.length !== 1) throw new MalformedFrameError(`a half message request carries exactly one message, not ${send.messages.length}`);
  return { group, send };
}

export function encodeEndTransaction(req: EndTransactionRequest): Buffer {
  return new BodyWriter().str8(req.group, 'group').u64(req.halfPhysicalOffset).u64(req.halfQueueOffset).u8(req.action).u8(req.fromCheck ? 1 : 0).finish();
}

export function decodeEndTransaction(body: Buffer): EndTransactionRequest {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const halfPhysicalOffset = r.u64('halfPhysicalOffset');
  const halfQueueOffset = r.u64('halfQueueOffset');
  const action = r.u8('action');
  if (action !== TransactionAction.Commit && action !== TransactionAction.Rollback) throw new MalformedFrameError(`transaction action must be 1 (commit) or 2 (rollback), got ${action}`);
  const fromCheck = r.u8('fromCheck');
  if (fromCheck > 1) throw new MalformedFrameError(`fromCheck must be 0 or 1, got ${fromCheck}`);
  r.done('the end-transaction request');
  return { group, halfPhysicalOffset, halfQueueOffset, action, fromCheck: fromCheck === 1 };
}

export function encodeEndTransactionResponse(res: EndTransactionResponse): Buffer {
  return new BodyWriter().u8(res.outcome).u8(res.duplicate ? 1 : 0).u32(res.queueId).u64(res.queueOffset).u64(res.physicalOffset).finish();
}

export function decodeEndTransactionResponse(body: Buffer): EndTransactionResponse {
  const r = new BodyReader(body);
  const outcome = r.u8('outcome');
  if (outcome < TransactionOutcome.Committed || outcome > TransactionOutcome.Ended) throw new MalformedFrameError(`unknown transaction outcome ${outcome}`);
  const res = { outcome: outcome as TransactionOutcome, duplicate: r.u8('duplicate') !== 0, queueId: r.u32('queueId'), queueOffset: r.u64('queueOffset'), physicalOffset: r.u64('physicalOffset') };
  r.done('the end-transaction response');
  return res;
}

export function encodeCheckTransactionState(c: CheckTransactionState): Buffer {
  return new BodyWriter(128 + c.record.length).str8(c.brokerName, 'brokerName').str8(c.group, 'group').u64(c.halfPhysicalOffset).u64(c.halfQueueOffset).u16(c.checkTimes).bytes32(c.record).finish();
}

export function decodeCheckTransactionState(body: Buffer): CheckTransactionState {
  const r = new BodyReader(body);
  const c = { brokerName: r.str8('brokerName'), group: r.str8('group'), halfPhysicalOffset: r.u64('halfPhysicalOffset'), halfQueueOffset: r.u64('halfQueueOffset'), checkTimes: r.u16('checkTimes'), record: r.bytes32('record') };
  r.done('the check-transaction-state request');
  return c;
}

export function encodeProducerRegistration(p: ProducerRegistration): Buffer {
  return new BodyWriter().str8(p.clientId, 'clientId').str8(p.group, 'group').finish();
}

export function decodeProducerRegistration(body: Buffer): ProducerRegistration {
  const r = new BodyReader(body);
  const p = { clientId: r.str8('clientId'), group: r.str8('group') };
  r.done('the producer registration');
  return p;
}
