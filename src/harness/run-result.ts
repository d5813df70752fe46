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
   * Where the time went: how busy each thread was during the sale (from the
   * run's start to the producers' last answer), as a share of one core
   * (event-loop utilisation for threads, CPU time for processes).
   */
  cpu: { role: string; busyShare: number }[];
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  config: {
    queues: number;
    bodySize: number;
    producers: number;
    consumers: number;
    consumerCapacityPerSec: number;
    segmentSize: number;
    injectDrop: number;
    brokerAddrs: string[];
  };
  /** HdrHistogram compressed base64, microseconds: the whole run's distributions. */
  histograms: { send: string; e2e: string; generatorLag: string };
  passed: boolean;
  /** Why the run failed, one line each; empty when it passed. */
  failures: string[];
  /** What a reader should know that does not fail the run (a late load generator, an injected fault). */
  warnings: string[];
}

export interface BrokerFigures {
  role: 'master' | 'slave';
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
  failed: number;
  /** Messages the consumers received in this second. */
  consumed: number;
  /** Acknowledged minus consumed, at the end of the second. */
  backlog: number;
  sendP99Ms: number;
  e2eP99Ms: number;
  generatorLagP99Ms: number;
}

export interface RunResult {
  summary: RunSummary;
  timeline: TimelineRow[];
}
