// What one scenario run produced, as the coordinator hands it to the report
// writers. `RunSummary` is summary.json (the documented contract, README "Reading the report", plus extra
// fields); `TimelineRow` is one second of timeline.csv. Raw histograms travel
// as HdrHistogram compressed base64 strings (microseconds) so that runs can be
// re-analysed and merged later.

export interface LatencySummaryMs {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Values recorded (messages). */
  count: number;
}

export interface PhaseSummary {
  name: string;
  /** Seconds from the start of the run. */
  startSec: number;
  durationSec: number;
  /** Mean offered rate over the phase (msg/s); for the drain, 0. */
  offeredRate: number;
  /** Acknowledgements (SEND_OK) that arrived within the phase, per second. */
  ackedRate: number;
  /** Messages the consumers received within the phase, per second. */
  consumedRate: number;
  sendP99Ms: number;
  e2eP99Ms: number;
  /** Backlog (acked minus consumed) at the phase's end. */
  backlogAtEnd: number;
}

export interface RunSummary {
  scenario: string;
  flush: 'sync' | 'async';
  replication: 'sync' | 'async' | 'none';
  isolation: 'thread' | 'process' | 'remote';
  /** Length of the producing phases (s), without the drain. */
  durationSec: number;
  /** The highest offered rate of the curve (msg/s). */
  targetRate: number;
  startedAt: string;
  /** Wall time of the whole run, drain included (s). */
  elapsedSec: number;
  messages: {
    /** Messages the generator handed to a send. */
    attempted: number;
    /** SEND_OK. */
    acked: number;
    /** Any other outcome: a transport error, a timeout, SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE. */
    failed: number;
    /** Distinct messages the consumers received. */
    consumed: number;
    /** Receptions of a message already received. */
    duplicates: number;
    /** Acknowledged and never received. */
    lost: number;
    /** Received but never acknowledged (allowed: the acknowledgement was lost in flight, or a SLAVE_* status). */
    unackedReceived: number;
    /** Messages re-sent after a failed or timed-out attempt (a message re-sent twice counts twice). */
    retried: number;
    /** Every send attempt's outcome, in messages: a message acknowledged at its third attempt counts 2 failed + 1 ok. */
    attempts: { ok: number; slaveTimeout: number; slaveNotAvailable: number; otherStatus: number; error: number };
    /** Messages the consumers received from a slave (its master was down or failed a read). */
    fromSlave: number;
  };
  tickets: {
    /** Claims the activity system allocated a ticket for (= acknowledged messages). */
    allocated: number;
    /** Tickets the lottery system issued. */
    issued: number;
    issuedTwice: number;
    /** Allocated and never issued. */
    neverIssued: number;
  };
  throughput: {
    /** Acknowledged msg/s over the producing phases. */
    produceMean: number;
    /** The best one-second window of acknowledgements. */
    producePeak: number;
    /** Received msg/s from the first reception to the last. */
    consumeMean: number;
  };
  latencyMs: {
    send: LatencySummaryMs;
    e2e: LatencySummaryMs;
    /** How late the generator's ticks were against the schedule (a slow load generator shows here). */
    generatorLag: LatencySummaryMs;
  };
  backlog: { peak: number; peakAtSec: number };
  phases: PhaseSummary[];
  /** Figures from the brokers (CPU, store, replication), when the harness started them. */
  brokers: BrokerFigures[];
  /**
   * Where the time went, per role (each broker, each producer worker, each
   * consumer worker): how busy it was during the sale, and its CPU time per
   * message (README "Reading the report").
   */
  cpu: CpuFigure[];
  /** CPU time per acknowledged message of every role together and by kind (absent in runs before it was measured). */
  cpuPerMessage?: CpuPerMessage;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  config: {
    queues: number;
    bodySize: number;
    producers: number;
    consumers: number;
    consumerCapacityPerSec: number;
    segmentSize: number;
    injectDrop: number;
    injectDoubleIssue: number;
    /** Master/slave pairs behind the name server. */
    brokerGroups: number;
    brokerAddrs: string[];
  };
  /** The faults injected during the run, in time order (empty when none), with what each cost. */
  faults: FaultFigures[];
  /** The loss this run was allowed in its flush/replication mode (the scenario's limit; 0 unless it states more). */
  lossLimit: number;
  /** HdrHistogram compressed base64, microseconds: the whole run's distributions. */
  histograms: { send: string; e2e: string; generatorLag: string };
  /** The HTTP front's side of the run (absent when producers played the users). */
  http?: HttpSummary;
  passed: boolean;
  /** Why the run failed, one line each; empty when it passed. */
  failures: string[];
  /** What a reader should know that does not fail the run (a late load generator, an injected fault). */
  warnings: string[];
}

/** One role's CPU: 'master', 'slave' ('master broker-b' with several groups), 'producer 0', 'consumer 1'. */
export interface CpuFigure {
  role: string;
  /**
   * How busy it was during the sale (the run's start to the producers' last
   * answer), as a share of one core: event-loop utilisation of a thread, CPU
   * time of a process.
   */
  busyShare: number;
  /**
   * CPU time (utime + stime, µs) from the sale's start to the drain's end: of
   * the whole process (process isolation), or of the role's own thread
   * (threads: its event loop, without the libuv pool and V8 helper threads it
   * shares with the harness). Null when it could not be read; absent in runs
   * before it was measured.
   */
  cpuUs?: number | null;
  /** The denominator: acknowledged messages (a broker: all of them; a producer: its own), or the messages a consumer received. */
  messages?: number;
  /** cpuUs / messages; null when either is missing or no message. */
  usPerMessage?: number | null;
}

/** CPU time (µs) per acknowledged message of the roles together, over the sale and the drain; null when a role's CPU could not be read. */
export interface CpuPerMessage {
  /** The window: the sale's start to the drain's end (s). */
  windowSec: number;
  /** Every broker, producer and consumer (not the harness's coordinator or name server). */
  all: number | null;
  brokers: number | null;
  producers: number | null;
  consumers: number | null;
}

/** The fault kinds the harness can inject (README "Faults"). */
export type FaultKind =
  | 'kill-master'
  | 'kill-slave'
  | 'power-loss-master'
  | 'power-loss-slave'
  | 'restart-master'
  | 'restart-slave'
  | 'pause-slave'
  | 'kill-consumer'
  | 'disk-loss-master';

/** One injected fault and what it cost (the window is from it to the next fault, or to the drain's end). */
export interface FaultFigures {
  kind: FaultKind;
  /** As written on the command line: `kill-master@50`, `pause-slave@30:5`. */
  spec: string;
  /** Seconds from the run's start it was due at. */
  atSec: number;
  /** When the harness carried it out (s from the start); null when the run ended before it was due. */
  doneAtSec: number | null;
  /** What it hit: `master broker-a (pid 1234)`, `consumer 1`. */
  target: string;
  /** Something the reader should know about it (a restart that did not come up). */
  note?: string;
  /** End of the window its figures cover (s from the start). */
  untilSec: number;
  /** Send attempts (messages) that failed within the window. */
  failedAttempts: number;
  /** Messages re-sent within the window. */
  retried: number;
  /** Seconds from the fault to the first SEND_OK of a send attempted after it was done; null when none came. */
  recoverySec: number | null;
  /** Seconds within the window in which less than half the offered rate was acknowledged. */
  unavailableSec: number;
  /** Messages the consumers received from a slave within the window. */
  fromSlave: number;
  /** Duplicate receptions within the window. */
  duplicates: number;
  /** Acknowledged and never consumed, among the messages due within the window (the first fault's reaching back to the start, the last one's to the end: every lost message counted once). */
  lost: number;
}

export interface BrokerFigures {
  role: 'master' | 'slave';
  /** The master/slave pair it belongs to (broker-a, broker-b, ...). */
  brokerName: string;
  addr: string;
  /** CPU time the broker's thread or process used over the run, as a share of one core. */
  cpuShare: number;
  /** CommitLog bytes written, and group commits (null when the broker ran as a process: it reports nothing back). */
  writtenOffset: number | null;
  flushCycles: number | null;
}

/** One second of the run. */
export interface TimelineRow {
  /** Seconds since the run started (the row covers [second, second + 1)). */
  second: number;
  phase: string;
  /** Messages the schedule offered in this second. */
  offered: number;
  /** SEND_OK acknowledgements received in this second. */
  produced: number;
  /** Send attempts (messages) that failed in this second (each may be re-sent). */
  failed: number;
  /** Messages re-sent in this second. */
  retried: number;
  /** Messages the consumers received in this second. */
  consumed: number;
  /** Duplicate receptions in this second. */
  duplicates: number;
  /** Messages received from a slave in this second. */
  fromSlave: number;
  /** Acknowledged minus consumed, at the end of the second. */
  backlog: number;
  sendP99Ms: number;
  e2eP99Ms: number;
  generatorLagP99Ms: number;
  /** Each role's CPU in this second, as a share of one core, by role name (null: not read); absent when the harness took no reading. */
  cpu?: Record<string, number | null>;
  /** Each broker's figures in this second, by role name ('master', 'slave broker-b'); null: it did not answer (down, paused). */
  brokers?: Record<string, BrokerSecond | null>;
  /** The HTTP front's figures in this second (HTTP runs only). */
  http?: HttpSecond;
}

/** One second of the HTTP front: claims answered by status, requests lost, autocannon's response p99. */
export interface HttpSecond {
  /** Claims answered 200. */
  ok: number;
  /** Claims answered 503. */
  unavailable: number;
  /** Claims answered with another status. */
  other: number;
  /** Requests abandoned after autocannon's timeout. */
  timeouts: number;
  /** Connection errors. */
  errors: number;
  /** p99 of autocannon's response times of the answers in this second (ms; 0 without answers). */
  responseP99Ms: number;
}

/**
 * summary.json's `http` block: the HTTP front's side of the run, beside the
 * broker's (README "The HTTP front"). autocannon is closed loop: `label`
 * says how many users, and its response times are what those users waited
 * for, not what an open-loop arrival would have.
 */
export interface HttpSummary {
  /** "closed loop, 64 concurrent users, 1 ms resolution". */
  label: string;
  connections: number;
  /** autocannon worker threads. */
  threads: number;
  /** Activity service worker processes. */
  serviceWorkers: number;
  url: string;
  /** Claims the curve offered; claims sent; claims answered (any status). */
  claims: { offered: number; sent: number; answered: number };
  /** Claims answered, by status. */
  status: { ok: number; unavailable: number; other: number };
  /** Requests abandoned after the timeout, and connection errors. */
  timeouts: number;
  errors: number;
  /** GET /healthz requests sent instead of a claim (past the last claim: the quotas' rounding). */
  nonClaimRequests: number;
  /** Per second over the producing phases: offered, achieved (answered), by status. */
  ratePerSec: { offered: number; achieved: number; ok: number; unavailable: number; other: number };
  /** How far the achieved rate fell below the offered one: 1 - achieved / offered (0 when it kept up). */
  shortfall: number;
  /** Claims answered 503 over claims answered. */
  unavailableShare: number;
  /** autocannon's response times (its per-response timer, merged from its threads' histograms), ms. */
  responseMs: LatencySummaryMs;
  /** autocannon's own summary of the same (1 ms resolution, its threads' histograms merged by autocannon). */
  autocannonMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** HdrHistogram compressed base64, µs: the response times. */
  histogram: string;
}

/** One broker in one second (README "Reading the report"); null: not measurable in that second. */
export interface BrokerSecond {
  /** CommitLog fdatasync cycles completed. */
  fsyncs: number | null;
  /** Their p99 (ms): the upper bound of the latency bucket holding it (never less than the true value). */
  fsyncP99Ms: number | null;
  /** Mean bytes made durable per cycle: the group commit's size. */
  commitGroupBytes: number | null;
  /** A master: how far its slave is behind (bytes), at the second's end. */
  slaveLagBytes: number | null;
  /** GC pause in the broker's isolate (ms in the second). */
  gcMs: number | null;
  /** Resident set size of its process at the second's end (MB; a broker in a thread shares the harness's). */
  rssMb: number | null;
  /** The broker's own consumer lag at the second's end (BROKER_STATS monitor block): its worst client group's oldest unconsumed message age (s); absent from older runs. */
  lagSec?: number | null;
  /** ... and the messages past the committed offsets, summed over its client groups. */
  lagMessages?: number | null;
  /** The broker's own rates (monitor block): messages stored, and delivered to consumers, per second. */
  inPerSec?: number | null;
  outPerSec?: number | null;
}

export interface RunResult {
  summary: RunSummary;
  timeline: TimelineRow[];
}
