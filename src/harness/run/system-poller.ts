// Reads the system under test once a second, from the sale's start to the
// drain's end: every role's CPU time (the same readings as the busy shares)
// and every broker's BROKER_STATS (runtime block, replication lag) through
// the run's admin client. A broker that does not answer within the poll's
// bound (killed, paused) is a missing reading for that second, never a
// failure of the run; a broker with a poll still outstanding is not asked
// again meanwhile.
import type { Admin } from '../../client/index.js';
import { isInternalGroup } from '../../common/index.js';
import type { BrokerStats } from '../../protocol/index.js';
import type { BrokerReading, SystemSample } from '../measure/index.js';
import { activitySnapshot, elapsedSec, type RunContext } from './run-context.js';
import { brokerRoleName } from './topology.js';
import { withTimeout } from './with-timeout.js';

const POLL_INTERVAL_SEC = 1;
/** A reading that takes longer than this counts as missing (a broker killed or paused); one that comes in time is dated by its arrival. */
const POLL_TIMEOUT_MS = 2000;
const MS_PER_S = 1000;

/** The broker's own lag figures: its worst client group's age (ms) and its client groups' messages (the broker's '%' groups left out). */
export function brokerLag(s: BrokerStats): { lagMs: number | undefined; lagMessages: number | undefined } {
  const totals = s.monitor?.groupTotals.filter((t) => !isInternalGroup(t.group));
  if (totals === undefined) return { lagMs: undefined, lagMessages: undefined };
  return { lagMs: Math.max(0, ...totals.map((t) => t.lagMs)), lagMessages: totals.reduce((n, t) => n + t.lagMessages, 0) };
}

function reading(s: BrokerStats, atSec: number): BrokerReading {
  const rt = s.runtime;
  const ha = s.ha;
  return {
    atSec,
    rssBytes: rt?.rssBytes,
    gcPauseUs: rt?.gcPauseUs,
    syncCycles: rt?.syncCycles,
    syncBytes: rt?.syncBytes,
    syncLatencyBuckets: rt?.syncLatencyBuckets,
    slaveLagBytes: ha !== undefined && 'slaveLagBytes' in ha ? ha.slaveLagBytes : undefined,
    ...brokerLag(s),
    msgsInPerSec: s.monitor?.msgsInPerSec,
    msgsOutPerSec: s.monitor?.msgsOutPerSec,
  };
}

export class SystemPoller {
  readonly samples: SystemSample[] = [];
  readonly #run: RunContext;
  readonly #admin: Admin;
  /** Brokers (role name, address) asked each second. */
  readonly #brokers: { role: string; addr: string }[];
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  /** The whole second of the run's clock the next reading is due at. */
  #due = 0;
  #stopped = false;
  #polling: Promise<void> = Promise.resolve();

  constructor(run: RunContext, admin: Admin) {
    this.#run = run;
    this.#admin = admin;
    const groups = run.topology?.groups ?? [];
    this.#brokers = groups.flatMap((g) => [g.master, ...(g.slave !== undefined ? [g.slave] : [])].map((r) => ({ role: brokerRoleName(r, groups.length), addr: r.addr })));
  }

  /** The first reading now (the sale's t = 0), then one at every whole second of the run's clock. */
  start(): void {
    this.#tick();
  }

  /** No further readings; waits for one under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }

  #tick(): void {
    if (this.#stopped) return;
    const polled = this.#poll();
    this.#polling = Promise.all([this.#polling, polled]).then(() => undefined);
    // The next whole second, once (a timer that fires a little early must not read twice); a late one skips to the next.
    const now = elapsedSec(this.#run);
    this.#due = Math.max(this.#due + POLL_INTERVAL_SEC, Math.floor(now / POLL_INTERVAL_SEC) * POLL_INTERVAL_SEC + POLL_INTERVAL_SEC);
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#due - now) * MS_PER_S);
  }

  async #poll(): Promise<void> {
    const atSec = elapsedSec(this.#run);
    const cpuUs: SystemSample['cpuUs'] = {};
    for (const a of activitySnapshot(this.#run).activity) cpuUs[a.role] = a.cpuUs;
    const brokers: SystemSample['brokers'] = {};
    await Promise.all(
      this.#brokers.map(async (b) => {
        brokers[b.role] = undefined;
        if (this.#pending.has(b.addr)) return;
        this.#pending.add(b.addr);
        const stats = this.#admin.stats(b.addr).finally(() => this.#pending.delete(b.addr));
        brokers[b.role] = await withTimeout(stats, POLL_TIMEOUT_MS, `stats of ${b.role}`).then(
          (s) => reading(s, elapsedSec(this.#run)),
          () => undefined,
        );
      }),
    );
    this.samples.push({ atSec, cpuUs, brokers });
  }
}
