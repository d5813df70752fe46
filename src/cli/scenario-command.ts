// `metaq scenario <name>`: runs one scenario once (the Double-12 harness).
// Progress goes to stderr; the report files go to --out; the last line on
// stdout says PASSED, or FAILED with the reasons, and the exit status is 0
// only when the run passed (1 when it failed its checks, 2 on bad input).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { checkInteger, InvalidConfigError } from '../common/index.js';
import { credentialFrom, type SecurityArgs } from './security-flags.js';
import {
  applyOverrides,
  checkScenario,
  defaultDataRoot,
  FAULT_KINDS,
  listScenarios,
  loadScenario,
  MAX_BROKER_GROUPS,
  parseFault,
  runScenario,
  writeRunReport,
  type RunSummary,
  type ScenarioOverrides,
} from '../harness/index.js';

export interface ScenarioArgs extends SecurityArgs {
  name: string;
  flush?: string;
  replication?: string;
  duration?: number;
  rate?: number;
  queues?: number;
  consumers?: number;
  producers?: number;
  isolation?: string;
  broker?: string[];
  namesrv?: string;
  out?: string;
  'data-dir'?: string;
  'keep-data': boolean;
  'inject-drop': number;
  fault?: string[];
  'broker-groups'?: number;
  'inject-double-issue': number;
  front?: string;
  connections?: number;
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new InvalidConfigError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function positiveNumber(flag: string, v: number | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  if (integer) return checkInteger(`--${flag}`, v);
  if (!Number.isFinite(v) || v <= 0) throw new InvalidConfigError(`--${flag} must be a positive number, got ${v}`);
  return v;
}

/** The overrides a command line asks for (shared with `metaq compare`). */
export function overridesFromArgs(a: Omit<ScenarioArgs, 'name' | 'keep-data' | 'inject-drop' | 'inject-double-issue'>): ScenarioOverrides {
  const o: ScenarioOverrides = {};
  const set = <K extends keyof ScenarioOverrides>(k: K, v: ScenarioOverrides[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('flush', oneOf('flush', a.flush, ['sync', 'async'] as const));
  set('replication', oneOf('replication', a.replication, ['sync', 'async', 'none'] as const));
  set('isolation', oneOf('isolation', a.isolation, ['thread', 'process'] as const));
  set('durationSec', positiveNumber('duration', a.duration));
  set('rate', positiveNumber('rate', a.rate));
  set('queues', positiveNumber('queues', a.queues, true));
  set('consumers', positiveNumber('consumers', a.consumers, true));
  set('producers', positiveNumber('producers', a.producers, true));
  const groups = positiveNumber('broker-groups', a['broker-groups'], true);
  if (groups !== undefined && groups > MAX_BROKER_GROUPS) throw new InvalidConfigError(`--broker-groups must be at most ${MAX_BROKER_GROUPS}, got ${groups}`);
  set('brokerGroups', groups);
  set('front', oneOf('front', a.front, ['producers', 'http'] as const));
  set('connections', positiveNumber('connections', a.connections, true));
  // `--fault none` runs a scenario without the faults it lists.
  if (a.fault !== undefined) set('faults', a.fault.filter((f) => f !== 'none').map(parseFault));
  return o;
}

/** --help's list of fault kinds, one per line. */
export function faultKindsHelp(): string {
  const width = Math.max(...Object.keys(FAULT_KINDS).map((k) => k.length));
  return Object.entries(FAULT_KINDS)
    .map(([k, what]) => `  ${k.padEnd(width)}  ${what}`)
    .join('\n');
}

/** A timestamp for directory names: ISO 8601 to the second, colons made dashes. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
}

export function defaultOutDir(scenario: string, flush: string, replication: string, at = new Date()): string {
  return path.join('results', scenario, `${stamp(at)}-${flush}-${replication}`);
}

/** The closing line: what a CI log shows last. */
export function verdictLine(s: RunSummary): string {
  if (!s.passed) return `FAILED: ${s.failures.join('; ')}`;
  const faults = s.faults.length === 0 ? '' : `, ${s.faults.length} fault(s): ${s.faults.map((f) => f.spec).join(' ')}`;
  const limit = s.messages.lost > 0 ? ` (within the mode's limit of ${s.lossLimit})` : '';
  return `PASSED: ${s.scenario} ${s.flush}/${s.replication}${faults}, lost ${s.messages.lost}${limit}`;
}

export function scenarioOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('flush', { type: 'string', requiresArg: true, describe: 'Flush mode of the brokers: sync (ack after fdatasync) or async (default: the scenario\'s)' })
    .option('replication', { type: 'string', requiresArg: true, describe: 'sync (ack once the slave holds it), async, or none (no slave) (default: the scenario\'s)' })
    .option('duration', { type: 'number', requiresArg: true, describe: 'Total seconds of the producing phases, each scaled in proportion (the drain runs until the backlog is consumed)' })
    .option('rate', { type: 'number', requiresArg: true, describe: 'Peak offered rate, msg/s; the whole curve and the consumer capacity scale with it' })
    .option('queues', { type: 'number', requiresArg: true, describe: 'Queues of the topic' })
    .option('consumers', { type: 'number', requiresArg: true, describe: 'Consumer worker threads (the lottery capacity is shared among them)' })
    .option('producers', { type: 'number', requiresArg: true, describe: 'Producer worker threads (default: the scenario\'s, or half the CPUs)' })
    .option('isolation', { type: 'string', requiresArg: true, describe: 'Run the name server and brokers as worker threads (thread) or child processes (process)' })
    .option('broker-groups', { type: 'number', requiresArg: true, describe: 'Master/slave pairs behind the name server (broker-a, broker-b, ...); producers fail over between them (default: the scenario\'s, or 1)' })
    .option('fault', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe:
        'Inject a fault during the run: <kind>@<second>[:<arg>], repeatable, e.g. --fault power-loss-master@60 --fault restart-master@75; ' +
        'replaces the scenario\'s own faults (--fault none: no fault). A broker fault hits broker-a unless :<group> says (kill-master@50:b); ' +
        'faults on brokers switch --isolation process on. Kinds are listed below',
    })
    .option('front', {
      type: 'string',
      requiresArg: true,
      describe:
        'Who plays the users: producers (open-loop producer threads) or http (autocannon users, closed loop, call the activity service; ' +
        'without --rate the curve is scaled to a 3,000 claims/s peak) (default: the scenario\'s)',
    })
    .option('connections', { type: 'number', requiresArg: true, describe: 'With --front http: autocannon connections, i.e. concurrent users (default: the scenario\'s, or 256)' })
    .option('data-dir', { type: 'string', requiresArg: true, describe: 'Where the brokers\' fresh data directories are made (default: the OS temp directory)' })
    .option('keep-data', { type: 'boolean', default: false, describe: 'Keep the brokers\' data directories after the run' }) as Argv<T>;
}

export const scenarioCommand: CommandModule<object, ScenarioArgs> = {
  command: 'scenario <name>',
  describe: 'Run a load scenario once (double12, smoke, ...) and write its report',
  builder: (y) =>
    scenarioOptions(
      y
        .positional('name', { type: 'string', demandOption: true, describe: `Scenario: ${listScenarios().join(', ')}` })
        .option('out', { type: 'string', requiresArg: true, describe: 'Report directory (default results/<scenario>/<timestamp>-<flush>-<replication>/)' })
        .option('broker', { type: 'string', array: true, requiresArg: true, describe: 'Use this running master broker (host:port) instead of booting one; needs --namesrv' })
        .option('namesrv', { type: 'string', requiresArg: true, describe: 'The name server the running brokers registered with (host:port)' })
        .option('credential-file', {
          type: 'string',
          requiresArg: true,
          describe: 'With --broker: JSON {"name", "secret"} file (mode 600) of the account every client of the run presents (an admin account: the run creates its topic); env METAQ_CREDENTIAL_FILE or METAQ_CREDENTIAL=name:secret. Booted runs make their own accounts',
        })
        .option('inject-drop', { type: 'number', default: 0, describe: 'Deliberate fault: the consumers silently skip this many messages (the run must then report them lost and fail)' })
        .option('inject-double-issue', {
          type: 'number',
          default: 0,
          describe: "Deliberate fault: the lottery handles this many claims a second time past its idempotency check (the run must then report the users' tickets issued twice and fail)",
        })
        .epilog(
          'Exit status: 0 when the run passed (nothing lost, every ticket issued once, no failed send, the backlog drained, ' +
            'and the scenario\'s thresholds met), 1 when it failed (the reasons are on the last line), 2 on bad input. ' +
            'Report files: summary.json, summary.md, send.hgrm, e2e.hgrm, timeline.csv, report.html.\n\n' +
            `Fault kinds (--fault <kind>@<second>[:<arg>]):\n${faultKindsHelp()}`,
        ),
    ) as unknown as Argv<ScenarioArgs>,
  handler: async (a) => {
    const base = await loadScenario(a.name);
    const s = applyOverrides(base, overridesFromArgs(a));
    checkScenario(s, `scenario ${a.name} with the given options`);
    if (!Number.isInteger(a['inject-drop']) || a['inject-drop'] < 0) throw new InvalidConfigError(`--inject-drop must be an integer >= 0, got ${a['inject-drop']}`);
    if (!Number.isInteger(a['inject-double-issue']) || a['inject-double-issue'] < 0) throw new InvalidConfigError(`--inject-double-issue must be an integer >= 0, got ${a['inject-double-issue']}`);
    if ((a.broker !== undefined) !== (a.namesrv !== undefined)) throw new InvalidConfigError('--broker and --namesrv go together: the clients find the brokers through the name server');
    const out = path.resolve(a.out ?? defaultOutDir(s.name, s.topology.flush, s.topology.replication));
    const abort = new AbortController();
    // SIGINT or SIGTERM: stop cleanly (servers closed, data removed); a second one exits at once.
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`\nmetaq scenario: ${sig}; stopping the run cleanly (send it again to exit at once)\n`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const result = await runScenario({
      scenario: s,
      injectDrop: a['inject-drop'],
      injectDoubleIssue: a['inject-double-issue'],
      dataRoot: a['data-dir'] ?? defaultDataRoot(),
      keepData: a['keep-data'],
      ...(a.broker !== undefined && a.namesrv !== undefined ? { remote: { namesrv: a.namesrv, brokers: a.broker, credential: credentialFrom(a, process.env, process.cwd()) } } : {}),
      signal: abort.signal,
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await writeRunReport(out, result);
    const m = result.summary.messages;
    process.stdout.write(`report: ${out}\n`);
    process.stdout.write(`acked ${m.acked}, consumed ${m.consumed}, lost ${m.lost}, duplicates ${m.duplicates}, failed ${m.failed}\n`);
    for (const w of result.summary.warnings) process.stdout.write(`warning: ${w}\n`);
    process.stdout.write(`${verdictLine(result.summary)}\n`);
    process.exitCode = result.summary.passed ? 0 : 1;
  },
};
