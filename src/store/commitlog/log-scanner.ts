// Walks CommitLog records in [from, to), reading large chunks and hopping
// over blank segment tails. Shared by the dispatcher (which follows the log)
// and recovery (which verifies it): one reading of the format, not two.
import type { CommitLog } from './commit-log.js';
import { BLANK_MARKER_SIZE, checkRecord, RecordCheck } from '../../message/index.js';

/** Called per valid record; returning false stops the scan before that record. */
export type RecordVisitor = (buf: Buffer, at: number, physicalOffset: number, size: number) => boolean;

export interface ScanResult {
  /** Offset where the scan stopped: `to`, or the first invalid or refused record. */
  end: number;
  /** True when it stopped at bytes that are not a valid record. */
  invalid: boolean;
}

export function scanLog(log: CommitLog, from: number, to: number, buf: Buffer, verifyCrc: boolean, visit: RecordVisitor): ScanResult {
  let pos = from;
  while (pos < to) {
    const segment = log.segmentFor(pos);
    if (segment === undefined) return { end: pos, invalid: true };
    const segmentEnd = segment.endOffset;
    if (segmentEnd - pos < BLANK_MARKER_SIZE) {
      pos = segmentEnd;
      continue;
    }
    const want = Math.min(buf.length, to - pos, segmentEnd - pos);
    const n = segment.read(buf, 0, want, pos);
    let at = 0;
    let nextChunk = false;
    while (!nextChunk) {
      const check = checkRecord(buf, at, n, log.maxRecordSize, pos + at, verifyCrc);
      switch (check) {
        case RecordCheck.Ok: {
          const size = buf.readUInt32BE(at);
          if (!visit(buf, at, pos + at, size)) return { end: pos + at, invalid: false };
          at += size;
          if (pos + at >= to) return { end: pos + at, invalid: false };
          break;
        }
        case RecordCheck.Blank:
          pos = segmentEnd;
          nextChunk = true;
          break;
        case RecordCheck.Short:
          // A record cut by the chunk: read again from its start. At the start of
          // a chunk it means the bytes run out before the record does.
          if (at === 0) return { end: pos, invalid: true };
          pos += at;
          nextChunk = true;
          break;
        default:
          return { end: pos + at, invalid: true };
      }
    }
  }
  return { end: pos, invalid: false };
}
