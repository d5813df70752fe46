// `metaq bench ha`: a master and its slave, each in its own worker thread
// (the name server in the coordinating thread), and a producer in a third,
// all over TCP on 127.0.0.1. For each mode (flush x replication, fresh
// stores each time) a closed-loop producer keeps `inFlight` batches
// outstanding; acknowledged throughput (SEND_OK only), send latencies and the
// slave lag (the master's stats, sampled every 100 ms) are measured. Then a
// fixed-rate phase on sync flush + sync replication: an open-loop producer
// offers `rate` msg/s and send latencies count from each message's intended
// send time. Each run also gives each role's CPU (its thread's utime + stime,
// read every `statsIntervalMs`) per acknowledged message over the window.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NameServer } from '../namesrv/index.js';
import { BROKER_DEFAULTS } from '../broker/index.js';
import { writeRunCredentials, type Credential } from '../security/index.js';
import { decodeHistogram, startBenchWorker, type BenchWorker } from './bench-worker.js';
import { nowUs, percentileMs, threadCpuUs } from '../load/index.js';
import type { HaReport, HaRole, HaSample } from './ha-worker.js';
import { makeSelfSignedCert, type SelfSignedCert } from './self-signed-cert.js';

export type HaBenchFlush = 'sync' | 'async';
export type HaBenchReplication = 'sync' | 'async';

export interface HaBenchMode {
  flush: HaBenchFlush;
  replication: HaBenchReplication;
}

export interface HaBenchOptions {
  /** Measured producing time of each run. */
  durationMs: number;
  /** Sent before `durationMs` and not measured, in both phases (JIT warm-up, connections, first flushes). */
  warmupMs: number;
  /** Offered rate of the fixed-rate phase (sync flush, sync replication). */
  rate: number;
  bodySize: number;
  queues: number;
  /** Messages per send (closed loop); the fixed-rate phase sends what is due each tick, up to this. */
  batchSize: number;
  /** Batches outstanding in the closed loop. */
  inFlight: number;
  /** Fixed-rate phase: the generator sends what is due every `tickMs` (a message waits up to a tick; that counts in its latency). */
  tickMs: number;
  /** CommitLog segment size of both brokers. */
  segmentSize: number;
  /** How often the master's replication stats are sampled. */
  statsIntervalMs: number;
  /** How long to wait for the slave to connect before a run. */
  slaveConnectTimeoutMs: number;
  modes: readonly HaBenchMode[];
  /** Which phases to run: 'max' (closed loop, every mode) and 'fixed' (sync/sync at `rate`). */
  phases: readonly ('max' | 'fixed')[];
  dir: string;
  /** Every link over TLS (client ports, replication, registration), with a self-signed certificate made per run (needs openssl). */
  tls: boolean;
}

export const HA_BENCH_MODES: readonly HaBenchMode[] = [
  { flush: 'sync', replication: 'sync' },
  { flush: 'sync', replication: 'async' },
  { flush: 'async', replication: 'sync' },
  { flush: 'async', replication: 'async' },
];

export const HA_BENCH_DEFAULTS: HaBenchOptions = {
  durationMs: 10_000,
  warmupMs: 2000,
  rate: 240_000,
  bodySize: 128,
  queues: 8,
  // 2048 messages in flight in batches of 512: on the 2-vCPU bench machine this gave the most
  // sync/sync throughput with p99 under 20 ms (larger batches cost less per message; more in
  // flight only adds latency once the master's event loop is saturated; fewer, e.g. 3 x 512,
  // gives a little less of both).
  batchSize: 512,
  inFlight: 4,
  tickMs: 1,
  segmentSize: 1 << 30,
  statsIntervalMs: 100,
  slaveConnectTimeoutMs: 30_000,
  modes: HA_BENCH_MODES,
  phases: ['max', 'fixed'],
  dir: os.tmpdir(),
  tls: false,
};

const TOPIC = 'bench_ha';
const US_PER_S = 1e6;

type RoleHandle = BenchWorker<HaReport>;

function startRole(job: HaRole, onSample?: (s: HaSample) => void): RoleHandle {
  return startBenchWorker<HaReport>(new URL('./ha-worker.js', import.meta.url), job, `ha ${job.role}`, (r) => {
    if (r.type !== 'ha-stats') return false;
    onSample?.(r.sample);
    return true;
  });
}

/** A master and its slave on fresh stores, the slave connected; stop() tears both down and removes the stores. */
async function startPair(
  o: HaBenchOptions,
  mode: HaBenchMode,
  samples: HaSample[],
): Promise<{ namesrv: string; tls: SelfSignedCert | undefined; producerCredential: Credential; tids: { master: number | undefined; slave: number | undefined }; stop(): Promise<{ masterFlushCycles: number; slaveFlushCycles: number }> }> {
  const dir = fs.mkdtempSync(path.join(o.dir, 'metaq-ha-'));
  const tls = o.tls ? makeSelfSignedCert(dir) : undefined;
  // Every link authenticates, as a secured deployment does: fresh secrets per run, in the run's own directory.
  const creds = writeRunCredentials(dir, [BROKER_DEFAULTS.brokerName]);
  const ns = await NameServer.start({ port: 0, tls, credentialsFile: creds.credentialsFile });
  const topics = { [TOPIC]: o.queues };
  const security = { credentialsFile: creds.credentialsFile, credential: creds.byRole.broker };
  const master = startRole(
    { role: 'master', dir: path.join(dir, 'master'), namesrv: ns.addr, topics, flush: mode.flush, replication: mode.replication, segmentSize: o.segmentSize, statsIntervalMs: o.statsIntervalMs, security, tls },
    (s) => samples.push(s),
  );
  const { haAddr, tid: masterTid } = await master.next('broker-ready');
  const slave = startRole({ role: 'slave', dir: path.join(dir, 'slave'), namesrv: ns.addr, topics, flush: mode.flush, masterHaAddr: haAddr!, segmentSize: o.segmentSize, security: { ...security, replicaCredential: creds.byRole.replica }, tls });
  const { tid: slaveTid } = await slave.next('broker-ready');
  const deadline = Date.now() + o.slaveConnectTimeoutMs;
  while (!samples.some((s) => s.ha.slaveConnected)) {
    if (Date.now() > deadline) throw new Error(`the slave did not connect to the master within ${o.slaveConnectTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, o.statsIntervalMs));
  }
  return {
    namesrv: ns.addr,
    tls,
    producerCredential: creds.byRole.producer,
    tids: { master: masterTid, slave: slaveTid },
    stop: async () => {
      slave.send('stop');
      const s = await slave.next('stopped');
      await slave.exited;
      master.send('stop');
      const m = await master.next('stopped');
      await master.exited;
      await ns.close();
      fs.rmSync(dir, { recursive: true, force: true });
      return { masterFlushCycles: m.flushCycles, slaveFlushCycles: s.flushCycles };
    },
  };
}

/** The bench's roles whose CPU it reports: the two brokers and the producer (the load generator). */
const CPU_ROLES = ['master', 'slave', 'loadGenerator'] as const;
type CpuRole = (typeof CPU_ROLES)[number];

/** Each role's thread CPU time (µs; undefined when it cannot be read) at one instant. */
interface CpuSample {
  atUs: number;
  cpuUs: Record<CpuRole, number | undefined>;
}

interface RunResult {
  produced: Extract<HaReport, { type: 'produced' }>;
  samples: HaSample[];
  /** The roles' CPU readings within the measured window. */
  cpu: CpuSample[];
  masterFlushCycles: number;
  slaveFlushCycles: number;
}

/** One producer run (closed loop when rate is 0) against a fresh master/slave pair. */
async function run(o: HaBenchOptions, mode: HaBenchMode, rate: number): Promise<RunResult> {
  const samples: HaSample[] = [];
  const pair = await startPair(o, mode, samples);
  let produced: RunResult['produced'] | undefined;
  let cycles: Awaited<ReturnType<typeof pair.stop>>;
  const cpu: CpuSample[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const producer = startRole({ role: 'producer', namesrv: pair.namesrv, tls: pair.tls, credential: pair.producerCredential, topic: TOPIC, bodySize: o.bodySize, batchSize: o.batchSize, rate, inFlight: o.inFlight, durationMs: o.durationMs, warmupMs: o.warmupMs, tickMs: o.tickMs });
    const { tid: producerTid } = await producer.next('ready');
    const tids: Record<CpuRole, number | undefined> = { master: pair.tids.master, slave: pair.tids.slave, loadGenerator: producerTid };
    const read = (tid: number | undefined): number | undefined => (tid === undefined ? undefined : threadCpuUs(tid));
    sampler = setInterval(() => cpu.push({ atUs: nowUs(), cpuUs: { master: read(tids.master), slave: read(tids.slave), loadGenerator: read(tids.loadGenerator) } }), o.statsIntervalMs);
    producer.send('go');
    produced = await producer.next('produced');
    clearInterval(sampler);
    await producer.exited;
  } finally {
    clearInterval(sampler);
    cycles = await pair.stop();
  }
  const p = produced;
  const within = <T extends { atUs: number }>(list: T[]): T[] => list.filter((s) => s.atUs >= p.fromUs && s.atUs <= p.toUs);
  return { produced: p, samples: within(samples), cpu: within(cpu), ...cycles };
}

/**
 * Each role's CPU over the window, from its first and last reading in it: as
 * a share of one core, and in µs per acknowledged message (the share times
 * the window over the messages acknowledged in it). Null when the readings
 * are missing (fewer than two, or a role's unreadable).
 */
export function roleCpu(cpu: readonly CpuSample[], acked: number, windowUs: number): Record<CpuRole, { share: number; usPerMessage: number } | null> {
  const first = cpu[0];
  const last = cpu[cpu.length - 1];
  const one = (role: CpuRole): { share: number; usPerMessage: number } | null => {
    const a = first?.cpuUs[role];
    const b = last?.cpuUs[role];
    if (first === undefined || last === undefined || a === undefined || b === undefined || last.atUs <= first.atUs || acked <= 0) return null;
    const share = (b - a) / (last.atUs - first.atUs);
    return { share: Math.round(share * 1000) / 1000, usPerMessage: Math.round(((share * windowUs) / acked) * 100) / 100 };
  };
  return { master: one('master'), slave: one('slave'), loadGenerator: one('loadGenerator') };
}

/** "CPU per acked message: master 8.12 µs (81% of a core), slave ..., load generator ..." for stderr. */
function cpuLine(c: ReturnType<typeof roleCpu>): string {
  const name: Record<CpuRole, string> = { master: 'master', slave: 'slave', loadGenerator: 'load generator' };
  return `CPU per acked message: ${CPU_ROLES.map((r) => {
    const f = c[r];
    return `${name[r]} ${f === null ? '—' : `${f.usPerMessage.toFixed(2)} µs (${Math.round(f.share * 100)}% of a core)`}`;
  }).join(', ')}`;
}

function report(r: RunResult): Record<string, unknown> {
  const p = r.produced;
  const seconds = (p.toUs - p.fromUs) / US_PER_S;
  const send = decodeHistogram(p.send);
  let lagBytes = 0;
  let lagMs = 0;
  let waiting = 0;
  let disconnected = 0;
  for (const s of r.samples) {
    lagBytes = Math.max(lagBytes, s.ha.slaveLagBytes);
    lagMs = Math.max(lagMs, s.ha.slaveLagMs);
    waiting = Math.max(waiting, s.ha.sendsWaitingForSlave);
    if (!s.ha.slaveConnected) disconnected++;
  }
  const first = r.samples[0];
  const last = r.samples[r.samples.length - 1];
  const cpu = roleCpu(r.cpu, p.acked, p.toUs - p.fromUs);
  console.error(`ha: ${cpuLine(cpu)}`);
  const out = {
    ackedMsgsPerSec: Math.round(p.acked / seconds),
    sendP50Ms: percentileMs(send, 50),
    sendP99Ms: percentileMs(send, 99),
    sendP999Ms: percentileMs(send, 99.9),
    sendMaxMs: percentileMs(send, 100),
    sendP99PerSecondMs: p.p99PerSecondMs,
    ackedPerSecond: p.ackedPerSecond,
    slaveLagMaxBytes: lagBytes,
    slaveLagMaxMs: lagMs,
    sendsWaitingForSlaveMax: waiting,
    lagSamples: r.samples.length,
    samplesWithoutSlave: disconnected,
    acked: p.acked,
    slaveTimeout: p.slaveTimeout,
    slaveNotAvailable: p.slaveNotAvailable,
    failed: p.failed,
    measuredSec: Math.round(seconds * 1000) / 1000,
    // Master fdatasyncs per second while measuring.
    /** fdatasync cycles over the whole run (sync flush: group commits; async: the periodic flush). */
    masterFlushCycles: r.masterFlushCycles,
    slaveFlushCycles: r.slaveFlushCycles,
    /** Each role's thread CPU over the window: µs per acknowledged message, and share of one core (null: not readable). */
    cpuUsPerMessage: { master: cpu.master?.usPerMessage ?? null, slave: cpu.slave?.usPerMessage ?? null, loadGenerator: cpu.loadGenerator?.usPerMessage ?? null },
    cpuShare: { master: cpu.master?.share ?? null, slave: cpu.slave?.share ?? null, loadGenerator: cpu.loadGenerator?.share ?? null },
    masterFlushesPerSec: first !== undefined && last !== undefined && last.atUs > first.atUs ? Math.round(((last.flushCycles - first.flushCycles) * US_PER_S) / (last.atUs - first.atUs)) : 0,
  };
  send.destroy();
  return out;
}

export async function runHaBench(options: Partial<HaBenchOptions> = {}): Promise<object> {
  const o = { ...HA_BENCH_DEFAULTS, ...options };
  const result: Record<string, unknown> = {
    bench: 'ha',
    params: {
      durationSec: o.durationMs / 1000,
      warmupSec: o.warmupMs / 1000,
      bodySize: o.bodySize,
      queues: o.queues,
      batchSize: o.batchSize,
      inFlight: o.inFlight,
      fixedRate: o.rate,
      fixedRateTickMs: o.tickMs,
      segmentSize: o.segmentSize,
      statsIntervalMs: o.statsIntervalMs,
      tls: o.tls,
      topology: 'namesrv in the coordinator thread; master, slave and producer each in a worker thread; TCP over 127.0.0.1; the slave has the master\'s flush mode; fresh stores for every run',
    },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  };
  if (o.phases.includes('max')) {
    const modes: object[] = [];
    for (const mode of o.modes) {
      console.error(`ha: flush ${mode.flush}, replication ${mode.replication}: closed loop (${o.inFlight} x ${o.batchSize} in flight) for ${o.warmupMs / 1000} + ${o.durationMs / 1000} s ...`);
      modes.push({ flush: mode.flush, replication: mode.replication, ...report(await run(o, mode, 0)) });
    }
    result.modes = modes;
  }
  if (o.phases.includes('fixed')) {
    console.error(`ha: flush sync, replication sync: fixed rate ${o.rate} msg/s for ${o.warmupMs / 1000} + ${o.durationMs / 1000} s ...`);
    const r = await run(o, { flush: 'sync', replication: 'sync' }, o.rate);
    const lag = decodeHistogram(r.produced.lag);
    result.fixedRate = {
      flush: 'sync',
      replication: 'sync',
      offeredMsgsPerSec: o.rate,
      ...report(r),
      generatorLagP99Ms: percentileMs(lag, 99),
      generatorLagMaxMs: percentileMs(lag, 100),
    };
    lag.destroy();
  }
  return result;
}
