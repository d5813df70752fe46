// Recovery at open. The CommitLog is the truth; indexes are rebuilt from it,
// never the reverse:
//  1. every ConsumeQueue is checked against the log (its last entries must
//     name their records) and against the bounds the last checkpoint saw; the
//     key index likewise. A queue or key index that lost entries is cut to
//     what is intact and rebuilt from the log below the checkpoint;
//  2. the log is re-verified from the checkpoint's verifyFrom on (size, magic,
//     position, CRC) and cut at the first bad record only: a torn tail. Indexes
//     are rebuilt from that point with the dispatcher's own code. A queue whose
//     entries do not follow on is rebuilt from the log afterwards; it never
//     ends the log.
// Everything recovery decides about what survives an unclean stop is here.
import { readCheckpoint } from './checkpoint.js';
import type { CheckpointService } from './checkpoint-service.js';
import type { CommitLog } from './commitlog/index.js';
import type { ConsumeQueue } from './consume-queue.js';
import type { Dispatcher } from './dispatcher.js';
import { EntryCheck } from './entry-check.js';
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
  /** Indexes found damaged and rebuilt from the log ("topic/queueId", or "key index"). */
  rebuilt: string[];
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
  const check = new EntryCheck(log);

  // 1. Indexes that lost entries (a file cut short, deleted, or ending in garbage).
  const damaged = new Set<ConsumeQueue>();
  const expected = new Map<ConsumeQueue, number>();
  // No retention since the checkpoint: no queue's minimum may have moved.
  const sameLogStart = cp?.tails !== undefined && cp.tails.logMinOffset === log.minOffset;
  for (const t of topics.all()) {
    const tails = cp?.tails?.queues.get(t.name);
    t.queues.forEach((cq, q) => {
      const cut = cq.cutUnmatchedTail(scratch, (o, physical, size) => check.matches(t.bytes, q, o, physical, size));
      const tail = tails?.[q];
      const want = tail?.count ?? 0;
      expected.set(cq, want);
      if (tail !== undefined && sameLogStart && cq.minOffset > tail.min) {
        // Its first file(s) went: the whole queue is rebuilt from the log.
        cq.startOverAt(tail.min);
        damaged.add(cq);
      }
      if (cut > 0 || cq.maxOffset < want) damaged.add(cq);
      cq.truncateFromPhysical(start, scratch);
      if (cq.maxOffset > cq.minOffset && cq.physicalOffsetAt(cq.minOffset, scratch) < log.minOffset) cq.dropBelowPhysical(log.minOffset, scratch);
    });
  }
  const keysFrom = cp?.tails === undefined ? undefined : keys.cutAtLoss(cp.tails.keyFiles, log.minOffset);
  keys.truncateFromPhysical(start);
  let from = keysFrom ?? start;
  for (const cq of damaged) from = Math.min(from, cq.endOfLastEntry(scratch) ?? log.minOffset);
  dispatcher.rebuild(Math.max(from, log.minOffset), start, damaged, keysFrom);
  checkpoints.writeQueueTails();

  // 2. The unverified tail: verified record by record, cut at the first bad one.
  dispatcher.dispatchedOffset = start;
  log.resetPositions(start);
  const end = dispatcher.recover(fileEnd);
  checkpoints.writeQueueTails();
  const gapped = new Set(dispatcher.gapped);
  if (gapped.size > 0) {
    let gapFrom = end;
    for (const cq of gapped) gapFrom = Math.min(gapFrom, cq.endOfLastEntry(scratch) ?? log.minOffset);
    dispatcher.rebuild(Math.max(gapFrom, log.minOffset), end, gapped);
    checkpoints.writeQueueTails();
  }
  // A rebuilt queue of which the log kept nothing (retention) goes on after
  // what it had: its queue offsets are never handed out twice.
  for (const cq of [...damaged, ...gapped]) {
    const want = expected.get(cq) ?? 0;
    if (cq.maxOffset === cq.minOffset && cq.maxOffset < want) cq.startOverAt(want);
  }

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
  const rebuilt = [...new Set([...damaged, ...gapped])].map((cq) => `${cq.topic}/${cq.queueId}`);
  if (keysFrom !== undefined) rebuilt.push('key index');
  return { truncatedTail, rebuilt };
}
