// Faults a run injects, as a scenario lists them and as `--fault` writes
// them: `<kind>@<second>[:<arg>]`, e.g. `power-loss-master@60`,
// `pause-slave@30:5` (paused for 5 s), `kill-master@50:b` (the master of
// broker group b). Parsing and checking only; the run carries them out
// (run/fault-scheduler.ts) and measure/ says what each cost.
import { InvalidConfigError } from '../../common/index.js';
import type { FaultKind } from '../run-result.js';

export type { FaultKind };

export interface FaultSpec {
  kind: FaultKind;
  /** Seconds from the run's start (t = 0 of the sale). */
  atSec: number;
  /** Broker faults: the group (0 = broker-a). kill-consumer: the consumer worker. */
  target: number;
  /** pause-slave: seconds paused. */
  pauseSec?: number;
  /** As written: what the report calls it. */
  text: string;
}

/** What each kind does, for --help and the errors. */
export const FAULT_KINDS: Readonly<Record<FaultKind, string>> = {
  'kill-master': 'SIGKILL of the master broker process',
  'kill-slave': 'SIGKILL of the slave broker process',
  'power-loss-master': 'SIGKILL, then its store cut to its last fdatasync',
  'power-loss-slave': 'SIGKILL, then its store cut to its last fdatasync',
  'restart-master': 'start it again on its data directory and ports',
  'restart-slave': 'start it again on its data directory and ports',
  'pause-slave': 'SIGSTOP, SIGCONT after :<seconds> (default 5)',
  'kill-consumer': 'consumer :<worker> (default 0) dies; the group rebalances',
  'disk-loss-master': 'SIGKILL, then it starts on an empty data directory',
};

/** Kinds that act on a broker process (they need process isolation). */
export function isBrokerFault(kind: FaultKind): boolean {
  return kind !== 'kill-consumer';
}

/** Kinds that act on a slave (they need replication). */
export function isSlaveFault(kind: FaultKind): boolean {
  return kind.endsWith('-slave');
}

export const DEFAULT_PAUSE_SEC = 5;
/** Broker groups are named broker-a, broker-b, ...: at most this many. */
export const MAX_BROKER_GROUPS = 26;

const SPEC = /^([a-z-]+)@(\d+(?:\.\d+)?)(?::([A-Za-z0-9.-]+))?$/;

export function brokerGroupName(group: number): string {
  return `broker-${String.fromCharCode('a'.charCodeAt(0) + group)}`;
}

/** `b` or `broker-b` -> 1. */
function parseGroup(text: string, spec: string): number {
  const letter = text.startsWith('broker-') ? text.slice('broker-'.length) : text;
  if (!/^[a-z]$/.test(letter)) throw new InvalidConfigError(`--fault ${spec}: the broker group is a letter (a, b, ...) or broker-<letter>, got ${JSON.stringify(text)}`);
  return letter.charCodeAt(0) - 'a'.charCodeAt(0);
}

export function parseFault(text: string): FaultSpec {
  const m = SPEC.exec(text.trim());
  const kinds = Object.keys(FAULT_KINDS).join(', ');
  if (m === null) throw new InvalidConfigError(`--fault ${JSON.stringify(text)}: expected <kind>@<second>[:<arg>], e.g. kill-master@50 or pause-slave@30:5 (kinds: ${kinds})`);
  const [, kindText, atText, arg] = m;
  if (!(kindText! in FAULT_KINDS)) throw new InvalidConfigError(`--fault ${text}: unknown kind ${JSON.stringify(kindText)}; known: ${kinds}`);
  const kind = kindText as FaultKind;
  const spec: FaultSpec = { kind, atSec: Number(atText), target: 0, text: text.trim() };
  if (kind === 'pause-slave') {
    const sec = arg === undefined ? DEFAULT_PAUSE_SEC : Number(arg);
    if (!Number.isFinite(sec) || sec <= 0) throw new InvalidConfigError(`--fault ${text}: pause-slave takes the seconds to pause, e.g. pause-slave@30:5`);
    spec.pauseSec = sec;
  } else if (kind === 'kill-consumer') {
    const worker = arg === undefined ? 0 : Number(arg);
    if (!Number.isInteger(worker) || worker < 0) throw new InvalidConfigError(`--fault ${text}: kill-consumer takes a consumer worker index, e.g. kill-consumer@40:1`);
    spec.target = worker;
  } else if (arg !== undefined) {
    spec.target = parseGroup(arg, text);
  }
  return spec;
}

/** What a fault needs of the topology, checked before anything starts. */
export function checkFaults(
  faults: readonly FaultSpec[],
  t: { replication: 'sync' | 'async' | 'none'; brokerGroups: number; consumers: number; remote: boolean },
): void {
  for (const f of faults) {
    if (isBrokerFault(f.kind)) {
      if (t.remote) throw new InvalidConfigError(`--fault ${f.text}: faults on brokers need brokers the harness started (not --broker/--namesrv)`);
      if (f.target >= t.brokerGroups) throw new InvalidConfigError(`--fault ${f.text}: there is no ${brokerGroupName(f.target)} (the run has ${t.brokerGroups} broker group(s); --broker-groups)`);
      if (isSlaveFault(f.kind) && t.replication === 'none') throw new InvalidConfigError(`--fault ${f.text}: there is no slave with --replication none`);
    } else if (f.target >= t.consumers) {
      throw new InvalidConfigError(`--fault ${f.text}: there is no consumer worker ${f.target} (the run has ${t.consumers})`);
    }
  }
}

/** Faults in the order they happen (stable for equal times: as listed). */
export function sortFaults(faults: readonly FaultSpec[]): FaultSpec[] {
  return faults.map((f, i) => ({ f, i })).sort((a, b) => a.f.atSec - b.f.atSec || a.i - b.i).map((x) => x.f);
}
