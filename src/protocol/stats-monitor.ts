// The monitor block of BROKER_STATS (extension block kind 3): traffic rates,
// disk use, every queue's max offset, every consumer group's lag in messages
// and in time, and the state of the broker's alert rules. Lists are bounded by
// the broker (it says how many entries it left out), so the answer stays
// small whatever the number of groups and queues. docs/PROTOCOL.md has the
// byte layout; fields a newer broker appends after these are skipped.
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';

/** What an alert rule watches (docs: README "Alert rules"). */
export const ALERT_KINDS = ['groupLagMessages', 'groupLagSeconds', 'slaveLagBytes', 'diskUsedRatio', 'flushFailures'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** One queue's readable range. */
export interface QueueFigure {
  topic: string;
  queueId: number;
  minOffset: number;
  maxOffset: number;
}

/** One consumer group's position on one queue. */
export interface GroupQueueLag {
  group: string;
  topic: string;
  queueId: number;
  committedOffset: number;
  maxOffset: number;
  lagMessages: number;
  /** Age of the oldest unconsumed message (store time of the message at the committed offset); 0 without lag. */
  lagMs: number;
}

/** A group's lag over all its queues on this broker. */
export interface GroupLagTotal {
  group: string;
  lagMessages: number;
  /** The largest of its queues' lagMs. */
  lagMs: number;
}

export interface AlertView {
  name: string;
  kind: AlertKind;
  /** The group a group-lag rule watches; '' for every group (the worst one). */
  group: string;
  above: number;
  forSec: number;
  firing: boolean;
  /** The value at the last evaluation. */
  value: number;
  /** When the rule last changed state (ms since epoch; 0: never). */
  sinceMs: number;
}

export interface BrokerMonitorView {
  /** When the broker computed these figures (ms since epoch). */
  atMs: number;
  /** Counters since start: messages and CommitLog bytes stored, messages and bytes pulled. */
  msgsIn: number;
  bytesIn: number;
  msgsOut: number;
  bytesOut: number;
  /** Rates over the last monitor interval (per second, rounded). */
  msgsInPerSec: number;
  bytesInPerSec: number;
  msgsOutPerSec: number;
  bytesOutPerSec: number;
  /** CommitLog bytes kept (appendOffset - minOffset). */
  commitLogBytes: number;
  /** The store's disk (0 when unknown). */
  diskTotalBytes: number;
  diskFreeBytes: number;
  /** Failed CommitLog flushes (the store refuses writes after one until reopened). */
  flushFailures: number;
  queues: QueueFigure[];
  /** Queues left out of `queues` (the list is bounded). */
  queuesOmitted: number;
  groupTotals: GroupLagTotal[];
  groupLags: GroupQueueLag[];
  /** Group queues left out of `groupLags` (their lag still counts in groupTotals). */
  groupLagsOmitted: number;
  alerts: AlertView[];
}

/** The used share of a disk (0..1), 0 when unknown. */
export function diskUsedRatio(m: Pick<BrokerMonitorView, 'diskTotalBytes' | 'diskFreeBytes'>): number {
  return m.diskTotalBytes === 0 ? 0 : 1 - m.diskFreeBytes / m.diskTotalBytes;
}

/** Alert thresholds may be fractions (a disk ratio): sent as millionths. */
const THRESHOLD_SCALE = 1_000_000;

/** A threshold or value as an integer of millionths, capped so that it always fits a u64 field. */
function scaled(v: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(v * THRESHOLD_SCALE)));
}

function kindOf(i: number): AlertKind {
  const k = ALERT_KINDS[i];
  if (k === undefined) throw new MalformedFrameError(`unknown alert kind ${i}`);
  return k;
}

export function encodeMonitorBlock(m: BrokerMonitorView): Buffer {
  const w = new BodyWriter();
  w.u64(m.atMs).u64(m.msgsIn).u64(m.bytesIn).u64(m.msgsOut).u64(m.bytesOut);
  w.u64(m.msgsInPerSec).u64(m.bytesInPerSec).u64(m.msgsOutPerSec).u64(m.bytesOutPerSec);
  w.u64(m.commitLogBytes).u64(m.diskTotalBytes).u64(m.diskFreeBytes).u64(m.flushFailures);
  w.u32(m.queues.length).u32(m.queuesOmitted);
  for (const q of m.queues) w.str8(q.topic, 'topic').u32(q.queueId).u64(q.minOffset).u64(q.maxOffset);
  w.u32(m.groupTotals.length);
  for (const g of m.groupTotals) w.str8(g.group, 'group').u64(g.lagMessages).u64(g.lagMs);
  w.u32(m.groupLags.length).u32(m.groupLagsOmitted);
  for (const g of m.groupLags) w.str8(g.group, 'group').str8(g.topic, 'topic').u32(g.queueId).u64(g.committedOffset).u64(g.maxOffset).u64(g.lagMessages).u64(g.lagMs);
  w.u16(m.alerts.length);
  for (const a of m.alerts) {
    w.str8(a.name, 'alert name').u8(ALERT_KINDS.indexOf(a.kind)).str8(a.group, 'alert group');
    w.u64(scaled(a.above)).u32(a.forSec).u8(a.firing ? 1 : 0).u64(scaled(a.value)).u64(a.sinceMs);
  }
  return w.finish();
}

export function decodeMonitorBlock(block: Buffer): BrokerMonitorView {
  const r = new BodyReader(block);
  const m: BrokerMonitorView = {
    atMs: r.u64('atMs'),
    msgsIn: r.u64('msgsIn'),
    bytesIn: r.u64('bytesIn'),
    msgsOut: r.u64('msgsOut'),
    bytesOut: r.u64('bytesOut'),
    msgsInPerSec: r.u64('msgsInPerSec'),
    bytesInPerSec: r.u64('bytesInPerSec'),
    msgsOutPerSec: r.u64('msgsOutPerSec'),
    bytesOutPerSec: r.u64('bytesOutPerSec'),
    commitLogBytes: r.u64('commitLogBytes'),
    diskTotalBytes: r.u64('diskTotalBytes'),
    diskFreeBytes: r.u64('diskFreeBytes'),
    flushFailures: r.u64('flushFailures'),
    queues: [],
    queuesOmitted: 0,
    groupTotals: [],
    groupLags: [],
    groupLagsOmitted: 0,
    alerts: [],
  };
  const queueCount = r.u32('queue count');
  m.queuesOmitted = r.u32('queues omitted');
  for (let n = queueCount; n > 0; n--) m.queues.push({ topic: r.str8('topic'), queueId: r.u32('queueId'), minOffset: r.u64('minOffset'), maxOffset: r.u64('maxOffset') });
  for (let n = r.u32('group total count'); n > 0; n--) m.groupTotals.push({ group: r.str8('group'), lagMessages: r.u64('lagMessages'), lagMs: r.u64('lagMs') });
  const lagCount = r.u32('group lag count');
  m.groupLagsOmitted = r.u32('group lags omitted');
  for (let n = lagCount; n > 0; n--) {
    m.groupLags.push({
      group: r.str8('group'),
      topic: r.str8('topic'),
      queueId: r.u32('queueId'),
      committedOffset: r.u64('committedOffset'),
      maxOffset: r.u64('maxOffset'),
      lagMessages: r.u64('lagMessages'),
      lagMs: r.u64('lagMs'),
    });
  }
  for (let n = r.u16('alert count'); n > 0; n--) {
    m.alerts.push({
      name: r.str8('alert name'),
      kind: kindOf(r.u8('alert kind')),
      group: r.str8('alert group'),
      above: r.u64('above') / THRESHOLD_SCALE,
      forSec: r.u32('forSec'),
      firing: r.u8('firing') !== 0,
      value: r.u64('value') / THRESHOLD_SCALE,
      sinceMs: r.u64('sinceMs'),
    });
  }
  // Bytes after these are fields a newer broker added: ignored.
  return m;
}
