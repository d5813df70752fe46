// The rules for writing a consumer group's committed offsets (ConsumerOffsets
// keeps them): a commit must lie in its queue's [minOffset, maxOffset]
// (maxOffset, the next offset to be written, means "everything consumed"),
// below minOffset it is clamped there (retention already deleted what lies
// below), and the broker's own groups are closed to clients. An admin reset
// moves a group's offsets either way; live members, which hold their own
// offsets in memory, would overwrite it with their next commit, so their
// commits on the reset queues are ignored until their next pull there has
// been answered OFFSET_MOVED with the reset offset (or the fence expires).
import { InternalGroupError, InvalidRequestError, isInternalGroup, OffsetOutOfRangeError, UnknownQueueError, UnknownTopicError } from '../common/index.js';
import type { OffsetEntry, QueueReset, ResetOffsetsRequest } from '../protocol/index.js';
import type { MessageStore } from '../store/index.js';
import type { ConsumerOffsets } from './consumer-offsets.js';

/** What the rules read of the store: each queue's range, and offsets by time. */
export type QueueRanges = Pick<MessageStore, 'queueCount' | 'minOffset' | 'maxOffset' | 'offsetForTimestamp'>;

export interface GroupOffsetsOptions {
  store: QueueRanges;
  offsets: ConsumerOffsets;
  brokerName: string;
  /** How long a reset keeps ignoring live members' commits while waiting for their pulls. */
  fenceMs: number;
}

interface Fence {
  offset: number;
  until: number;
}

function queueKey(topic: string, queueId: number): string {
  return `${topic}:${queueId}`;
}

/** Refuses a group a client may not write: empty, or one of the broker's own. */
export function checkClientGroup(group: string, what: string): void {
  if (group === '') throw new InvalidRequestError(`${what} needs a group`);
  if (isInternalGroup(group)) throw new InternalGroupError(`${what} refused: group ${JSON.stringify(group)} is internal to the broker (names starting with '%' are its own); clients cannot write it`);
}

export class GroupOffsets {
  readonly #o: GroupOffsetsOptions;
  /** group -> "topic:queueId" -> a reset live members have not been told yet. */
  readonly #fences = new Map<string, Map<string, Fence>>();

  constructor(o: GroupOffsetsOptions) {
    this.#o = o;
  }

  /** COMMIT_OFFSETS: every entry is checked before any is applied; one bad entry refuses the request. */
  commit(group: string, entries: readonly OffsetEntry[], now: number): void {
    checkClientGroup(group, 'COMMIT_OFFSETS');
    const admitted = entries.map((e) => this.#admit(group, e));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!this.#fenced(group, e.topic, e.queueId, now)) this.#o.offsets.commit(group, e.topic, e.queueId, admitted[i]!);
    }
  }

  /**
   * A commit carried by a PULL (whose queue the caller checked). Past the
   * queue's end it is not applied and the pull is answered as usual: its
   * answer tells the client where the queue ends, so it corrects itself.
   */
  commitOnPull(group: string, topic: string, queueId: number, offset: number, now: number): void {
    checkClientGroup(group, 'a commit carried by PULL');
    const { store, offsets } = this.#o;
    if (offset > store.maxOffset(topic, queueId)) return;
    if (this.#fenced(group, topic, queueId, now)) return;
    offsets.commit(group, topic, queueId, Math.max(offset, store.minOffset(topic, queueId)));
  }

  /** Where a group's pull must go instead, once, after a reset of its queue (undefined: nowhere else). */
  redirect(group: string, topic: string, queueId: number, pullOffset: number, now: number): number | undefined {
    if (this.#fences.size === 0) return undefined;
    const g = this.#fences.get(group);
    const k = queueKey(topic, queueId);
    const f = g?.get(k);
    if (f === undefined) return undefined;
    g!.delete(k);
    if (g!.size === 0) this.#fences.delete(group);
    return now > f.until || pullOffset === f.offset ? undefined : f.offset;
  }

  /** RESET_OFFSETS; with `liveMembers`, their next pulls of the reset queues are redirected. */
  reset(req: ResetOffsetsRequest, liveMembers: boolean, now: number): QueueReset[] {
    checkClientGroup(req.group, 'RESET_OFFSETS');
    const { store, offsets } = this.#o;
    const n = this.#queueCount(req.topic, '');
    if (req.queueId !== undefined && !(req.queueId < n)) throw new UnknownQueueError(`topic ${JSON.stringify(req.topic)} has ${n} queues; there is no queue ${req.queueId}`);
    const ids = req.queueId === undefined ? Array.from({ length: n }, (_, i) => i) : [req.queueId];
    return ids.map((queueId) => {
      const min = store.minOffset(req.topic, queueId);
      const max = store.maxOffset(req.topic, queueId);
      const asked = 'offset' in req.target ? req.target.offset : store.offsetForTimestamp(req.topic, queueId, req.target.timestamp);
      const offset = Math.min(Math.max(asked, min), max);
      const previousOffset = offsets.get(req.group, req.topic, queueId);
      offsets.reset(req.group, req.topic, queueId, offset);
      if (liveMembers) this.#fence(req.group, req.topic, queueId, { offset, until: now + this.#o.fenceMs });
      return { queueId, offset, previousOffset, clamped: asked < min ? 'min' : asked > max ? 'max' : undefined, membersRedirected: liveMembers };
    });
  }

  /** The offset a commit entry stores (clamped up to minOffset), or a typed refusal naming the entry. */
  #admit(group: string, e: OffsetEntry): number {
    const nothing = ' (nothing in the request was applied)';
    const n = this.#queueCount(e.topic, nothing);
    if (!(e.queueId < n)) throw new UnknownQueueError(`topic ${JSON.stringify(e.topic)} has ${n} queues; there is no queue ${e.queueId}${nothing}`);
    const max = this.#o.store.maxOffset(e.topic, e.queueId);
    if (e.offset > max) {
      throw new OffsetOutOfRangeError(`COMMIT_OFFSETS for group ${group} refused: ${e.topic}:${e.queueId} offset ${e.offset} is past the queue's maxOffset ${max}${nothing}`);
    }
    return Math.max(e.offset, this.#o.store.minOffset(e.topic, e.queueId));
  }

  #queueCount(topic: string, suffix: string): number {
    const n = this.#o.store.queueCount(topic);
    if (n === undefined) throw new UnknownTopicError(`topic ${JSON.stringify(topic)} does not exist on broker ${this.#o.brokerName}${suffix}`);
    return n;
  }

  #fence(group: string, topic: string, queueId: number, f: Fence): void {
    let g = this.#fences.get(group);
    if (g === undefined) {
      g = new Map();
      this.#fences.set(group, g);
    }
    g.set(queueKey(topic, queueId), f);
  }

  /** A reset live members have not been told yet holds their commits back (an expired one is dropped). */
  #fenced(group: string, topic: string, queueId: number, now: number): boolean {
    if (this.#fences.size === 0) return false;
    const g = this.#fences.get(group);
    const k = queueKey(topic, queueId);
    const f = g?.get(k);
    if (f === undefined) return false;
    if (now <= f.until) return true;
    g!.delete(k);
    if (g!.size === 0) this.#fences.delete(group);
    return false;
  }
}
