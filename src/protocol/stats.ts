// BROKER_STATS: a broker's counters, its store's, its consumer groups' and
// its replication's, as one binary body (admin tools; never on a hot path),
// then optional extension blocks (kind, length, bytes) that newer brokers
// add and older readers skip: the first one is the runtime block (memory, GC
// pauses, the CommitLog's fdatasync latency buckets), the second the
// refusals block (what each limit and security check refused), the third the
// monitor block (stats-monitor.ts: rates, lag, alerts). docs/PROTOCOL.md
// has the byte layout.
import { MalformedFrameError } from '../common/index.js';
import { BodyReader, BodyWriter } from './body.js';
import { decodeMonitorBlock, encodeMonitorBlock, type BrokerMonitorView } from './stats-monitor.js';

export interface StoreStatsView {
  flushMode: 'sync' | 'async';
  minOffset: number;
  appendOffset: number;
  writtenOffset: number;
  flushedOffset: number;
  dispatchedOffset: number;
  segments: number;
  topics: number;
  flushCycles: number;
  pendingPuts: number;
  openQueueFiles: number;
  diskFull: boolean;
  /** The last dispatch failure, until a pass succeeds. */
  dispatchError: string | undefined;
  /** The store found an unclean stop at open and ran recovery. */
  recovered: boolean;
  /** Recovery at open cut off a torn tail. */
  truncatedTail: boolean;
  /** Set after a failed fdatasync ("CODE: message"): the store refuses writes until reopened. */
  unavailable: string | undefined;
}

export interface GroupSummary {
  group: string;
  mode: 'clustering' | 'broadcasting';
  ordered: boolean;
  members: string[];
  topics: string[];
}

/** Why a master refuses writes of its own ('none': it takes them). */
const WRITE_HOLDS = ['none', 'unverified', 'behind', 'diverged'] as const;
export type WriteHold = (typeof WRITE_HOLDS)[number];

/** A master's view of replication. */
export interface HaMasterView {
  mode: 'sync' | 'async';
  slaveConnected: boolean;
  writtenOffset: number;
  replicatedOffset: number;
  slaveLagBytes: number;
  slaveLagMs: number;
  sendsWaitingForSlave: number;
  /**
   * Sync replication: readers are held at what the slave confirmed. False
   * while no slave is available (none connected, or one further behind than
   * maxSlaveLagBytes): readers then see what this master made durable.
   */
  readersCappedBySlave: boolean;
  /** Slaves told to re-sync (reset their log) because they fell behind what this master keeps. */
  slaveResyncs: number;
  /** Why the master refuses writes of its own ('none': it takes them): see HaMaster. */
  writesHeld: WriteHold;
  /** Slave handshakes refused (a second slave, a too weak flush mode, a diverged log). */
  slavesRefused: number;
}

/** A slave's view of replication. */
export interface HaSlaveView {
  connected: boolean;
  masterHaAddr: string;
  replicatedOffset: number;
  truncations: number;
  /** What the master said its own log is durable up to: readers here see nothing past it. */
  masterDurableOffset: number;
  /** Log resets because this slave fell behind what the master keeps (retention). */
  resyncs: number;
}

/**
 * The broker's runtime: memory, GC and the CommitLog's fdatasync cycles.
 * Counters only grow, so that a reader polling it diffs two readings.
 */
export interface BrokerRuntimeView {
  /** Resident set size of the broker's process (a broker in a worker thread shares its process's). */
  rssBytes: number;
  /** V8 heap in use by the broker's own isolate. */
  heapUsedBytes: number;
  /** Garbage collections seen so far, and their summed pause (µs). */
  gcCount: number;
  gcPauseUs: number;
  /** Completed CommitLog fdatasync cycles, their summed time (µs) and the bytes they made durable. */
  syncCycles: number;
  syncTotalUs: number;
  syncBytes: number;
  /** Cycles per fdatasync latency bucket (the store's SYNC_LATENCY_BOUNDS_US, then the overflow bucket). */
  syncLatencyBuckets: number[];
}

export interface BrokerStats {
  brokerName: string;
  addr: string;
  connections: number;
  heldPulls: number;
  retried: number;
  deadLettered: number;
  groups: GroupSummary[];
  store: StoreStatsView;
  role: 'master' | 'slave';
  /** Replication: the master's view, the slave's, or none (no replication configured). */
  ha: HaMasterView | HaSlaveView | undefined;
  /** The runtime block; absent from a broker older than it. */
  runtime?: BrokerRuntimeView;
  /**
   * The refusals block: how many times each configured limit or security
   * check refused something (limit name to count, docs/SECURITY.md); absent
   * from a broker older than it. Counters only grow.
   */
  refusals?: Record<string, number>;
  /** The monitor block (rates, disk, max offsets, group lag, alerts); absent from a broker older than it. */
  monitor?: BrokerMonitorView;
}

const ROLES = ['master', 'slave'] as const;
const FLUSH_MODES = ['async', 'sync'] as const;
const CONSUME_MODES = ['clustering', 'broadcasting'] as const;
const REPLICATION_MODES = ['async', 'sync'] as const;

/** What follows the store block: no replication, a master's view or a slave's. */
const HaKind = { None: 0, Master: 1, Slave: 2 } as const;

/** The kinds of extension block after the replication view; a reader skips a kind it does not know. */
const BlockKind = { Runtime: 1, Refusals: 2, Monitor: 3 } as const;

/** Bits of the store's flags byte. */
const StoreFlag = { DiskFull: 1 << 0, Recovered: 1 << 1, TruncatedTail: 1 << 2, DispatchError: 1 << 3, Unavailable: 1 << 4 } as const;

/** A dispatch error or a store failure is a diagnostic: cut long ones so they always fit their str16. */
const MAX_DISPATCH_ERROR_CHARS = 1024;

export function isHaSlaveView(ha: HaMasterView | HaSlaveView): ha is HaSlaveView {
  return 'truncations' in ha;
}

export function encodeBrokerStats(s: BrokerStats): Buffer {
  const w = new BodyWriter();
  w.str8(s.brokerName, 'brokerName').str8(s.addr, 'addr').u8(ROLES.indexOf(s.role));
  w.u32(s.connections).u32(s.heldPulls).u64(s.retried).u64(s.deadLettered);
  const st = s.store;
  const flags =
    (st.diskFull ? StoreFlag.DiskFull : 0) |
    (st.recovered ? StoreFlag.Recovered : 0) |
    (st.truncatedTail ? StoreFlag.TruncatedTail : 0) |
    (st.dispatchError !== undefined ? StoreFlag.DispatchError : 0) |
    (st.unavailable !== undefined ? StoreFlag.Unavailable : 0);
  w.u8(FLUSH_MODES.indexOf(st.flushMode)).u8(flags);
  w.u64(st.minOffset).u64(st.appendOffset).u64(st.writtenOffset).u64(st.flushedOffset).u64(st.dispatchedOffset);
  w.u32(st.segments).u32(st.topics).u64(st.flushCycles).u32(st.pendingPuts).u32(st.openQueueFiles);
  if (st.dispatchError !== undefined) w.str16(st.dispatchError.slice(0, MAX_DISPATCH_ERROR_CHARS), 'dispatchError');
  if (st.unavailable !== undefined) w.str16(st.unavailable.slice(0, MAX_DISPATCH_ERROR_CHARS), 'unavailable');
  w.u16(s.groups.length);
  for (const g of s.groups) {
    w.str8(g.group, 'group').u8(CONSUME_MODES.indexOf(g.mode)).u8(g.ordered ? 1 : 0);
    w.u16(g.members.length);
    for (const m of g.members) w.str8(m, 'member');
    w.u16(g.topics.length);
    for (const t of g.topics) w.str8(t, 'topic');
  }
  const ha = s.ha;
  if (ha === undefined) {
    w.u8(HaKind.None);
  } else if (isHaSlaveView(ha)) {
    w.u8(HaKind.Slave).u8(ha.connected ? 1 : 0).str8(ha.masterHaAddr, 'masterHaAddr').u64(ha.replicatedOffset).u32(ha.truncations).u64(ha.masterDurableOffset).u32(ha.resyncs);
  } else {
    w.u8(HaKind.Master).u8(REPLICATION_MODES.indexOf(ha.mode)).u8(ha.slaveConnected ? 1 : 0);
    w.u64(ha.writtenOffset).u64(ha.replicatedOffset).u64(ha.slaveLagBytes).u64(ha.slaveLagMs).u32(ha.sendsWaitingForSlave);
    w.u8(ha.readersCappedBySlave ? 1 : 0).u32(ha.slaveResyncs).u8(WRITE_HOLDS.indexOf(ha.writesHeld)).u32(ha.slavesRefused);
  }
  if (s.runtime !== undefined) w.u8(BlockKind.Runtime).bytes32(encodeRuntime(s.runtime));
  if (s.refusals !== undefined) w.u8(BlockKind.Refusals).bytes32(encodeRefusals(s.refusals));
  if (s.monitor !== undefined) w.u8(BlockKind.Monitor).bytes32(encodeMonitorBlock(s.monitor));
  return w.finish();
}

/** The refusals block: u16 count, then (str8 name, u64 count) pairs. */
function encodeRefusals(refusals: Record<string, number>): Buffer {
  const w = new BodyWriter();
  const entries = Object.entries(refusals);
  w.u16(entries.length);
  for (const [name, count] of entries) w.str8(name, 'refusal name').u64(count);
  return w.finish();
}

function decodeRefusals(block: Buffer): Record<string, number> {
  const r = new BodyReader(block);
  const out: Record<string, number> = {};
  for (let n = r.u16('refusal count'); n > 0; n--) {
    const name = r.str8('refusal name');
    out[name] = r.u64('refusals');
  }
  return out;
}

function encodeRuntime(rt: BrokerRuntimeView): Buffer {
  const w = new BodyWriter();
  w.u64(rt.rssBytes).u64(rt.heapUsedBytes).u64(rt.gcCount).u64(rt.gcPauseUs);
  w.u64(rt.syncCycles).u64(rt.syncTotalUs).u64(rt.syncBytes).u8(rt.syncLatencyBuckets.length);
  for (const c of rt.syncLatencyBuckets) w.u64(c);
  return w.finish();
}

/** The runtime block's fields; bytes after them are fields a newer broker added (ignored). */
function decodeRuntime(block: Buffer): BrokerRuntimeView {
  const r = new BodyReader(block);
  const rt: BrokerRuntimeView = {
    rssBytes: r.u64('rssBytes'),
    heapUsedBytes: r.u64('heapUsedBytes'),
    gcCount: r.u64('gcCount'),
    gcPauseUs: r.u64('gcPauseUs'),
    syncCycles: r.u64('syncCycles'),
    syncTotalUs: r.u64('syncTotalUs'),
    syncBytes: r.u64('syncBytes'),
    syncLatencyBuckets: [],
  };
  for (let n = r.u8('bucket count'); n > 0; n--) rt.syncLatencyBuckets.push(r.u64('bucket'));
  return rt;
}

function oneOf<T>(values: readonly T[], i: number, what: string): T {
  const v = values[i];
  if (v === undefined) throw new MalformedFrameError(`unknown ${what} ${i}`);
  return v;
}

export function decodeBrokerStats(body: Buffer): BrokerStats {
  const r = new BodyReader(body);
  const brokerName = r.str8('brokerName');
  const addr = r.str8('addr');
  const role = oneOf(ROLES, r.u8('role'), 'role');
  const connections = r.u32('connections');
  const heldPulls = r.u32('heldPulls');
  const retried = r.u64('retried');
  const deadLettered = r.u64('deadLettered');
  const flushMode = oneOf(FLUSH_MODES, r.u8('flushMode'), 'flush mode');
  const flags = r.u8('store flags');
  const store: StoreStatsView = {
    flushMode,
    minOffset: r.u64('minOffset'),
    appendOffset: r.u64('appendOffset'),
    writtenOffset: r.u64('writtenOffset'),
    flushedOffset: r.u64('flushedOffset'),
    dispatchedOffset: r.u64('dispatchedOffset'),
    segments: r.u32('segments'),
    topics: r.u32('topics'),
    flushCycles: r.u64('flushCycles'),
    pendingPuts: r.u32('pendingPuts'),
    openQueueFiles: r.u32('openQueueFiles'),
    diskFull: (flags & StoreFlag.DiskFull) !== 0,
    dispatchError: undefined,
    recovered: (flags & StoreFlag.Recovered) !== 0,
    truncatedTail: (flags & StoreFlag.TruncatedTail) !== 0,
    unavailable: undefined,
  };
  if ((flags & StoreFlag.DispatchError) !== 0) store.dispatchError = r.str16('dispatchError');
  if ((flags & StoreFlag.Unavailable) !== 0) store.unavailable = r.str16('unavailable');
  const groupCount = r.u16('group count');
  const groups: GroupSummary[] = [];
  for (let i = 0; i < groupCount; i++) {
    const group = r.str8('group');
    const mode = oneOf(CONSUME_MODES, r.u8('consume mode'), 'consume mode');
    const ordered = r.u8('ordered') !== 0;
    const members: string[] = [];
    for (let n = r.u16('member count'); n > 0; n--) members.push(r.str8('member'));
    const topics: string[] = [];
    for (let n = r.u16('topic count'); n > 0; n--) topics.push(r.str8('topic'));
    groups.push({ group, mode, ordered, members, topics });
  }
  let ha: HaMasterView | HaSlaveView | undefined;
  const kind = r.u8('replication kind');
  if (kind === HaKind.Slave) {
    ha = {
      connected: r.u8('connected') !== 0,
      masterHaAddr: r.str8('masterHaAddr'),
      replicatedOffset: r.u64('replicatedOffset'),
      truncations: r.u32('truncations'),
      masterDurableOffset: r.u64('masterDurableOffset'),
      resyncs: r.u32('resyncs'),
    };
  } else if (kind === HaKind.Master) {
    ha = {
      mode: oneOf(REPLICATION_MODES, r.u8('replication mode'), 'replication mode'),
      slaveConnected: r.u8('slaveConnected') !== 0,
      writtenOffset: r.u64('writtenOffset'),
      replicatedOffset: r.u64('replicatedOffset'),
      slaveLagBytes: r.u64('slaveLagBytes'),
      slaveLagMs: r.u64('slaveLagMs'),
      sendsWaitingForSlave: r.u32('sendsWaitingForSlave'),
      readersCappedBySlave: r.u8('readersCappedBySlave') !== 0,
      slaveResyncs: r.u32('slaveResyncs'),
      writesHeld: oneOf(WRITE_HOLDS, r.u8('writesHeld'), 'write hold'),
      slavesRefused: r.u32('slavesRefused'),
    };
  } else if (kind !== HaKind.None) {
    throw new MalformedFrameError(`unknown replication kind ${kind}`);
  }
  const stats: BrokerStats = { brokerName, addr, connections, heldPulls, retried, deadLettered, groups, store, role, ha };
  // Extension blocks, to the end of the body: one of an unknown kind is skipped whole.
  while (r.remaining > 0) {
    const blockKind = r.u8('block kind');
    const block = r.bytes32('an extension block');
    if (blockKind === BlockKind.Runtime) stats.runtime = decodeRuntime(block);
    else if (blockKind === BlockKind.Refusals) stats.refusals = decodeRefusals(block);
    else if (blockKind === BlockKind.Monitor) stats.monitor = decodeMonitorBlock(block);
  }
  r.done('the broker stats');
  return stats;
}
