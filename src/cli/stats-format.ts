// What `metaq stats` prints: one block per broker (traffic, store and disk,
// replication, queues, consumer groups with their lag and queue owners,
// alert rules) as aligned text tables, or the same figures as JSON. Pure:
// the command fetches, these functions format.
import { allocateAveragely, type BrokerStats } from '../client/index.js';
import { diskUsedRatio, isHaSlaveView, type AlertView } from '../protocol/index.js';

/** One `metaq stats` reading: the brokers that answered and those that did not. */
export interface StatsSnapshot {
  atMs: number;
  brokers: BrokerStats[];
  unreachable: { addr: string; error: string }[];
}

/** A firing rule and the broker it fires on. */
export interface FiringAlert {
  broker: string;
  addr: string;
  alert: AlertView;
}

const MS_PER_SEC = 1000;
const PERCENT = 100;

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

function seconds(ms: number): string {
  return (ms / MS_PER_SEC).toFixed(1);
}

/** Rows under a header, columns padded to their widest cell; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[], indent = '  '): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return cells.map((r) => indent + r.map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]!) : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The member of each clustering group that owns each queue, as consumers allocate them (sorted brokers, then queue ids; members sorted). */
export function queueOwners(brokers: readonly BrokerStats[]): Map<string, string> {
  const owners = new Map<string, string>();
  const queuesOf = new Map<string, { brokerName: string; queueId: number }[]>();
  const seenBroker = new Set<string>();
  for (const b of [...brokers].sort((x, y) => (x.brokerName < y.brokerName ? -1 : x.brokerName > y.brokerName ? 1 : 0))) {
    // A master and its slave share a name and queues: count them once.
    if (seenBroker.has(b.brokerName)) continue;
    seenBroker.add(b.brokerName);
    for (const q of b.monitor?.queues ?? []) {
      const list = queuesOf.get(q.topic) ?? [];
      list.push({ brokerName: b.brokerName, queueId: q.queueId });
      queuesOf.set(q.topic, list);
    }
  }
  const groups = new Map(brokers.flatMap((b) => b.groups).filter((g) => g.mode === 'clustering').map((g) => [g.group, g]));
  for (const g of groups.values()) {
    const members = [...g.members].sort();
    for (const topic of g.topics) {
      const all = queuesOf.get(topic) ?? [];
      for (const m of members) for (const q of allocateAveragely(all, members, m)) owners.set(ownerKey(g.group, q.brokerName, topic, q.queueId), m);
    }
  }
  return owners;
}

function ownerKey(group: string, brokerName: string, topic: string, queueId: number): string {
  return `${group}\u0000${brokerName}\u0000${topic}\u0000${queueId}`;
}

export function firingAlerts(s: StatsSnapshot): FiringAlert[] {
  return s.brokers.flatMap((b) => (b.monitor?.alerts ?? []).filter((a) => a.firing).map((alert) => ({ broker: b.brokerName, addr: b.addr, alert })));
}

function replicationLine(b: BrokerStats): string {
  const ha = b.ha;
  if (ha === undefined) return 'none';
  if (isHaSlaveView(ha)) return `slave of ${ha.masterHaAddr}, ${ha.connected ? 'connected' : 'DISCONNECTED'}, replicated to ${ha.replicatedOffset}`;
  return `master ${ha.mode}, ${ha.slaveConnected ? 'slave connected' : 'no slave connected'}, slave lag ${humanBytes(ha.slaveLagBytes)} / ${seconds(ha.slaveLagMs)} s${ha.writesHeld === 'none' ? '' : `, writes held (${ha.writesHeld})`}`;
}

function brokerBlock(b: BrokerStats, owners: Map<string, string>): string[] {
  const m = b.monitor;
  const st = b.store;
  const out = [`broker ${b.brokerName} (${b.role}) ${b.addr}`];
  if (m === undefined) {
    out.push('  (this broker sends no monitor block: it is older than `metaq stats`)');
    return out;
  }
  out.push(`  traffic      in ${m.msgsInPerSec} msg/s ${humanBytes(m.bytesInPerSec)}/s, out ${m.msgsOutPerSec} msg/s ${humanBytes(m.bytesOutPerSec)}/s (stored ${m.msgsIn} msgs, pulled ${m.msgsOut} since start)`);
  const disk = m.diskTotalBytes === 0 ? 'disk unknown' : `disk ${(diskUsedRatio(m) * PERCENT).toFixed(1)}% used of ${humanBytes(m.diskTotalBytes)} (${humanBytes(m.diskFreeBytes)} free)`;
  out.push(`  store        CommitLog ${humanBytes(m.commitLogBytes)} kept, ${disk}${st.diskFull ? ' DISK FULL' : ''}`);
  out.push(`  flush        ${st.flushMode}, unflushed ${humanBytes(Math.max(0, st.writtenOffset - st.flushedOffset))}, failures ${m.flushFailures}${st.unavailable === undefined ? '' : ` (store unavailable: ${st.unavailable})`}`);
  out.push(`  replication  ${replicationLine(b)}`);
  out.push(`  connections  ${b.connections}, held pulls ${b.heldPulls}`);
  if (m.queues.length > 0) {
    out.push('  queues');
    out.push(...table(['TOPIC', 'QUEUE', 'MIN', 'MAX'], m.queues.map((q) => [q.topic, q.queueId, q.minOffset, q.maxOffset]), '    '));
    if (m.queuesOmitted > 0) out.push(`    ... and ${m.queuesOmitted} more queues (not listed)`);
  }
  if (m.groupTotals.length > 0 || b.groups.length > 0) {
    out.push('  consumer groups');
    const summaries = new Map(b.groups.map((g) => [g.group, g]));
    const names = [...new Set([...m.groupTotals.map((t) => t.group), ...summaries.keys()])].sort();
    out.push(
      ...table(
        ['GROUP', 'MODE', 'CONSUMERS', 'LAG', 'LAG(s)'],
        names.map((g) => {
          const t = m.groupTotals.find((x) => x.group === g);
          const s = summaries.get(g);
          return [g, s === undefined ? '-' : `${s.mode}${s.ordered ? ' ordered' : ''}`, s?.members.length ?? 0, t?.lagMessages ?? 0, seconds(t?.lagMs ?? 0)];
        }),
        '    ',
      ),
    );
    const consumers = b.groups.filter((g) => g.members.length > 0);
    for (const g of consumers) out.push(`    ${g.group} consumers: ${g.members.join(', ')}`);
  }
  if (m.groupLags.length > 0) {
    out.push('  group queues');
    out.push(
      ...table(
        ['GROUP', 'TOPIC', 'QUEUE', 'COMMITTED', 'MAX', 'LAG', 'LAG(s)', 'CONSUMER'],
        m.groupLags.map((l) => [l.group, l.topic, l.queueId, l.committedOffset, l.maxOffset, l.lagMessages, seconds(l.lagMs), owners.get(ownerKey(l.group, b.brokerName, l.topic, l.queueId)) ?? '-']),
        '    ',
      ),
    );
    if (m.groupLagsOmitted > 0) out.push(`    ... and ${m.groupLagsOmitted} more group queues (smallest lags, not listed; counted in the totals)`);
  }
  if (m.alerts.length > 0) {
    out.push('  alerts');
    out.push(
      ...table(
        ['NAME', 'KIND', 'GROUP', 'ABOVE', 'FOR(s)', 'VALUE', 'STATE', 'SINCE'],
        m.alerts.map((a) => [a.name, a.kind, a.group === '' ? '-' : a.group, a.above, a.forSec, Number(a.value.toFixed(3)), a.firing ? 'FIRING' : 'ok', a.sinceMs === 0 ? '-' : new Date(a.sinceMs).toISOString()]),
        '    ',
      ),
    );
  }
  return out;
}

/** The human report: one block per broker, then the unreachable ones. */
export function formatStatsTable(s: StatsSnapshot): string {
  const owners = queueOwners(s.brokers);
  const out = [`metaq stats at ${new Date(s.atMs).toISOString()}: ${s.brokers.length} broker(s)`];
  for (const b of s.brokers) out.push('', ...brokerBlock(b, owners));
  for (const u of s.unreachable) out.push('', `broker ${u.addr}: UNREACHABLE (${u.error})`);
  return out.join('\n');
}

/** The machine report: the brokers' stats as they came, each group queue with its owner, the firing alerts. */
export function statsJson(s: StatsSnapshot): Record<string, unknown> {
  const owners = queueOwners(s.brokers);
  return {
    atMs: s.atMs,
    brokers: s.brokers.map((b) => ({
      ...b,
      ...(b.monitor === undefined
        ? {}
        : { monitor: { ...b.monitor, groupLags: b.monitor.groupLags.map((l) => ({ ...l, consumer: owners.get(ownerKey(l.group, b.brokerName, l.topic, l.queueId)) ?? null })) } }),
    })),
    unreachable: s.unreachable,
    firing: firingAlerts(s).map((f) => ({ broker: f.broker, addr: f.addr, ...f.alert })),
  };
}

/** --check's verdict: the lines to print and the exit code (0 none firing, 1 some firing, 3 a broker unreachable). */
export function checkVerdict(s: StatsSnapshot): { code: number; lines: string[] } {
  const firing = firingAlerts(s);
  const lines = firing.map((f) => `FIRING ${f.alert.name} on ${f.broker} (${f.addr}): ${f.alert.kind}${f.alert.group === '' ? '' : ` of group ${f.alert.group}`} is ${Number(f.alert.value.toFixed(3))}, above ${f.alert.above}`);
  for (const u of s.unreachable) lines.push(`UNREACHABLE ${u.addr}: ${u.error}`);
  if (firing.length > 0) return { code: 1, lines };
  if (s.unreachable.length > 0) return { code: 3, lines };
  const rules = s.brokers.reduce((n, b) => n + (b.monitor?.alerts.length ?? 0), 0);
  return { code: 0, lines: [`OK: ${rules} alert rule(s) on ${s.brokers.length} broker(s), none firing`] };
}
