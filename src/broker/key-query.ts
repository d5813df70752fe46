// QUERY_BY_KEY as the broker serves it: bounded work, bounded answer. At most
// maxKeyQueryCount messages, at most maxKeyLookupCandidates index slots and
// entries read (keys crafted to collide under the index hash cannot make one
// request walk the whole index), and no more records than one response frame
// carries. A bound that cuts the answer short makes it Truncated (the records
// found so far, newest first) and is counted under its name; never an error,
// since what was found is right as far as it goes.
import type { QueryByKeyRequest } from '../protocol/index.js';
import { FRAME_HEADER_SIZE } from '../protocol/index.js';
import type { MessageStore } from '../store/index.js';
import type { ResourceLimits } from './resource-limits.js';

/** The record list's count field. */
const RECORD_LIST_HEAD_BYTES = 4;

export interface BoundedKeyAnswer {
  records: Buffer[];
  truncated: boolean;
}

export function queryKeyBounded(store: MessageStore, req: QueryByKeyRequest, limits: ResourceLimits, maxFrameSize: number): BoundedKeyAnswer {
  const found = store.queryKey(req.topic, req.key, limits.keyQueryCount(req.maxCount), limits.maxKeyLookupCandidates);
  if (found.truncated) limits.countTruncation('maxKeyLookupCandidates');
  const room = maxFrameSize - FRAME_HEADER_SIZE - RECORD_LIST_HEAD_BYTES;
  const records: Buffer[] = [];
  let bytes = 0;
  for (const m of found.messages) {
    const r = store.readRecord(m.physicalOffset);
    if (r === undefined) continue;
    if (bytes + r.length > room) {
      limits.countTruncation('keyQueryResponseBytes');
      return { records, truncated: true };
    }
    bytes += r.length;
    records.push(r);
  }
  return { records, truncated: found.truncated };
}
