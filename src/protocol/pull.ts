// PULL: read a queue from an offset, held by the broker (long polling) when
// there is nothing new yet.
//
// Request:  group str8 | topic str8 | queueId u32 | offset u64 | maxCount u32 |
//           maxBytes u32 | pollTimeoutMs u32 | pullFlags u8 | commitOffset u64 |
//           tagCount u8 | tagCount x tag str8
//   commitOffset is the group's progress on this queue, committed on the way
//   (saves a separate COMMIT_OFFSETS) when pullFlags has PullFlag.HasCommitOffset;
//   past the queue's maxOffset it is not applied (the pull is answered as usual).
// Response (status Ok, NoNewMessage, NoMatchedMessage, OffsetMoved, OffsetOverflow):
//           nextOffset u64 | minOffset u64 | maxOffset u64 | count u32 |
//           records: count raw CommitLog records (docs/STORAGE.md), to the end
import { BodyReader, BodyWriter } from './body.js';

export const PullFlag = {
  HasCommitOffset: 1 << 0,
} as const;

export interface PullRequest {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
  maxCount: number;
  maxBytes: number;
  /** How long the broker may hold the pull at the end of the queue; 0 answers at once. */
  pollTimeoutMs: number;
  /** Offset to commit for (group, topic, queueId) on the way, or undefined. */
  commitOffset?: number | undefined;
  /** Tag filter; empty or ['*'] means every message. */
  tags: readonly string[];
}

export interface PullResponseHead {
  nextOffset: number;
  minOffset: number;
  maxOffset: number;
  count: number;
}

export interface PullResponse extends PullResponseHead {
  records: Buffer;
}

export const PULL_RESPONSE_HEAD_SIZE = 8 + 8 + 8 + 4;

export function encodePullRequest(req: PullRequest): Buffer {
  const w = new BodyWriter(64 + req.group.length + req.topic.length);
  w.str8(req.group, 'group').str8(req.topic, 'topic').u32(req.queueId).u64(req.offset);
  w.u32(req.maxCount).u32(req.maxBytes).u32(req.pollTimeoutMs);
  const hasCommit = req.commitOffset !== undefined;
  w.u8(hasCommit ? PullFlag.HasCommitOffset : 0).u64(hasCommit ? req.commitOffset! : 0);
  w.u8(req.tags.length);
  for (const t of req.tags) w.str8(t, 'tag');
  return w.finish();
}

export function decodePullRequest(body: Buffer): PullRequest {
  const r = new BodyReader(body);
  const group = r.str8('group');
  const topic = r.str8('topic');
  const queueId = r.u32('queueId');
  const offset = r.u64('offset');
  const maxCount = r.u32('maxCount');
  const maxBytes = r.u32('maxBytes');
  const pollTimeoutMs = r.u32('pollTimeoutMs');
  const flags = r.u8('pullFlags');
  const commit = r.u64('commitOffset');
  const tagCount = r.u8('tagCount');
  const tags = new Array<string>(tagCount);
  for (let i = 0; i < tagCount; i++) tags[i] = r.str8('tag');
  r.done('the pull request');
  return { group, topic, queueId, offset, maxCount, maxBytes, pollTimeoutMs, commitOffset: (flags & PullFlag.HasCommitOffset) !== 0 ? commit : undefined, tags };
}

/** The fixed part of a pull response; the records follow as a separate buffer (no copy). */
export function encodePullResponseHead(h: PullResponseHead): Buffer {
  return new BodyWriter(PULL_RESPONSE_HEAD_SIZE).u64(h.nextOffset).u64(h.minOffset).u64(h.maxOffset).u32(h.count).finish();
}

export function decodePullResponse(body: Buffer): PullResponse {
  const r = new BodyReader(body);
  const nextOffset = r.u64('nextOffset');
  const minOffset = r.u64('minOffset');
  const maxOffset = r.u64('maxOffset');
  const count = r.u32('count');
  return { nextOffset, minOffset, maxOffset, count, records: r.rest() };
}
