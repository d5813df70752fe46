// Admin and tool requests: topics, lookups, offsets by time (BROKER_STATS: stats.ts).
//
// CREATE_TOPIC request: topic str8 | queueCount u32; response: empty
// QUERY_BY_KEY request: topic str8 | key str16 | maxCount u16; response: records
// QUERY_BY_ID  request: physicalOffset u64; response: records (one), or status NotFound
//   records: count u32 | count x raw CommitLog record
// OFFSET_FOR_TIMESTAMP request: topic str8 | queueId u32 | timestamp u64; response: offset u64
// QUEUE_OFFSETS request: topic str8 | queueId u32; response: minOffset u64 | maxOffset u64
// Text bodies: the name server's answer to BROKER_STATS, UTF-8 JSON text to the end
import { BodyReader, BodyWriter } from './body.js';
import type { QueueRef } from './offsets.js';

export interface CreateTopicRequest {
  topic: string;
  queueCount: number;
}

export interface QueryByKeyRequest {
  topic: string;
  key: string;
  maxCount: number;
}

export interface OffsetForTimestampRequest extends QueueRef {
  timestamp: number;
}

export interface QueueOffsets {
  minOffset: number;
  maxOffset: number;
}

export function encodeCreateTopic(req: CreateTopicRequest): Buffer {
  return new BodyWriter().str8(req.topic, 'topic').u32(req.queueCount).finish();
}

export function decodeCreateTopic(body: Buffer): CreateTopicRequest {
  const r = new BodyReader(body);
  const req = { topic: r.str8('topic'), queueCount: r.u32('queueCount') };
  r.done('the create-topic request');
  return req;
}

export function encodeQueryByKey(req: QueryByKeyRequest): Buffer {
  return new BodyWriter().str8(req.topic, 'topic').str16(req.key, 'key').u16(req.maxCount).finish();
}

export function decodeQueryByKey(body: Buffer): QueryByKeyRequest {
  const r = new BodyReader(body);
  const req = { topic: r.str8('topic'), key: r.str16('key'), maxCount: r.u16('maxCount') };
  r.done('the query');
  return req;
}

export function encodeQueryById(physicalOffset: number): Buffer {
  return new BodyWriter(8).u64(physicalOffset).finish();
}

export function decodeQueryById(body: Buffer): number {
  const r = new BodyReader(body);
  const v = r.u64('physicalOffset');
  r.done('the query');
  return v;
}

export function encodeRecordList(records: readonly Buffer[]): Buffer {
  const w = new BodyWriter().u32(records.length);
  for (const rec of records) w.bytes(rec);
  return w.finish();
}

/** Splits a records body into one view per record (sizes come from each record's first field). */
export function decodeRecordList(body: Buffer): Buffer[] {
  const r = new BodyReader(body);
  const n = r.u32('record count');
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const size = r.buf.length - r.pos >= 4 ? r.buf.readUInt32BE(r.pos) : 0;
    out.push(r.bytes(Math.max(size, 4), 'a record'));
  }
  r.done('the records');
  return out;
}

export function encodeOffsetForTimestamp(req: OffsetForTimestampRequest): Buffer {
  return new BodyWriter().str8(req.topic, 'topic').u32(req.queueId).u64(req.timestamp).finish();
}

export function decodeOffsetForTimestamp(body: Buffer): OffsetForTimestampRequest {
  const r = new BodyReader(body);
  const req = { topic: r.str8('topic'), queueId: r.u32('queueId'), timestamp: r.u64('timestamp') };
  r.done('the request');
  return req;
}

export function encodeQueueRef(q: QueueRef): Buffer {
  return new BodyWriter().str8(q.topic, 'topic').u32(q.queueId).finish();
}

export function decodeQueueRef(body: Buffer): QueueRef {
  const r = new BodyReader(body);
  const q = { topic: r.str8('topic'), queueId: r.u32('queueId') };
  r.done('the queue');
  return q;
}

export function encodeQueueOffsets(o: QueueOffsets): Buffer {
  return new BodyWriter(16).u64(o.minOffset).u64(o.maxOffset).finish();
}

export function decodeQueueOffsets(body: Buffer): QueueOffsets {
  const r = new BodyReader(body);
  const o = { minOffset: r.u64('minOffset'), maxOffset: r.u64('maxOffset') };
  r.done('the offsets');
  return o;
}

export function encodeText(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

export function decodeText(body: Buffer): string {
  return body.toString('utf8');
}
