// RESET_OFFSETS: an admin moves a group's committed offsets on one topic of
// one broker, backwards or forwards, to an offset or to a point in time.
//
// Request:  group str8 | topic str8 | queueId u32 (ALL_QUEUES = every queue) |
//           targetKind u8 (0 offset, 1 timestamp) | target u64
// Response: count u16 | count x (queueId u32 | offset u64 | previousOffset u64 | resetFlags u8)
//   offset: the group's committed offset now; previousOffset: before the reset
//   (0 unless resetFlags has HadPrevious); resetFlags: ResetFlag bits.
import { InvalidRequestError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';

/** queueId meaning every queue of the topic. */
export const ALL_QUEUES = 0xffffffff;

export const ResetTargetKind = {
  Offset: 0,
  Timestamp: 1,
} as const;

export const ResetFlag = {
  /** The group had committed on the queue before. */
  HadPrevious: 1 << 0,
  /** The asked offset was below the queue's minOffset (retention): set to minOffset. */
  ClampedToMin: 1 << 1,
  /** The asked offset was past the queue's maxOffset: set to maxOffset. */
  ClampedToMax: 1 << 2,
  /** Live members of the group were told: their next pull on the queue is sent to the new offset. */
  MembersRedirected: 1 << 3,
} as const;

/** An absolute queue offset, or the first message stored at or after a time (ms since the epoch). */
export type ResetTarget = { offset: number } | { timestamp: number };

export interface ResetOffsetsRequest {
  group: string;
  topic: string;
  /** One queue, or undefined for every queue of the topic. */
  queueId: number | undefined;
  target: ResetTarget;
}

export interface QueueReset {
  queueId: number;
  /** The committed offset now. */
  offset: number;
  /** The committed offset before, or undefined if the group had never committed there. */
  previousOffset: number | undefined;
  /** Set when the asked offset lay outside [minOffset, maxOffset] and was moved to that end. */
  clamped: 'min' | 'max' | undefined;
  /** Live members were told (through their next pull on the queue) to continue from `offset`. */
  membersRedirected: boolean;
}

export function encodeResetOffsets(req: ResetOffsetsRequest): Buffer {
  const w = new BodyWriter().str8(req.group, 'group').str8(req.topic, 'topic').u32(req.queueId ?? ALL_QUEUES);
  if ('offset' in req.target) w.u8(ResetTargetKind.Offset).u64(req.target.offset);
  else w.u8(ResetTargetKind.Timestamp).u64(req.target.timestamp);
  return w.finish();
}

export function decodeResetOffsets(body: Buffer): ResetOffsetsRequest {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const topic = r.str8('topic');
  const queueId = r.u32('queueId');
  const kind = r.u8('targetKind');
  const value = r.u64('target');
  r.done('the reset request');
  if (kind !== ResetTargetKind.Offset && kind !== ResetTargetKind.Timestamp) throw new InvalidRequestError(`unknown reset target kind ${kind}`);
  return { group, topic, queueId: queueId === ALL_QUEUES ? undefined : queueId, target: kind === ResetTargetKind.Offset ? { offset: value } : { timestamp: value } };
}

export function encodeQueueResets(resets: readonly QueueReset[]): Buffer {
  const w = new BodyWriter().u16(resets.length);
  for (const q of resets) {
    const flags =
      (q.previousOffset !== undefined ? ResetFlag.HadPrevious : 0) |
      (q.clamped === 'min' ? ResetFlag.ClampedToMin : 0) |
      (q.clamped === 'max' ? ResetFlag.ClampedToMax : 0) |
      (q.membersRedirected ? ResetFlag.MembersRedirected : 0);
    w.u32(q.queueId).u64(q.offset).u64(q.previousOffset ?? 0).u8(flags);
  }
  return w.finish();
}

export function decodeQueueResets(body: Buffer): QueueReset[] {
  const r = new BodyReader(body);
  const n = r.u16('reset count');
  const out: QueueReset[] = [];
  for (let i = 0; i < n; i++) {
    const queueId = r.u32('queueId');
    const offset = r.u64('offset');
    const previous = r.u64('previousOffset');
    const flags = r.u8('resetFlags');
    out.push({
      queueId,
      offset,
      previousOffset: (flags & ResetFlag.HadPrevious) !== 0 ? previous : undefined,
      clamped: (flags & ResetFlag.ClampedToMin) !== 0 ? 'min' : (flags & ResetFlag.ClampedToMax) !== 0 ? 'max' : undefined,
      membersRedirected: (flags & ResetFlag.MembersRedirected) !== 0,
    });
  }
  r.done('the reset answer');
  return out;
}
