// `metaq stats`: what brokers say about themselves (BROKER_STATS and its
// monitor block): traffic, CommitLog and disk, flush and replication, queue
// offsets, consumer group lag in messages and in time, alert rules. One
// broker, several, or every broker a name server routes to. A table by
// default, --json for machines, --watch to refresh, --check for cron and CI
// (exit 1 while a rule fires, 3 when a broker does not answer).
import type { Argv, CommandModule } from 'yargs';
import { Admin, type AdminOptions, type BrokerStats } from '../client/index.js';
import { InvalidConfigError } from '../common/index.js';
import { listFlag } from './options.js';
import { clientTlsFromFlags, withTlsFlags, type TlsArgs } from './tls-flags.js';
import { clientSecurityOptions, credentialFrom, type SecurityArgs } from './security-flags.js';
import { checkVerdict, formatStatsTable, statsJson, type StatsSnapshot } from './stats-format.js';

interface StatsArgs extends TlsArgs, SecurityArgs {
  namesrv?: unknown;
  broker?: unknown;
  json?: boolean;
  watch?: unknown;
  check?: boolean;
}

export interface StatsPlan {
  namesrv: string[] | undefined;
  brokers: string[] | undefined;
  json: boolean;
  /** Refresh every this many seconds; undefined: once. */
  watchSec: number | undefined;
  check: boolean;
}

const DEFAULT_WATCH_SEC = 2;
const MAX_WATCH_SEC = 3600;
const MS_PER_SEC = 1000;
const CLEAR_SCREEN = '\x1b[2J\x1b[H';

export function statsPlanFromArgs(a: StatsArgs): StatsPlan {
  const namesrv = listFlag(a.namesrv);
  const brokers = listFlag(a.broker);
  if ((namesrv === undefined || namesrv.length === 0) === (brokers === undefined || brokers.length === 0)) {
    throw new InvalidConfigError('name either --broker host:port (these brokers) or --namesrv host:port (every broker it routes to), not both');
  }
  let watchSec: number | undefined;
  if (a.watch !== undefined && a.watch !== false) {
    const raw = a.watch === true || a.watch === '' ? String(DEFAULT_WATCH_SEC) : String(a.watch);
    watchSec = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || watchSec <= 0 || watchSec > MAX_WATCH_SEC) throw new InvalidConfigError(`--watch takes a refresh interval in seconds (0 < sec <= ${MAX_WATCH_SEC}), got ${JSON.stringify(a.watch)}`);
  }
  const check = a.check === true;
  if (check && watchSec !== undefined) throw new InvalidConfigError('--check reads once and exits with the verdict; it does not combine with --watch');
  return { namesrv: brokers === undefined ? namesrv : undefined, brokers, json: a.json === true, watchSec, check };
}

/** Every broker a name server routes to (masters and slaves), sorted by name then address. */
async function brokersOf(admin: Admin, namesrvs: readonly string[]): Promise<string[]> {
  let lastError: unknown;
  for (const ns of namesrvs) {
    try {
      const s = await admin.nameServerStats(ns);
      return [...s.brokers].sort((x, y) => (x.brokerName === y.brokerName ? x.role - y.role : x.brokerName < y.brokerName ? -1 : 1)).map((b) => b.addr);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** One reading of every broker the plan names; a broker that does not answer is listed as unreachable. */
export async function readStats(admin: Admin, plan: Pick<StatsPlan, 'namesrv' | 'brokers'>): Promise<StatsSnapshot> {
  const addrs = plan.brokers ?? (await brokersOf(admin, plan.namesrv!));
  const results = await Promise.allSettled(addrs.map((addr) => admin.stats(addr)));
  const brokers: BrokerStats[] = [];
  const unreachable: StatsSnapshot['unreachable'] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') brokers.push(r.value);
    else unreachable.push({ addr: addrs[i]!, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  return { atMs: Date.now(), brokers, unreachable };
}

function render(s: StatsSnapshot, json: boolean): string {
  return json ? JSON.stringify(statsJson(s)) : formatStatsTable(s);
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: 'stats',
  describe: 'Show brokers\' traffic, disk, replication, queue offsets, consumer group lag and alert rules (--check for cron)',
  builder: (y) =>
    withTlsFlags(
      clientSecurityOptions(
        y
          .usage(
            [
              '$0 stats (--broker ADDR | --namesrv ADDR) [--json] [--watch [SEC]] [--check]',
              '',
              'Reads BROKER_STATS of each broker: messages and bytes in and out per second, CommitLog and disk use, flush and',
              'replication state with the slave lag, every queue\'s max offset, every consumer group\'s lag in messages and in',
              'time (the age of its oldest unconsumed message) with its consumers and the queue each owns, and the broker\'s',
              'alert rules. Figures are the broker\'s own, refreshed every monitorIntervalMs (default 1 s).',
              'Queue owners assume the brokers shown hold every queue of the topic (true with --namesrv).',
              'Needs an admin account on brokers that have accounts.',
            ].join('\n'),
          )
          .option('broker', { type: 'string', requiresArg: true, describe: "Broker(s) host:port, ';' or ',' separated" })
          .option('namesrv', { type: 'string', requiresArg: true, describe: 'Name server(s) host:port: every broker it routes to (masters and slaves)' })
          .option('json', { type: 'boolean', describe: 'One JSON object per reading (with --watch: one line each)' })
          .option('watch', { describe: `Refresh every SEC seconds until interrupted (default ${DEFAULT_WATCH_SEC})` })
          .option('check', { type: 'boolean', describe: 'Read once; exit 1 and name the rules while any alert rule fires, 3 if a broker does not answer, else 0' })
          .example('$0 stats --namesrv 127.0.0.1:9876', 'every broker of the cluster, as tables')
          .example('$0 stats --broker 127.0.0.1:10911 --watch 1', 'refresh every second')
          .example('$0 stats --namesrv 127.0.0.1:9876 --check || page-the-operator', 'from cron'),
        'this command (an admin account)',
      ),
      { connect: 'reach the name servers and brokers' },
    ) as unknown as Argv<StatsArgs>,
  handler: async (a) => {
    const plan = statsPlanFromArgs(a);
    const tls = clientTlsFromFlags(a, process.cwd(), false);
    const credential = credentialFrom(a, process.env, process.cwd());
    const options: AdminOptions = { ...(tls === undefined ? {} : { tls }), ...(credential === undefined ? {} : { credential }) };
    const admin = new Admin(options);
    try {
      if (plan.check) {
        const s = await readStats(admin, plan);
        if (plan.json) console.log(JSON.stringify(statsJson(s)));
        const verdict = checkVerdict(s);
        for (const line of verdict.lines) (verdict.code === 0 ? console.log : console.error)(line);
        process.exitCode = verdict.code;
        return;
      }
      if (plan.watchSec === undefined) {
        const s = await readStats(admin, plan);
        console.log(render(s, plan.json));
        if (s.brokers.length === 0) process.exitCode = 3;
        return;
      }
      let stopped = false;
      const stop = (): void => {
        stopped = true;
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      while (!stopped) {
        const s = await readStats(admin, plan);
        const text = render(s, plan.json);
        process.stdout.write(!plan.json && process.stdout.isTTY ? `${CLEAR_SCREEN}${text}\n` : `${text}\n`);
        const wake = Date.now() + plan.watchSec * MS_PER_SEC;
        while (!stopped && Date.now() < wake) await new Promise((r) => setTimeout(r, Math.min(200, wake - Date.now())));
      }
    } finally {
      admin.close();
    }
  },
};
