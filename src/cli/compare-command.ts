// `metaq compare [scenario]`: runs a scenario once per flush x replication
// mode, one after another (each in a fresh `metaq scenario` process, so one
// run's heap and threads cannot colour the next), then writes compare.md and
// compare.html side by side. Faults (--fault, repeatable) and --broker-groups
// go to every mode's run alike, so that the table shows what each mode costs
// and what it buys under the same failures. With --baseline DIR it also
// checks every mode against the published baseline and flags regressions
// beyond the tolerance.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import { InvalidConfigError } from '../common/index.js';
import {
  compareToBaseline,
  DEFAULT_BASELINE_TOLERANCE,
  describeTolerance,
  loadScenario,
  readRunSummary,
  writeCompareReport,
  type BaselineTolerance,
  type RunSummary,
} from '../harness/index.js';
import { overridesFromArgs, scenarioOptions, stamp } from './scenario-command.js';

interface CompareArgs {
  scenario: string;
  /** Accepted by the shared options, refused here (--modes says which). */
  flush?: string;
  replication?: string;
  modes: string;
  out?: string;
  baseline?: string;
  'throughput-drop': number;
  'latency-rise': number;
  duration?: number;
  rate?: number;
  queues?: number;
  consumers?: number;
  producers?: number;
  isolation?: string;
  'data-dir'?: string;
  'keep-data': boolean;
  /** `<kind>@<second>[:<arg>]`, repeatable (README "Faults"); the same faults in every mode. */
  fault?: string[];
  'broker-groups'?: number;
  /** Who plays the users (producers or http), and the HTTP front's connections: the same in every mode. */
  front?: string;
  connections?: number;
}

/** The options every mode's `metaq scenario` run gets from the compare's own. */
export type PassedArgs = Pick<
  CompareArgs,
  'duration' | 'rate' | 'queues' | 'consumers' | 'producers' | 'isolation' | 'data-dir' | 'keep-data' | 'fault' | 'broker-groups' | 'front' | 'connections'
>;

/** The arguments of one mode's child run: the scenario, the mode, its directory, then what the compare passes on to every mode. */
export function childScenarioArgs(scenario: string, m: Mode, dir: string, a: PassedArgs): string[] {
  const args = ['scenario', scenario, '--flush', m.flush, '--replication', m.replication, '--out', dir];
  for (const [flag, value] of [
    ['--duration', a.duration],
    ['--rate', a.rate],
    ['--queues', a.queues],
    ['--consumers', a.consumers],
    ['--producers', a.producers],
    ['--isolation', a.isolation],
    ['--data-dir', a['data-dir']],
    ['--broker-groups', a['broker-groups']],
    ['--front', a.front],
    ['--connections', a.connections],
  ] as const) {
    if (value !== undefined) args.push(flag, String(value));
  }
  // yargs hands one --fault as a string, several as an array.
  const faults: readonly unknown[] = a.fault === undefined ? [] : Array.isArray(a.fault) ? a.fault : [a.fault];
  for (const f of faults) args.push('--fault', String(f));
  if (a['keep-data']) args.push('--keep-data');
  return args;
}

export interface Mode {
  flush: 'sync' | 'async';
  replication: 'sync' | 'async' | 'none';
}

export const ALL_MODES = 'sync/sync,sync/async,async/sync,async/async';

/** `flush/replication` pairs, comma separated. */
export function parseModes(text: string): Mode[] {
  const modes = text.split(',').map((m) => {
    const [flush, replication, extra] = m.trim().split('/');
    if ((flush !== 'sync' && flush !== 'async') || (replication !== 'sync' && replication !== 'async' && replication !== 'none') || extra !== undefined) {
      throw new InvalidConfigError(`--modes: ${JSON.stringify(m)} is not flush/replication (flush sync|async, replication sync|async|none), e.g. sync/sync`);
    }
    return { flush, replication } as Mode;
  });
  return modes;
}

/** The directory of one mode's run inside a compare (or baseline) directory. */
export function modeDir(root: string, m: Mode): string {
  return path.join(root, `${m.flush}-${m.replication}`);
}

/** Every run summary under a baseline directory (one sub-directory per mode). */
async function readBaseline(dir: string): Promise<RunSummary[]> {
  if (!fs.existsSync(dir)) throw new InvalidConfigError(`--baseline: ${dir} does not exist`);
  const subdirs = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'summary.json')))
    .map((d) => path.join(dir, d.name));
  if (subdirs.length === 0) throw new InvalidConfigError(`--baseline: no <mode>/summary.json under ${dir}`);
  return Promise.all(subdirs.map((d) => readRunSummary(d)));
}

function runOne(args: string[]): Promise<number> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare [scenario]',
  describe: 'Run a scenario in each flush x replication mode and write a side-by-side report (compare.md, compare.html)',
  builder: (y) =>
    scenarioOptions(
      y
        .positional('scenario', { type: 'string', default: 'double12', describe: 'Scenario to run' })
        .option('modes', { type: 'string', default: ALL_MODES, describe: 'flush/replication pairs to run, comma separated' })
        .option('out', { type: 'string', requiresArg: true, describe: 'Report directory; each mode\'s run goes to <out>/<flush>-<replication>/ (default results/<scenario>/compare-<timestamp>/)' })
        .option('baseline', { type: 'string', requiresArg: true, describe: 'Check each mode against the runs under this directory (e.g. results/baseline) and flag regressions' })
        .option('throughput-drop', { type: 'number', default: DEFAULT_BASELINE_TOLERANCE.throughputDrop, describe: 'Baseline check: a throughput lower by more than this fraction is a regression' })
        .option('latency-rise', { type: 'number', default: DEFAULT_BASELINE_TOLERANCE.latencyRise, describe: 'Baseline check: a p99 higher by more than this fraction (and 1 ms) is a regression' }),
    ) as unknown as Argv<CompareArgs>,
  handler: async (a) => {
    const scenario = await loadScenario(a.scenario);
    if (a.flush !== undefined || a.replication !== undefined) throw new InvalidConfigError('compare runs every mode of --modes: give flush/replication pairs there, not --flush or --replication');
    const modes = parseModes(a.modes);
    overridesFromArgs(a); // the same checks as `metaq scenario`, before the first run starts
    const out = path.resolve(a.out ?? path.join('results', scenario.name, `compare-${stamp(new Date())}`));
    const tolerance: BaselineTolerance = { ...DEFAULT_BASELINE_TOLERANCE, throughputDrop: a['throughput-drop'], latencyRise: a['latency-rise'] };
    const baseline = a.baseline === undefined ? undefined : await readBaseline(path.resolve(a.baseline));
    // A mode without a baseline run would pass the check silently: refuse before running anything.
    const missing = baseline === undefined ? [] : modes.filter((m) => !baseline.some((b) => b.scenario === scenario.name && b.flush === m.flush && b.replication === m.replication));
    if (missing.length > 0) {
      throw new InvalidConfigError(`--baseline ${a.baseline} has no run of ${scenario.name} in ${missing.map((m) => `${m.flush}/${m.replication}`).join(', ')}`);
    }
    const summaries: RunSummary[] = [];
    const problems: string[] = [];
    for (const m of modes) {
      const dir = modeDir(out, m);
      process.stderr.write(`\n== metaq compare: ${scenario.name}, flush ${m.flush}, replication ${m.replication} -> ${dir}\n`);
      const code = await runOne(childScenarioArgs(scenario.name, m, dir, a));
      try {
        summaries.push(await readRunSummary(dir));
      } catch {
        problems.push(`${m.flush}/${m.replication}: the run wrote no summary (exit ${code})`);
        continue;
      }
      if (code !== 0) problems.push(`${m.flush}/${m.replication} failed: ${summaries.at(-1)!.failures.join('; ')}`);
    }
    const regressions = baseline === undefined ? undefined : compareToBaseline(summaries, baseline, tolerance, scenario.thresholds.ackedRatePhases);
    await writeCompareReport(out, summaries, regressions, tolerance);
    process.stdout.write(`compare report: ${path.join(out, 'compare.md')} and compare.html\n`);
    if (regressions !== undefined) {
      process.stdout.write(`baseline ${a.baseline}: ${describeTolerance(tolerance)}\n`);
      for (const r of regressions) process.stdout.write(`regression: ${r.mode} ${r.metric}: ${r.baseline} -> ${r.current} (${r.change})\n`);
      if (regressions.length > 0) problems.push(`${regressions.length} regression(s) against the baseline ${a.baseline}`);
    }
    process.stdout.write(problems.length === 0 ? `PASSED: every mode passed${regressions === undefined ? '' : ', no regression against the baseline'}\n` : `FAILED: ${problems.join('; ')}\n`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  },
};
