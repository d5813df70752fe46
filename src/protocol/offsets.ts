// Consumer offsets: commit a group's progress on queues, fetch it back.
//
// COMMIT_OFFSETS request: group str8 | count u16 | count x (topic str8 | queueId u32 | offset u64)
//                response: empty. Each offset must lie in its queue's [minOffset, maxOffset]
//                (below minOffset it is clamped up); one bad entry (OffsetOutOfRange,
//                UnknownTopic, UnknownQueue) refuses the whole request, and an internal
//                group ('%...') is refused with InternalGroup (docs/PROTOCOL.md).
// QUERY_OFFSET   request: group str8 | topic str8 | queueId u32
//                response: offset u64 (status NotFound when the group never committed)
import { BodyReader, BodyWriter } from './body.js';

export interface QueueRef {
  topic: string;
  queueId: number;
}

export interface OffsetEntry extends QueueRef {
  offset: number;
}

export interface CommitOffsetsRequest {
  group: string;
  entries: readonly OffsetEntry[];
}

export interface QueryOffsetRequest extends QueueRef {
  group: string;
}

export function encodeCommitOffsets(req: CommitOffsetsRequest): Buffer {
  const w = new BodyWriter();
  w.str8(req.group, 'group').u16(req.entries.length);
  for (const e of req.entries) w.str8(e.topic, 'topic').u32(e.queueId).u64(e.offset);
  return w.finish();
}

export function decodeCommitOffsets(body: Buffer): CommitOffsetsRequest {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const n = r.u16('entry count');
  const entries: OffsetEntry[] = [];
  for (let i = 0; i < n; i++) entries.push({ topic: r.str8('topic'), queueId: r.u32('queueId'), offset: r.u64('offset') });
  r.done('the commit request');
  return { group, entries };
}

export function encodeQueryOffset(req: QueryOffsetRequest): Buffer {
  return new BodyWriter().str8(req.group, 'group').str8(req.topic, 'topic').u32(req.queueId).finish();
}

export function decodeQueryOffset(body: Buffer): QueryOffsetRequest {
  const r = new BodyReader(body);
  const req = { group: r.str8('group'), topic: r.str8('topic'), queueId: r.u32('queueId') };
  r.done('the offset query');
  return req;
}

export function encodeOffset(offset: number): Buffer {
  return new BodyWriter(8).u64(offset).finish();
}

export function decodeOffset(body: Buffer): number {
  const r = new BodyReader(body);
  const v = r.u64('offset');
  r.done('the offset');
  return v;
}
