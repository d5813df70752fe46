// What the steps of one run share: the plan fixed before it starts (message
// count, user permutation, shared arrays, worker counts, topic and group) and
// what the steps fill in as they go (the topology, the worker pools, the
// sale's clock, the workers' outcomes, the drain). Teardown and the summary
// read it whatever step the run got to.
import { randomInt } from 'node:crypto';
import os from 'node:os';
import type { Credential } from '../../security/index.js';
import type { Admin } from '../../client/index.js';
import { nowUs } from '../../load/index.js';
import { RunMetrics, type ActivitySnapshot } from '../measure/index.js';
import type { BrokerFigures, RunSummary } from '../run-result.js';
import { brokerGroups, checkFaults, frontOf, isBrokerFault, messagesDueAt, producingSeconds, sortFaults, type FaultSpec, type Front, type Scenario } from '../scenario/index.js';
import { activityServiceCpu, type HttpRun } from './http-front.js';
import type { FaultScheduler, FaultRecord } from './fault-scheduler.js';
import { createSharedRunState, userPermutation, type ConsumerOutcome, type ProducerOutcome, type SharedRunState } from '../workers/index.js';
import type { Progress } from './progress.js';
import type { RunningTopology } from './topology.js';
import type { WorkerPools } from './worker-pools.js';
import type { SystemPoller } from './system-poller.js';

export interface RunOptions {
  scenario: Scenario;
  /** Skip this many messages in the consumers (the deliberate fault that proves the verifier can fail). */
  injectDrop: number;
  /** Handle this many claims a second time past the lottery's idempotency check (the deliberate fault that proves "tickets issued twice" can fail). Default 0. */
  injectDoubleIssue?: number;
  /** Where each broker's fresh data directory is made. */
  dataRoot: string;
  keepData: boolean;
  /** Servers that already run, instead of booting them. */
  remote?: { namesrv: string; brokers: string[]; credential?: Credential };
  /** Aborts the run (SIGINT): the generators stop, the rest stops cleanly and the run fails. */
  signal?: AbortSignal;
  progress?: Progress;
}

export type { ActivitySnapshot, RoleActivity } from '../measure/index.js';

export interface RunContext {
  readonly options: RunOptions;
  /** The scenario as run: a remote run takes the running broker's flush and replication. */
  scenario: Scenario;
  readonly progress: Progress;
  readonly startedAt: Date;
  readonly totalMessages: number;
  readonly userMultiplier: number;
  readonly shared: SharedRunState;
  /** The shared control fields (abort, dropped, foreign). */
  readonly control: Int32Array;
  readonly nonce: number;
  readonly producers: number;
  readonly consumers: number;
  readonly isolation: RunSummary['isolation'];
  readonly topic: string;
  readonly group: string;
  readonly metrics: RunMetrics;
  /** The faults to inject, in time order. */
  readonly faults: readonly FaultSpec[];
  /** Who plays the users: the producer pool, or autocannon over HTTP (then `producers` is 1: the activity service, one producer to the lottery). */
  readonly front: Front;
  /** The HTTP front's parts, as its steps start them (HTTP runs only). */
  http?: HttpRun;

  // Filled in by the steps, in order; teardown and the summary take what is there.
  topology?: RunningTopology;
  admin?: Admin;
  pools?: WorkerPools;
  /** Shared-clock µs of the sale's t = 0. */
  runStartUs?: number;
  /** Refreshes the live view every second settled. */
  ticker?: NodeJS.Timeout;
  /** Reads every role's CPU and every broker's stats once a second, from the sale's start to the drain's end. */
  poller?: SystemPoller;
  saleStart?: ActivitySnapshot;
  saleEnd?: ActivitySnapshot;
  /** At the drain's end (every acknowledged message consumed, or the drain gave up): the end of the CPU-per-message window. */
  drainEnd?: ActivitySnapshot;
  producerOutcomes: ProducerOutcome[];
  consumerOutcomes: ConsumerOutcome[];
  drained: boolean;
  /** Carries out the faults from the sale's start to the teardown. */
  faultScheduler?: FaultScheduler;
  /** What each fault did (filled in at teardown). */
  faultRecords: FaultRecord[];
  /** Seconds from the sale's start to the drain's end (or to where the run stopped). */
  drainEndSec?: number;
  brokers: BrokerFigures[];
}

const GROUP = 'lottery';

export function producerWorkers(s: Scenario): number {
  return s.producer.workers > 0 ? s.producer.workers : Math.max(1, Math.floor(os.availableParallelism() / 2));
}

/** The plan of a run: everything fixed before it starts. */
export function planRun(o: RunOptions, progress: Progress): RunContext {
  let s = o.scenario;
  const faults = sortFaults(s.faults ?? []);
  checkFaults(faults, { replication: s.topology.replication, brokerGroups: brokerGroups(s), consumers: s.consumer.workers, remote: o.remote !== undefined });
  if (s.topology.isolation === 'thread' && faults.some((f) => isBrokerFault(f.kind))) {
    // A thread cannot be SIGKILLed, paused or power-cut on its own.
    progress.note('metaq scenario: faults on brokers need process isolation: running with --isolation process');
    s = { ...s, topology: { ...s.topology, isolation: 'process' } };
  }
  const totalMessages = messagesDueAt(s.phases, producingSeconds(s));
  const shared = createSharedRunState(totalMessages, o.injectDrop, o.injectDoubleIssue ?? 0);
  const nonce = randomInt(1, 0xffffffff);
  const front = frontOf(s);
  // On servers that already run, a topic and group of this run's own keep earlier runs' messages out.
  const own = (name: string): string => (o.remote !== undefined ? `${name}_${nonce.toString(36)}` : name);
  return {
    options: o,
    scenario: s,
    progress,
    startedAt: new Date(),
    totalMessages,
    userMultiplier: userPermutation(totalMessages).multiplier,
    shared,
    control: new Int32Array(shared.control),
    nonce,
    // The activity service writes every claim as producer 0, sequence = message index.
    producers: front === 'http' ? 1 : producerWorkers(s),
    consumers: s.consumer.workers,
    isolation: o.remote !== undefined ? 'remote' : s.topology.isolation,
    topic: own(s.topic),
    group: own(GROUP),
    metrics: new RunMetrics(s.phases, front === 'http'),
    faults,
    front,
    faultRecords: [],
    producerOutcomes: [],
    consumerOutcomes: [],
    drained: false,
    brokers: [],
  };
}

/** Seconds since the sale's t = 0 on the shared clock. */
export function elapsedSec(run: RunContext): number {
  return run.runStartUs === undefined ? 0 : (nowUs() - run.runStartUs) / 1e6;
}

/** Busy time of the brokers' and the pools' threads (and the activity service's processes in HTTP runs) now. */
export function activitySnapshot(run: RunContext): ActivitySnapshot {
  return { at: performance.now(), activity: [...(run.topology?.activity() ?? []), ...activityServiceCpu(run), ...(run.pools?.activity() ?? [])] };
}
