// Boots the system under test for a run and takes it down again: a name
// server, a master broker and (unless replication is 'none') its slave, each
// on its own fresh data directory, in worker threads of this process or as
// child processes of the `metaq` command (which can be SIGKILLed). Or, for
// runs across machines, the addresses of servers that already run.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BrokerConfig } from '../../broker/index.js';
import { InvalidConfigError } from '../../common/index.js';
import type { RoleJob, RoleReport } from './role-worker.js';
import type { BrokerFigures } from '../run-result.js';
import type { FlushMode, Isolation, ReplicationMode } from '../scenario/index.js';

export interface TopologyOptions {
  isolation: Isolation | 'remote';
  flush: FlushMode;
  replication: ReplicationMode;
  segmentSize: number;
  topic: string;
  queues: number;
  /** Where the brokers' data directories are made (a fresh one per run). */
  dataRoot: string;
  keepData: boolean;
  /** Remote: the name server and broker(s) that already run. */
  remote?: { namesrv: string; brokers: string[] };
}

export interface RunningTopology {
  namesrv: string;
  /** Master addresses (clients' send targets). */
  brokerAddrs: string[];
  /** Where the data lives (empty when remote). */
  dataDir: string | undefined;
  /** Busy time so far of each broker (event-loop active time of a thread, CPU time of a process), for shares over a window. */
  activity(): { role: string; activeMs: number }[];
  /** Stops every role started here and removes the data unless kept; figures of the brokers. */
  close(): Promise<BrokerFigures[]>;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** Registration is what makes the topic routable; a short interval shortens the start. */
const REGISTER_INTERVAL_MS = 1000;
/** A run's sends may queue behind sync flushes and replication for a while; SLAVE_TIMEOUT after this. */
const SLAVE_TIMEOUT_MS = 5000;
const CLK_TCK = 100;

interface Role {
  name: 'namesrv' | 'master' | 'slave';
  addr: string;
  haAddr: string | undefined;
  /** Busy milliseconds so far (event-loop active time of a thread, CPU time of a process). */
  activeMs(): number;
  stop(): Promise<{ writtenOffset: number | null; flushCycles: number | null }>;
}

export async function startTopology(o: TopologyOptions): Promise<RunningTopology> {
  if (o.isolation === 'remote') {
    if (o.remote === undefined) throw new InvalidConfigError('a remote run needs --namesrv and --broker');
    return { namesrv: o.remote.namesrv, brokerAddrs: o.remote.brokers, dataDir: undefined, activity: () => [], close: async () => [] };
  }
  fs.mkdirSync(o.dataRoot, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(o.dataRoot, 'metaq-run-'));
  const started: Role[] = [];
  // Each role's busy time and clock at its start: its share of a core over the run, at close.
  const startActive = new Map<Role, number>();
  const startAt = new Map<Role, number>();
  const keep = (r: Role): Role => {
    startActive.set(r, r.activeMs());
    startAt.set(r, performance.now());
    started.push(r);
    return r;
  };
  const start = o.isolation === 'thread' ? startThreadRole : startProcessRole;
  const close = async (): Promise<BrokerFigures[]> => {
    const figures: BrokerFigures[] = [];
    // Slave first (it would only reconnect), then the master, then the name server.
    for (const r of [...started].reverse()) {
      const busy = (r.activeMs() - startActive.get(r)!) / Math.max(1, performance.now() - startAt.get(r)!);
      const s = await r.stop();
      if (r.name !== 'namesrv') figures.unshift({ role: r.name, brokerName: 'broker-a', addr: r.addr, cpuShare: busy, writtenOffset: s.writtenOffset, flushCycles: s.flushCycles });
    }
    started.length = 0;
    if (!o.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    return figures;
  };
  try {
    const ns = keep(await start('namesrv', { role: 'namesrv' }));
    const base = (dir: string): BrokerConfig => ({
      brokerName: 'broker-a',
      host: '127.0.0.1',
      port: 0,
      haPort: 0,
      namesrvAddrs: [ns.addr],
      registerIntervalMs: REGISTER_INTERVAL_MS,
      topics: { [o.topic]: o.queues },
      store: { dir: path.join(dataDir, dir), flushMode: o.flush, segmentSize: o.segmentSize },
    });
    const master = await start('master', {
      role: 'broker',
      config: { ...base('master'), role: 'master', replicationMode: o.replication === 'sync' ? 'sync' : 'async', slaveTimeoutMs: SLAVE_TIMEOUT_MS },
    });
    keep(master);
    if (o.replication !== 'none') {
      keep(await start('slave', { role: 'broker', config: { ...base('slave'), role: 'slave', masterHaAddr: master.haAddr } }));
    }
    const activity = (): { role: string; activeMs: number }[] => started.filter((r) => r.name !== 'namesrv').map((r) => ({ role: r.name, activeMs: r.activeMs() }));
    return { namesrv: ns.addr, brokerAddrs: [master.addr], dataDir, activity, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

async function startThreadRole(name: Role['name'], job: RoleJob): Promise<Role> {
  const worker = new Worker(new URL('./role-worker.js', import.meta.url), { workerData: job });
  const reports: RoleReport[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (r: RoleReport) => (reports.push(r), wake?.()));
  worker.on('error', (err) => ((failure = err), wake?.()));
  worker.on('exit', (code) => ((failure ??= new Error(`${name} thread exited (${code})`)), wake?.()));
  const next = (): Promise<RoleReport> =>
    withTimeout(
      (async () => {
        for (;;) {
          const r = reports.shift();
          if (r !== undefined) return r;
          if (failure !== undefined) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
      name === 'namesrv' ? START_TIMEOUT_MS : STOP_TIMEOUT_MS + START_TIMEOUT_MS,
      `the ${name} thread`,
    );
  const first = await next();
  if (first.type !== 'listening') {
    await worker.terminate();
    throw new Error(`the ${name} did not start: ${first.type === 'failed' ? first.message : first.type}`);
  }
  return {
    name,
    addr: first.addr,
    haAddr: first.haAddr,
    activeMs: () => worker.performance.eventLoopUtilization().active,
    stop: async () => {
      worker.postMessage('stop');
      const r = await next().catch((err: unknown) => ({ type: 'failed', message: String(err) }) as RoleReport);
      await worker.terminate();
      if (r.type !== 'stopped') throw new Error(`the ${name} did not stop cleanly: ${r.type === 'failed' ? r.message : r.type}`);
      return r;
    },
  };
}

/** Arguments of `metaq namesrv` / `metaq broker` for a job. */
function cliArgs(job: RoleJob): string[] {
  if (job.role === 'namesrv') return ['namesrv', '--host', '127.0.0.1', '--port', '0'];
  const c = job.config;
  const args = ['broker', '--host', '127.0.0.1', '--port', '0', '--namesrv', ...(c.namesrvAddrs ?? []), '--dir', c.store.dir];
  args.push('--flush', c.store.flushMode ?? 'async', '--segment-size', String(c.store.segmentSize), '--register-interval-ms', String(c.registerIntervalMs));
  for (const [t, q] of Object.entries(c.topics ?? {})) args.push('--topic', `${t}:${q}`);
  if (c.role === 'slave') args.push('--role', 'slave', '--master', c.masterHaAddr!);
  else args.push('--role', 'master', '--ha-port', '0', '--replication', c.replicationMode ?? 'async', '--slave-timeout-ms', String(c.slaveTimeoutMs));
  return args;
}

const STOP_NOTICE = /: SIGTERM received, stopping/;
const LISTENING = /listening on (\S+?)(?:,| |$)/;
const REPLICATION_ON = /replication on (\S+?)(?:\)| |$)/;

async function startProcessRole(name: Role['name'], job: RoleJob): Promise<Role> {
  const main = new URL('../../cli/main.js', import.meta.url);
  const child: ChildProcess = spawn(process.execPath, [main.pathname, ...cliArgs(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    // The stop notice is the harness's own doing; anything else the role says is worth seeing.
    for (const line of d.split('\n')) if (line !== '' && !STOP_NOTICE.test(line)) process.stderr.write(`[${name}] ${line}\n`);
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const line = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl));
      });
      void exited.then((code) => reject(new Error(`the ${name} process exited (${code}) before listening: ${stderr.trim()}`)));
    }),
    START_TIMEOUT_MS,
    `the ${name} process start`,
  );
  const addr = LISTENING.exec(line)?.[1];
  if (addr === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the ${name} process printed an unexpected start line: ${line}`);
  }
  return {
    name,
    addr,
    haAddr: REPLICATION_ON.exec(line)?.[1],
    activeMs: () => processCpuSeconds(child.pid!) * 1000,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await withTimeout(exited, STOP_TIMEOUT_MS, `the ${name} process stop`).catch(() => {
        child.kill('SIGKILL');
        return null;
      });
      if (code !== 0) throw new Error(`the ${name} process did not stop cleanly (exit ${code}): ${stderr.trim()}`);
      // A process reports nothing back.
      return { writtenOffset: null, flushCycles: null };
    },
  };
}

/** utime + stime of a process, in seconds (Linux /proc). */
function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is index 0, utime index 11, stime index 12.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function defaultDataRoot(): string {
  return os.tmpdir();
}
