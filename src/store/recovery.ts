// Recovery at open: re-verifies the CommitLog from the checkpoint's
// verifyFrom on (size, magic, position, CRC, queue offsets), cuts it at the
// first bad record, and rebuilds ConsumeQueue and key-index entries from that
// point with the dispatcher's own code. Everything recovery decides about
// what survives an unclean stop is here.
import { readCheckpoint } from './checkpoint.js';
import type { CheckpointService } from './checkpoint-service.js';
import type { CommitLog } from './commitlog/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { KeyIndex } from './key-index/index.js';
import type { TopicTable } from './topic-table.js';

/** Bytes probed past the valid end to tell a torn tail from the zeros of a preallocated segment. */
const TAIL_PROBE_BYTES = 8;
/** Scratch for one ConsumeQueue entry read. */
const ENTRY_SCRATCH_BYTES = 64;

export interface RecoveryParts {
  dir: string;
  log: CommitLog;
  topics: TopicTable;
  keys: KeyIndex;
  dispatcher: Dispatcher;
  checkpoints: CheckpointService;
}

export interface RecoveryOutcome {
  /** Bytes that were not valid records were cut off the end of the log (a torn tail). */
  truncatedTail: boolean;
}

export async function recoverStore(p: RecoveryParts): Promise<RecoveryOutcome> {
  const { log, topics, keys, dispatcher, checkpoints } = p;
  const cp = readCheckpoint(p.dir);
  const fileEnd = log.fileEndOffset;
  // Re-verify from a bit before the safe offset (the last data written), so
  // that even after a clean stop a damaged tail is found and cut.
  const clamp = (o: number): number => Math.min(Math.max(o, log.minOffset), fileEnd);
  const start = clamp(cp?.verifyFrom ?? 0);
  const scratch = Buffer.allocUnsafe(ENTRY_SCRATCH_BYTES);
  for (const t of topics.all()) {
    for (const cq of t.queues) {
      cq.truncateFromPhysical(start, scratch);
      if (cq.maxOffset > cq.minOffset && cq.physicalOffsetAt(cq.minOffset, scratch) < log.minOffset) cq.dropBelowPhysical(log.minOffset, scratch);
    }
  }
  keys.truncateFromPhysical(start);
  dispatcher.dispatchedOffset = start;
  log.resetPositions(start);
  const end = dispatcher.recover(fileEnd);
  // Whatever lies past the valid end (a torn record, stale bytes) is wiped.
  let truncatedTail = false;
  if (end < fileEnd) {
    const probe = Buffer.alloc(TAIL_PROBE_BYTES);
    truncatedTail = log.read(end, probe, 0, TAIL_PROBE_BYTES) > 0 && !probe.equals(Buffer.alloc(TAIL_PROBE_BYTES));
  }
  log.truncate(end);
  checkpoints.writeQueueTails();
  for (const t of topics.all()) t.queues.forEach((cq, q) => (t.nextOffsets[q] = cq.maxOffset));
  await checkpoints.commitRecovery(start, end);
  return { truncatedTail };
}
