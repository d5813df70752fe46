// The broker's monitor: once per interval it reads the figures the broker
// already keeps (queue max offsets, the CommitLog's offsets, committed
// consumer offsets, replication, the disk) into one BrokerMonitorView, derives
// rates from the previous reading, and evaluates the alert rules against it,
// logging each rule that changes state. BROKER_STATS and /metrics serve the
// last view, so a scrape costs nothing and the hot path is untouched (pulls
// add their count and bytes to two counters, once per pull).
import { statfs } from 'node:fs/promises';
import { FlushError } from '../../common/index.js';
import { diskUsedRatio, type AlertView, type BrokerMonitorView, type HaMasterView, type HaSlaveView, type QueueFigure } from '../../protocol/index.js';
import type { MessageStore } from '../../store/index.js';
import type { ResolvedAlertRule } from './alert-rules.js';
import { AlertStates, type AlertTransition } from './alert-states.js';
import { computeGroupLags, worstClientGroup } from './group-lag.js';

/** At most this many queues are listed per answer (topic order); the rest are counted. */
export const MAX_QUEUE_ENTRIES = 4096;
const MS_PER_SEC = 1000;

export interface MonitorSources {
  store: MessageStore;
  /** Committed offsets: group -> "topic:queueId" -> offset. */
  offsets: () => Record<string, Record<string, number>>;
  ha: () => HaMasterView | HaSlaveView | undefined;
  rules: readonly ResolvedAlertRule[];
  intervalMs: number;
  /** Where a rule's change of state is written (one line each). */
  log: (line: string) => void;
}

function emptyView(): BrokerMonitorView {
  return {
    atMs: 0, msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0, msgsInPerSec: 0, bytesInPerSec: 0, msgsOutPerSec: 0, bytesOutPerSec: 0,
    commitLogBytes: 0, diskTotalBytes: 0, diskFreeBytes: 0, flushFailures: 0, queues: [], queuesOmitted: 0, groupTotals: [], groupLags: [], groupLagsOmitted: 0, alerts: [],
  };
}

/** The value a rule compares with its bound, from one view. */
export function ruleValue(rule: ResolvedAlertRule, view: BrokerMonitorView, ha: HaMasterView | HaSlaveView | undefined): number {
  switch (rule.kind) {
    case 'groupLagMessages':
      return rule.group === undefined ? worstClientGroup(view.groupTotals, (t) => t.lagMessages) : (view.groupTotals.find((t) => t.group === rule.group)?.lagMessages ?? 0);
    case 'groupLagSeconds': {
      const ms = rule.group === undefined ? worstClientGroup(view.groupTotals, (t) => t.lagMs) : (view.groupTotals.find((t) => t.group === rule.group)?.lagMs ?? 0);
      return ms / MS_PER_SEC;
    }
    case 'slaveLagBytes':
      return ha !== undefined && 'slaveLagBytes' in ha ? ha.slaveLagBytes : 0;
    case 'diskUsedRatio':
      return diskUsedRatio(view);
    case 'flushFailures':
      return view.flushFailures;
  }
}

export function describeTransition(brokerName: string, t: AlertTransition): string {
  const r = t.rule;
  const what = `${r.kind}${r.group === undefined ? '' : ` of group ${r.group}`}`;
  return t.firing
    ? `alert ${r.name} FIRING on broker ${brokerName}: ${what} is ${t.value}, above ${r.above}${r.forSec > 0 ? ` for ${r.forSec}s` : ''}`
    : `alert ${r.name} RESOLVED on broker ${brokerName}: ${what} is ${t.value}, not above ${r.above}`;
}

export class BrokerMonitor {
  readonly #s: MonitorSources;
  readonly #alerts: AlertStates;
  readonly #brokerName: string;
  #view: BrokerMonitorView = emptyView();
  #msgsOut = 0;
  #bytesOut = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(brokerName: string, sources: MonitorSources) {
    this.#brokerName = brokerName;
    this.#s = sources;
    this.#alerts = new AlertStates(sources.rules);
  }

  /** The first reading now (synchronously, without disk figures), then one per interval. */
  start(): void {
    this.#view = this.#read(undefined);
    this.#timer = setInterval(() => void this.tick(), this.#s.intervalMs);
    this.#timer.unref();
  }

  /** A pull answered `count` messages of `bytes` bytes. */
  pulled(count: number, bytes: number): void {
    this.#msgsOut += count;
    this.#bytesOut += bytes;
  }

  /** The last reading. */
  view(): BrokerMonitorView {
    return this.#view;
  }

  get firingAlerts(): AlertView[] {
    return this.#view.alerts.filter((a) => a.firing);
  }

  /** Reads now and evaluates the rules (the timer's work; tests call it to skip the wait). One at a time. */
  tick(): Promise<void> {
    this.#running ??= this.#tick().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #tick(): Promise<void> {
    let disk: { total: number; free: number } | undefined;
    try {
      const s = await statfs(this.#s.store.config.dir);
      disk = { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
    } catch {
      disk = undefined; // statfs unsupported: the disk is unknown (0), no rule fires on a guess
    }
    if (this.#closed) return;
    const view = this.#read(disk);
    const ha = this.#s.ha();
    for (const t of this.#alerts.evaluate((rule) => ruleValue(rule, view, ha), view.atMs)) this.#s.log(describeTransition(this.#brokerName, t));
    view.alerts = this.#alerts.views();
    this.#view = view;
  }

  #read(disk: { total: number; free: number } | undefined): BrokerMonitorView {
    const store = this.#s.store;
    const now = Date.now();
    const prev = this.#view;
    const queues: QueueFigure[] = [];
    let msgsIn = 0;
    let queueCount = 0;
    for (const topic of store.topicNames().sort()) {
      const n = store.queueCount(topic) ?? 0;
      for (let q = 0; q < n; q++) {
        const maxOffset = store.maxOffset(topic, q);
        msgsIn += maxOffset;
        if (++queueCount <= MAX_QUEUE_ENTRIES) queues.push({ topic, queueId: q, minOffset: store.minOffset(topic, q), maxOffset });
      }
    }
    const st = store.stats();
    const lags = computeGroupLags(store, this.#s.offsets(), now);
    const view: BrokerMonitorView = {
      atMs: now,
      msgsIn,
      bytesIn: st.writtenOffset,
      msgsOut: this.#msgsOut,
      bytesOut: this.#bytesOut,
      msgsInPerSec: 0,
      bytesInPerSec: 0,
      msgsOutPerSec: 0,
      bytesOutPerSec: 0,
      commitLogBytes: Math.max(0, st.appendOffset - st.minOffset),
      diskTotalBytes: disk?.total ?? prev.diskTotalBytes,
      diskFreeBytes: disk?.free ?? prev.diskFreeBytes,
      flushFailures: st.unavailable?.startsWith(`${new FlushError().code}:`) === true ? 1 : 0,
      queues,
      queuesOmitted: queueCount - queues.length,
      groupTotals: lags.totals,
      groupLags: lags.lags,
      groupLagsOmitted: lags.omitted,
      alerts: prev.alerts.length > 0 ? prev.alerts : this.#alerts.views(),
    };
    if (prev.atMs > 0 && now > prev.atMs) {
      const sec = (now - prev.atMs) / MS_PER_SEC;
      const rate = (a: number, b: number): number => Math.max(0, Math.round((a - b) / sec));
      view.msgsInPerSec = rate(view.msgsIn, prev.msgsIn);
      view.bytesInPerSec = rate(view.bytesIn, prev.bytesIn);
      view.msgsOutPerSec = rate(view.msgsOut, prev.msgsOut);
      view.bytesOutPerSec = rate(view.bytesOut, prev.bytesOut);
    }
    return view;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }
}
