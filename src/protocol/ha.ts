// Replication frames, exchanged on the master's HA port with the ordinary
// frame header (frame.ts).
//
// HA_HANDSHAKE (slave to master, request): maxOffset u64 | segmentSize u64 |
//   count u16 | count x (offset u64 | size u32 | crc u32)   the slave's newest records
//   response: action u8 (HaAction) | offset u64
// HA_REPORT (slave to master, oneway): offset u64   "I hold the log up to here"
// HA_DATA (master to slave, oneway): offset u64 | raw CommitLog bytes to the end (whole records)
// HA_OFFSETS (master to slave, oneway): UTF-8 JSON of the consumer offset table
// HA_DURABLE (master to slave, oneway): offset u64   "my own log is durable up to here";
//   the slave serves readers no further (see docs/ARCHITECTURE.md, Replication)
// HA_RESYNC (slave to master, request, empty): after a Reset handshake reply
//   response: offset u64 | count u32 | count x (topic str8 | queueId u32 | queueOffset u64)
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';

export const HaAction = {
  /** Logs agree: the master streams from `offset` (the slave's end). */
  Stream: 0,
  /** The slave's tail diverged: truncate to `offset`, then handshake again. */
  Truncate: 1,
  /**
   * The slave's log ends before the oldest data the master keeps (retention
   * deleted it): drop the whole log, start it empty at `offset` (the master's
   * oldest kept offset, a segment start), then handshake again.
   */
  Reset: 2,
} as const;
export type HaAction = (typeof HaAction)[keyof typeof HaAction];

/** A record's identity for comparing two logs: where it is, its size and its CRC. */
export interface RecordSignature {
  offset: number;
  size: number;
  crc: number;
}

export interface HaHandshake {
  maxOffset: number;
  segmentSize: number;
  /** Newest last. */
  records: readonly RecordSignature[];
}

export interface HaHandshakeReply {
  action: HaAction;
  offset: number;
}

export function encodeHaHandshake(h: HaHandshake): Buffer {
  const w = new BodyWriter(20 + 16 * h.records.length).u64(h.maxOffset).u64(h.segmentSize).u16(h.records.length);
  for (const r of h.records) w.u64(r.offset).u32(r.size).u32(r.crc);
  return w.finish();
}

export function decodeHaHandshake(body: Buffer): HaHandshake {
  const r = new BodyReader(body);
  const maxOffset = r.u64('maxOffset');
  const segmentSize = r.u64('segmentSize');
  const n = r.u16('record count');
  const records: RecordSignature[] = [];
  for (let i = 0; i < n; i++) records.push({ offset: r.u64('offset'), size: r.u32('size'), crc: r.u32('crc') });
  r.done('the handshake');
  return { maxOffset, segmentSize, records };
}

export function encodeHaHandshakeReply(h: HaHandshakeReply): Buffer {
  return new BodyWriter(9).u8(h.action).u64(h.offset).finish();
}

export function decodeHaHandshakeReply(body: Buffer): HaHandshakeReply {
  const r = new BodyReader(body);
  const action = r.u8('action');
  if (action !== HaAction.Stream && action !== HaAction.Truncate && action !== HaAction.Reset) throw new MalformedFrameError(`unknown handshake action ${action}`);
  const offset = r.u64('offset');
  r.done('the handshake reply');
  return { action, offset };
}

/** HA_DATA's fixed part; the bytes follow as a separate buffer (no copy). */
export function encodeHaDataHead(offset: number): Buffer {
  return new BodyWriter(8).u64(offset).finish();
}

export function decodeHaData(body: Buffer): { offset: number; bytes: Buffer } {
  const r = new BodyReader(body);
  const offset = r.u64('offset');
  return { offset, bytes: r.rest() };
}

/** One queue of a re-sync: the queue offset of its first record at or past the re-sync's log offset. */
export interface HaQueueStart {
  topic: string;
  queueId: number;
  queueOffset: number;
}

/** HA_RESYNC's response: where a slave that fell behind retention starts its log again, and each queue there. */
export interface HaResyncReply {
  offset: number;
  queues: readonly HaQueueStart[];
}

export function encodeHaResyncReply(r: HaResyncReply): Buffer {
  const w = new BodyWriter().u64(r.offset).u32(r.queues.length);
  for (const q of r.queues) w.str8(q.topic, 'topic').u32(q.queueId).u64(q.queueOffset);
  return w.finish();
}

export function decodeHaResyncReply(body: Buffer): HaResyncReply {
  const r = new BodyReader(body);
  const offset = r.u64('offset');
  const queues: HaQueueStart[] = [];
  for (let n = r.u32('queue count'); n > 0; n--) queues.push({ topic: r.str8('topic'), queueId: r.u32('queueId'), queueOffset: r.u64('queueOffset') });
  r.done('the resync reply');
  return { offset, queues };
}
