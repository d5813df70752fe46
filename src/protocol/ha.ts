// Replication frames, exchanged on the master's HA port with the ordinary
// frame header (frame.ts).
//
// HA_HANDSHAKE (slave to master, request): maxOffset u64 | durableOffset u64 |
//   segmentSize u64 | flushMode u8 (0 async, 1 sync) |
//   count u16 | count x (offset u64 | size u32 | crc u32)   the slave's newest records
//   response: action u8 (HaAction) | offset u64 |
//     masterRecord (offset u64 | size u32 | crc u32; size 0: none)
// HA_REPORT (slave to master, oneway): offset u64   "I hold the log durably up to here"
// HA_DATA (master to slave, oneway): offset u64 | crc u32 | raw CommitLog bytes to the end
//   (whole records); crc is the CRC-32 of those bytes, computed by the master as it sends
//   them: the slave checks it instead of each record's CRC (docs/ARCHITECTURE.md,
//   "Checking replicated bytes")
// HA_CATCH_UP (slave to master, request, only after a CatchUp reply): offset u64 |
//   raw CommitLog bytes of the slave's log (whole records); response: offset u64,
//   the master's written offset after appending them
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
  /** The slave's tail past `offset` was never confirmed and differs from the master's: truncate to `offset`, then handshake again. */
  Truncate: 1,
  /**
   * The slave's log ends before the oldest data the master keeps (retention
   * deleted it): drop the whole log, start it empty at `offset` (the master's
   * oldest kept offset, a segment start), then handshake again.
   */
  Reset: 2,
  /**
   * The master's log ends at `offset`, before the slave's, and is a prefix of
   * it as far as the master can tell: the slave checks `masterRecord` (the
   * master's newest record) against its own log, sends its log from `offset`
   * with HA_CATCH_UP, then handshakes again.
   */
  CatchUp: 3,
} as const;
export type HaAction = (typeof HaAction)[keyof typeof HaAction];

/** A record's identity for comparing two logs: where it is, its size and its CRC. */
export interface RecordSignature {
  offset: number;
  size: number;
  crc: number;
}

/** How a store makes appends durable (the store's flush mode). */
export type HaFlushMode = 'async' | 'sync';
const FLUSH_MODES: readonly HaFlushMode[] = ['async', 'sync'];

export interface HaHandshake {
  /** End of the slave's log (written). */
  maxOffset: number;
  /** How far the slave's log is as durable as its flush mode makes it: what it confirms, and never gives up. */
  durableOffset: number;
  segmentSize: number;
  flushMode: HaFlushMode;
  /** Newest last. */
  records: readonly RecordSignature[];
}

export interface HaHandshakeReply {
  action: HaAction;
  offset: number;
  /** CatchUp: the master's newest record, for the slave to check it holds the same one. */
  masterRecord?: RecordSignature;
}

export function encodeHaHandshake(h: HaHandshake): Buffer {
  const w = new BodyWriter(29 + 16 * h.records.length).u64(h.maxOffset).u64(h.durableOffset).u64(h.segmentSize).u8(FLUSH_MODES.indexOf(h.flushMode)).u16(h.records.length);
  for (const r of h.records) w.u64(r.offset).u32(r.size).u32(r.crc);
  return w.finish();
}

export function decodeHaHandshake(body: Buffer): HaHandshake {
  const r = new BodyReader(body);
  const maxOffset = r.u64('maxOffset');
  const durableOffset = r.u64('durableOffset');
  const segmentSize = r.u64('segmentSize');
  const mode = r.u8('flushMode');
  const flushMode = FLUSH_MODES[mode];
  if (flushMode === undefined) throw new MalformedFrameError(`unknown flush mode ${mode}`);
  if (durableOffset > maxOffset) throw new MalformedFrameError(`durable offset ${durableOffset} is past the log end ${maxOffset}`);
  const n = r.u16('record count');
  const records: RecordSignature[] = [];
  for (let i = 0; i < n; i++) records.push({ offset: r.u64('offset'), size: r.u32('size'), crc: r.u32('crc') });
  r.done('the handshake');
  return { maxOffset, durableOffset, segmentSize, flushMode, records };
}

export function encodeHaHandshakeReply(h: HaHandshakeReply): Buffer {
  const m = h.masterRecord;
  return new BodyWriter(25).u8(h.action).u64(h.offset).u64(m?.offset ?? 0).u32(m?.size ?? 0).u32(m?.crc ?? 0).finish();
}

export function decodeHaHandshakeReply(body: Buffer): HaHandshakeReply {
  const r = new BodyReader(body);
  const action = r.u8('action');
  if (action !== HaAction.Stream && action !== HaAction.Truncate && action !== HaAction.Reset && action !== HaAction.CatchUp) throw new MalformedFrameError(`unknown handshake action ${action}`);
  const offset = r.u64('offset');
  const record = { offset: r.u64('masterRecord offset'), size: r.u32('masterRecord size'), crc: r.u32('masterRecord crc') };
  r.done('the handshake reply');
  return record.size === 0 ? { action, offset } : { action, offset, masterRecord: record };
}

/** HA_DATA's fixed part: where the bytes go and their CRC-32; the bytes follow as a separate buffer (no copy). */
export function encodeHaDataHead(offset: number, crc: number): Buffer {
  return new BodyWriter(12).u64(offset).u32(crc).finish();
}

/** A chunk of log pushed to a slave: `crc` is the CRC-32 the master computed over `bytes`. */
export interface HaData {
  offset: number;
  crc: number;
  bytes: Buffer;
}

export function decodeHaData(body: Buffer): HaData {
  const r = new BodyReader(body);
  const offset = r.u64('offset');
  const crc = r.u32('crc');
  return { offset, crc, bytes: r.rest() };
}

/** HA_CATCH_UP's fixed part; the bytes follow as a separate buffer (no copy). */
export function encodeHaCatchUpHead(offset: number): Buffer {
  return new BodyWriter(8).u64(offset).finish();
}

export function decodeHaCatchUp(body: Buffer): { offset: number; bytes: Buffer } {
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
