// The broker's Prometheus metrics (prom-client, a registry of its own): the
// figures of BROKER_STATS, read from one stats() snapshot per scrape. Values
// come from the monitor's last reading and the counters the broker keeps;
// nothing is recorded on the request path for them.
import { Counter, Gauge, Registry } from 'prom-client';
import { diskUsedRatio, isHaSlaveView, type BrokerStats } from '../../protocol/index.js';
import type { MetricsSource } from '../../net/index.js';

const MS_PER_SEC = 1000;

type Labels<T extends string> = Partial<Record<T, string | number>>;

/** A gauge whose label sets are all rewritten at each scrape (a group that left disappears). */
function gauge<T extends string>(registry: Registry, name: string, help: string, labelNames: readonly T[], fill: (set: (labels: Labels<T>, v: number) => void) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, v) => this.set(labels, v));
    },
  });
}

/** A counter read from a running total the broker keeps. */
function counter<T extends string>(registry: Registry, name: string, help: string, labelNames: readonly T[], fill: (set: (labels: Labels<T>, v: number) => void) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, v) => this.inc(labels, Math.max(0, v)));
    },
  });
}

export function brokerMetrics(stats: () => BrokerStats): MetricsSource {
  const registry = new Registry();
  let s = stats();
  const b = (): { broker: string } => ({ broker: s.brokerName });
  const m = () => s.monitor;
  const B = ['broker'] as const;
  gauge(registry, 'metaq_broker_info', 'The broker: 1, with its role and flush mode as labels', ['broker', 'role', 'flush_mode'], (set) => set({ ...b(), role: s.role, flush_mode: s.store.flushMode }, 1));
  gauge(registry, 'metaq_broker_connections', 'Open client connections', B, (set) => set(b(), s.connections));
  gauge(registry, 'metaq_broker_held_pulls', 'Pulls held at the end of a queue', B, (set) => set(b(), s.heldPulls));
  counter(registry, 'metaq_broker_messages_in_total', 'Messages stored (the sum of every queue\'s max offset)', B, (set) => set(b(), m()?.msgsIn ?? 0));
  counter(registry, 'metaq_broker_bytes_in_total', 'CommitLog bytes written', B, (set) => set(b(), m()?.bytesIn ?? 0));
  counter(registry, 'metaq_broker_messages_out_total', 'Messages answered to pulls since start', B, (set) => set(b(), m()?.msgsOut ?? 0));
  counter(registry, 'metaq_broker_bytes_out_total', 'Bytes answered to pulls since start', B, (set) => set(b(), m()?.bytesOut ?? 0));
  gauge(registry, 'metaq_broker_messages_in_per_second', 'Messages stored per second over the last monitor interval', B, (set) => set(b(), m()?.msgsInPerSec ?? 0));
  gauge(registry, 'metaq_broker_messages_out_per_second', 'Messages pulled per second over the last monitor interval', B, (set) => set(b(), m()?.msgsOutPerSec ?? 0));
  gauge(registry, 'metaq_broker_bytes_in_per_second', 'CommitLog bytes written per second over the last monitor interval', B, (set) => set(b(), m()?.bytesInPerSec ?? 0));
  gauge(registry, 'metaq_broker_bytes_out_per_second', 'Bytes pulled per second over the last monitor interval', B, (set) => set(b(), m()?.bytesOutPerSec ?? 0));
  gauge(registry, 'metaq_commitlog_bytes', 'CommitLog bytes kept (append offset minus min offset)', B, (set) => set(b(), m()?.commitLogBytes ?? s.store.appendOffset - s.store.minOffset));
  gauge(registry, 'metaq_commitlog_unflushed_bytes', 'CommitLog bytes written but not yet flushed to disk', B, (set) => set(b(), Math.max(0, s.store.writtenOffset - s.store.flushedOffset)));
  counter(registry, 'metaq_commitlog_flush_failures_total', 'Failed CommitLog flushes (the store refuses writes after one)', B, (set) => set(b(), m()?.flushFailures ?? 0));
  gauge(registry, 'metaq_disk_total_bytes', "Size of the store's disk", B, (set) => set(b(), m()?.diskTotalBytes ?? 0));
  gauge(registry, 'metaq_disk_free_bytes', "Free space on the store's disk", B, (set) => set(b(), m()?.diskFreeBytes ?? 0));
  gauge(registry, 'metaq_disk_used_ratio', "Used share of the store's disk (0..1)", B, (set) => set(b(), m() === undefined ? 0 : diskUsedRatio(m()!)));
  gauge(registry, 'metaq_replication_slave_connected', 'Master: a slave is connected (1); slave: connected to its master (1)', B, (set) => {
    const ha = s.ha;
    if (ha !== undefined) set(b(), (isHaSlaveView(ha) ? ha.connected : ha.slaveConnected) ? 1 : 0);
  });
  gauge(registry, 'metaq_replication_slave_lag_bytes', "Master: bytes its slave has not confirmed", B, (set) => {
    const ha = s.ha;
    if (ha !== undefined && !isHaSlaveView(ha)) set(b(), ha.slaveLagBytes);
  });
  gauge(registry, 'metaq_replication_slave_lag_seconds', "Master: age of the oldest write its slave has not confirmed", B, (set) => {
    const ha = s.ha;
    if (ha !== undefined && !isHaSlaveView(ha)) set(b(), ha.slaveLagMs / MS_PER_SEC);
  });
  const Q = ['broker', 'topic', 'queue'] as const;
  gauge(registry, 'metaq_queue_max_offset', 'Queue offset the next message gets', Q, (set) => {
    for (const q of m()?.queues ?? []) set({ ...b(), topic: q.topic, queue: q.queueId }, q.maxOffset);
  });
  gauge(registry, 'metaq_queue_min_offset', 'Oldest readable queue offset', Q, (set) => {
    for (const q of m()?.queues ?? []) set({ ...b(), topic: q.topic, queue: q.queueId }, q.minOffset);
  });
  const GQ = ['broker', 'group', 'topic', 'queue'] as const;
  gauge(registry, 'metaq_group_queue_lag_messages', 'Messages of the queue past the group\'s committed offset', GQ, (set) => {
    for (const l of m()?.groupLags ?? []) set({ ...b(), group: l.group, topic: l.topic, queue: l.queueId }, l.lagMessages);
  });
  gauge(registry, 'metaq_group_queue_lag_seconds', 'Age of the oldest unconsumed message of the queue for the group', GQ, (set) => {
    for (const l of m()?.groupLags ?? []) set({ ...b(), group: l.group, topic: l.topic, queue: l.queueId }, l.lagMs / MS_PER_SEC);
  });
  const G = ['broker', 'group'] as const;
  gauge(registry, 'metaq_group_lag_messages', "Messages past the group's committed offsets, over all its queues on this broker", G, (set) => {
    for (const t of m()?.groupTotals ?? []) set({ ...b(), group: t.group }, t.lagMessages);
  });
  gauge(registry, 'metaq_group_lag_seconds', 'Age of the group\'s oldest unconsumed message on this broker', G, (set) => {
    for (const t of m()?.groupTotals ?? []) set({ ...b(), group: t.group }, t.lagMs / MS_PER_SEC);
  });
  gauge(registry, 'metaq_group_consumers', 'Live members of the consumer group', G, (set) => {
    for (const g of s.groups) set({ ...b(), group: g.group }, g.members.length);
  });
  const A = ['broker', 'alert', 'kind', 'group'] as const;
  gauge(registry, 'metaq_alert_firing', 'Alert rule state: 1 firing, 0 resolved', A, (set) => {
    for (const a of m()?.alerts ?? []) set({ ...b(), alert: a.name, kind: a.kind, group: a.group }, a.firing ? 1 : 0);
  });
  gauge(registry, 'metaq_alert_value', "The alert rule's value at its last evaluation", A, (set) => {
    for (const a of m()?.alerts ?? []) set({ ...b(), alert: a.name, kind: a.kind, group: a.group }, a.value);
  });
  counter(registry, 'metaq_refusals_total', 'Requests and connections a limit or security check refused, by limit', ['broker', 'limit'], (set) => {
    for (const [limit, n] of Object.entries(s.refusals ?? {})) set({ ...b(), limit }, n);
  });
  return {
    contentType: registry.contentType,
    render: () => {
      s = stats();
      return registry.metrics();
    },
  };
}
