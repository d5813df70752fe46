// Consumer group lag from the broker's own figures: for every committed
// offset, how many messages the queue holds past it and how old the first of
// them is (the store time of the message at the committed offset, RocketMQ's
// "consume delay"). Reads one record per lagging queue, on the monitor's
// timer, never on a request's path.
import { isInternalGroup } from '../../common/index.js';
import type { GroupLagTotal, GroupQueueLag } from '../../protocol/index.js';
import { decodeRecord, type MessageStore } from '../../store/index.js';

/** At most this many queue entries are sent (the largest lags first); the totals still count the rest. */
export const MAX_GROUP_LAG_ENTRIES = 2048;
/** At most this many records are read per evaluation to date lags; a queue past it reports lagMs 0 (unknown). */
export const MAX_LAG_AGE_READS = 4096;

export interface GroupLags {
  totals: GroupLagTotal[];
  lags: GroupQueueLag[];
  omitted: number;
}

type LagStore = Pick<MessageStore, 'maxOffset' | 'minOffset' | 'getMessages' | 'queueCount'>;

/** The queue named by a consumer offsets key "topic:queueId" (topics may hold no ':'; split at the last one anyway). */
function parseKey(key: string): { topic: string; queueId: number } | undefined {
  const at = key.lastIndexOf(':');
  if (at <= 0) return undefined;
  const queueId = Number(key.slice(at + 1));
  return Number.isInteger(queueId) && queueId >= 0 ? { topic: key.slice(0, at), queueId } : undefined;
}

function storedAt(store: LagStore, topic: string, queueId: number, offset: number): number | undefined {
  const r = store.getMessages(topic, queueId, offset, 1, 1);
  return r.status === 'FOUND' && r.count > 0 ? decodeRecord(r.records, 0).storeTimestamp : undefined;
}

/** Every group's lag on this broker's queues, from `offsets` (group -> "topic:queueId" -> committed offset). */
export function computeGroupLags(store: LagStore, offsets: Record<string, Record<string, number>>, nowMs: number): GroupLags {
  const all: GroupQueueLag[] = [];
  let reads = 0;
  for (const group of Object.keys(offsets).sort()) {
    for (const [key, committedOffset] of Object.entries(offsets[group]!)) {
      const q = parseKey(key);
      if (q === undefined || store.queueCount(q.topic) === undefined || q.queueId >= store.queueCount(q.topic)!) continue;
      const maxOffset = store.maxOffset(q.topic, q.queueId);
      const lagMessages = Math.max(0, maxOffset - committedOffset);
      let lagMs = 0;
      if (lagMessages > 0 && reads < MAX_LAG_AGE_READS) {
        reads++;
        // Messages below minOffset are gone (retention): the oldest unconsumed one left is at minOffset.
        const at = Math.max(committedOffset, store.minOffset(q.topic, q.queueId));
        const stored = storedAt(store, q.topic, q.queueId, at);
        if (stored !== undefined) lagMs = Math.max(0, nowMs - stored);
      }
      all.push({ group, topic: q.topic, queueId: q.queueId, committedOffset, maxOffset, lagMessages, lagMs });
    }
  }
  const byGroup = new Map<string, GroupLagTotal>();
  for (const l of all) {
    const t = byGroup.get(l.group) ?? { group: l.group, lagMessages: 0, lagMs: 0 };
    t.lagMessages += l.lagMessages;
    t.lagMs = Math.max(t.lagMs, l.lagMs);
    byGroup.set(l.group, t);
  }
  const lags = all.length <= MAX_GROUP_LAG_ENTRIES ? all : [...all].sort((a, b) => b.lagMs - a.lagMs || b.lagMessages - a.lagMessages).slice(0, MAX_GROUP_LAG_ENTRIES);
  return { totals: [...byGroup.values()], lags, omitted: all.length - lags.length };
}

/** The worst lag among the groups clients run (the broker's own '%' groups do not count): for rules without a group. */
export function worstClientGroup(totals: readonly GroupLagTotal[], pick: (t: GroupLagTotal) => number): number {
  let worst = 0;
  for (const t of totals) if (!isInternalGroup(t.group)) worst = Math.max(worst, pick(t));
  return worst;
}
