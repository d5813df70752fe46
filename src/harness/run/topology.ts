// Boots the system under test for a run and takes it down again: a name
// server and one or more broker groups (broker-a, broker-b, ...), each a
// master and (unless replication is 'none') its slave, on fresh data
// directories, in worker threads of this process or as child processes of
// the `metaq` command (which faults can SIGKILL, pause, cut and restart).
// Or, for runs across machines, the addresses of servers that already run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrokerConfig } from '../../broker/index.js';
import { InvalidConfigError } from '../../common/index.js';
import { writeRunCredentials, type Credential } from '../../security/index.js';
import type { RoleJob } from './role-worker.js';
import type { BrokerFigures } from '../run-result.js';
import { brokerGroupName, type FlushMode, type Isolation, type ReplicationMode } from '../scenario/index.js';
import { ProcessRole } from './process-role.js';
import { startThreadRole, type BrokerRole } from './thread-role.js';
import type { RoleActivity } from './run-context.js';

export interface TopologyOptions {
  isolation: Isolation | 'remote';
  flush: FlushMode;
  replication: ReplicationMode;
  segmentSize: number;
  brokerGroups: number;
  topic: string;
  queues: number;
  /** Where the brokers' data directories are made (a fresh one per run). */
  dataRoot: string;
  keepData: boolean;
  /** Remote: the name server and broker(s) that already run, and the credential to present to them. */
  remote?: { namesrv: string; brokers: string[]; credential?: Credential };
}

/** One master/slave pair; with process isolation its roles can be faulted. */
export interface BrokerGroup {
  name: string;
  master: BrokerRole;
  slave: BrokerRole | undefined;
}

export interface RunningTopology {
  namesrv: string;
  /** Master addresses at the start (clients' send targets). */
  brokerAddrs: string[];
  groups: BrokerGroup[];
  /**
   * What the harness's own clients present: each role's credential of the
   * run's accounts (fresh per run); a remote run's one credential for all
   * (from --credential-file or the environment); undefined: open servers.
   */
  credentials: { admin: Credential; producer: Credential; consumer: Credential } | undefined;
  /** Where the data lives (empty when remote). */
  dataDir: string | undefined;
  /** Busy time so far of each broker (event-loop active time of a thread, CPU time of a process), for shares over a window. */
  activity(): RoleActivity[];
  /** Stops every role started here and removes the data unless kept; figures of the brokers. */
  close(): Promise<BrokerFigures[]>;
}

/** Registration is what makes the topic routable; a short interval shortens the start. */
const REGISTER_INTERVAL_MS = 1000;
/**
 * A broker silent this long leaves the route: a killed master stops drawing
 * sends after it (the producers also steer away on their own failures).
 */
const BROKER_EXPIRY_MS = 5000;
/** A run's sends may queue behind sync flushes and replication for a while; SLAVE_TIMEOUT after this. */
const SLAVE_TIMEOUT_MS = 5000;

export async function startTopology(o: TopologyOptions): Promise<RunningTopology> {
  if (o.isolation === 'remote') {
    if (o.remote === undefined) throw new InvalidConfigError('a remote run needs --namesrv and --broker');
    const c = o.remote.credential;
    const credentials = c === undefined ? undefined : { admin: c, producer: c, consumer: c };
    return { namesrv: o.remote.namesrv, brokerAddrs: o.remote.brokers, credentials, groups: [], dataDir: undefined, activity: () => [], close: async () => [] };
  }
  fs.mkdirSync(o.dataRoot, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(o.dataRoot, 'metaq-run-'));
  // Every measured run authenticates: fresh secrets per run, in the run's directory (0600), one account per role.
  const creds = writeRunCredentials(dataDir, Array.from({ length: o.brokerGroups }, (_, g) => brokerGroupName(g)));
  const security = { credentialsFile: creds.credentialsFile, credentialFile: creds.fileByRole.broker };
  const started: BrokerRole[] = [];
  // Each role's busy time and clock at its start: its share of a core over the run, at close.
  const startActive = new Map<BrokerRole, number>();
  const startAt = new Map<BrokerRole, number>();
  const keep = <R extends BrokerRole>(r: R): R => {
    startActive.set(r, r.activeMs());
    startAt.set(r, performance.now());
    started.push(r);
    return r;
  };
  const close = async (): Promise<BrokerFigures[]> => {
    const figures: BrokerFigures[] = [];
    let firstError: unknown;
    // Slaves first (they would only reconnect), then the masters, then the name server; every one, even if one fails.
    for (const r of [...started].reverse()) {
      const busy = (r.activeMs() - startActive.get(r)!) / Math.max(1, performance.now() - startAt.get(r)!);
      try {
        const s = await r.stop();
        if (r.name !== 'namesrv') figures.unshift({ role: r.name, brokerName: r.brokerName ?? '', addr: r.addr, cpuShare: busy, writtenOffset: s.writtenOffset, flushCycles: s.flushCycles });
      } catch (err) {
        firstError ??= err;
      }
    }
    started.length = 0;
    if (!o.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
    if (firstError !== undefined) throw firstError;
    return figures;
  };
  try {
    const ns = keep(await startRole(o, 'namesrv', undefined, { role: 'namesrv', brokerExpiryMs: BROKER_EXPIRY_MS, credentialsFile: creds.credentialsFile }, dataDir));
    const groups: BrokerGroup[] = [];
    for (let g = 0; g < o.brokerGroups; g++) {
      const name = brokerGroupName(g);
      const base = (role: 'master' | 'slave'): BrokerConfig => ({
        brokerName: name,
        host: '127.0.0.1',
        port: 0,
        haPort: 0,
        namesrvAddrs: [ns.addr],
        registerIntervalMs: REGISTER_INTERVAL_MS,
        topics: { [o.topic]: o.queues },
        credentialsFile: security.credentialsFile,
        store: { dir: path.join(dataDir, `${name}-${role}`), flushMode: o.flush, segmentSize: o.segmentSize },
      });
      const masterJob: RoleJob = {
        role: 'broker',
        credentialFile: security.credentialFile,
        config: { ...base('master'), role: 'master', replicationMode: o.replication === 'sync' ? 'sync' : 'async', slaveTimeoutMs: SLAVE_TIMEOUT_MS },
      };
      const master = keep(await startRole(o, 'master', name, masterJob, dataDir));
      let slave: BrokerRole | undefined;
      if (o.replication !== 'none') {
        slave = keep(await startRole(o, 'slave', name, { role: 'broker', credentialFile: security.credentialFile, replicaCredentialFile: creds.fileByRole.replica, config: { ...base('slave'), role: 'slave', masterHaAddr: master.haAddr } }, dataDir));
      }
      groups.push({ name, master, slave });
    }
    const activity = (): RoleActivity[] =>
      started.filter((r) => r.name !== 'namesrv').map((r) => ({ role: brokerRoleName(r, o.brokerGroups), activeMs: r.activeMs(), cpuUs: r.cpuUs() }));
    const credentials = { admin: creds.byRole.admin, producer: creds.byRole.producer, consumer: creds.byRole.consumer };
    return { namesrv: ns.addr, brokerAddrs: groups.map((g) => g.master.addr), credentials, groups, dataDir, activity, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** A broker's name in the busy and CPU figures: 'master', or 'master broker-b' with several groups. */
export function brokerRoleName(r: Pick<BrokerRole, 'name' | 'brokerName'>, groups: number): string {
  return groups > 1 ? `${r.name} ${r.brokerName}` : r.name;
}

function startRole(o: TopologyOptions, name: BrokerRole['name'], brokerName: string | undefined, job: RoleJob, dataDir: string): Promise<BrokerRole> {
  if (o.isolation === 'thread') return startThreadRole(name, brokerName, job);
  const storeDir = job.role === 'broker' ? job.config.store.dir : undefined;
  const syncRecord = storeDir !== undefined ? path.join(dataDir, `${path.basename(storeDir)}.sync-record`) : undefined;
  return ProcessRole.start({ name, ...(brokerName !== undefined ? { brokerName } : {}), args: cliArgs(job, syncRecord), ...(storeDir !== undefined ? { storeDir } : {}), ...(syncRecord !== undefined ? { syncRecord } : {}) });
}

/** Arguments of `metaq namesrv` / `metaq broker` for a job. */
function cliArgs(job: RoleJob, syncRecord: string | undefined): string[] {
  // Paths only: no secret on a command line (visible in ps).
  const accounts = (file: string | undefined): string[] => (file === undefined ? [] : ['--credentials-file', file]);
  if (job.role === 'namesrv') return ['namesrv', '--host', '127.0.0.1', '--port', '0', '--broker-expiry-ms', String(job.brokerExpiryMs), ...accounts(job.credentialsFile)];
  const c = job.config;
  const args = ['broker', '--name', c.brokerName!, '--host', '127.0.0.1', '--port', '0', '--namesrv', ...(c.namesrvAddrs ?? []), '--dir', c.store.dir, ...accounts(c.credentialsFile)];
  if (job.credentialFile !== undefined) args.push('--credential-file', job.credentialFile);
  if (job.replicaCredentialFile !== undefined) args.push('--replica-credential-file', job.replicaCredentialFile);
  args.push('--flush', c.store.flushMode ?? 'async', '--segment-size', String(c.store.segmentSize), '--register-interval-ms', String(c.registerIntervalMs));
  // What its fdatasyncs covered, so that a power cut can be played honestly.
  if (syncRecord !== undefined) args.push('--sync-record', syncRecord);
  for (const [t, q] of Object.entries(c.topics ?? {})) args.push('--topic', `${t}:${q}`);
  if (c.role === 'slave') args.push('--role', 'slave', '--master', c.masterHaAddr!);
  else args.push('--role', 'master', '--ha-port', '0', '--replication', c.replicationMode ?? 'async', '--slave-timeout-ms', String(c.slaveTimeoutMs));
  return args;
}

export function defaultDataRoot(): string {
  return os.tmpdir();
}
