// `metaq bench <benchmark>`: runs a benchmark and prints its JSON report on stdout
// (progress and errors go to stderr, so stdout can be piped to a file or jq).
import fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { ACTIVITY_BENCH_DEFAULTS, runActivityBench, type ActivityBenchMode } from '../bench/index.js';
import { BATCHING_BENCH_DEFAULTS, E2E_BENCH_DEFAULTS, HA_BENCH_DEFAULTS, HA_BENCH_MODES, runBatchingBench, runE2eBench, runHaBench, runStoreBench, runStoreRateBench, STORE_BENCH_DEFAULTS, type HaBenchMode } from '../bench/index.js';

interface BenchArgs {
  benchmark: string;
  messages: number;
  'sync-messages': number;
  'body-size': number;
  topics: number;
  queues: number;
  batch: number | undefined;
  concurrency: number;
  'read-batch': number;
  'segment-size': number;
  dir: string;
  keep: boolean;
  out: string | undefined;
  duration: number;
  rate: number | undefined;
  warmup: number;
  'in-flight': number | undefined;
  'pull-batch': number;
  phases: string;
  modes: string;
  tick: number;
  spares: number;
  settle: number;
  preallocate: boolean;
  tls: boolean;
  callers: number;
  variants: string;
  flush: string;
  mode: string;
  connections: number;
  'load-workers': number;
  'service-workers': number | undefined;
  linger: number | undefined;
  sticky: boolean;
  target: string;
  'cpu-prof': string | undefined;
}

/** `bench store --rate`: the scenario's largest put. */
const STORE_RATE_BATCH = 512;

const d = STORE_BENCH_DEFAULTS;
const e = E2E_BENCH_DEFAULTS;
const h = HA_BENCH_DEFAULTS;
const bb = BATCHING_BENCH_DEFAULTS;
const ab = ACTIVITY_BENCH_DEFAULTS;

/** `off,0,1`: batching off, or on with that lingerMs. */
function parseVariants(text: string): (number | undefined)[] {
  return text.split(',').map((v) => {
    const t = v.trim();
    if (t === 'off') return undefined;
    const n = Number(t);
    if (t === '' || !Number.isInteger(n) || n < 0) throw new Error(`--variants: ${JSON.stringify(v)} is neither "off" nor a lingerMs (an integer >= 0)`);
    return n;
  });
}

/** `bench activity --mode`: one flush/replication pair. */
function parseActivityMode(text: string): ActivityBenchMode {
  let modes: HaBenchMode[];
  try {
    modes = parseModes(text);
  } catch (err) {
    throw new Error((err as Error).message.replace('--modes', '--mode'));
  }
  const [mode, more] = modes;
  if (more !== undefined) throw new Error('--mode: one flush/replication pair, e.g. sync/sync (run the bench once per mode)');
  return mode!;
}

/** `sync/async` (flush/replication) pairs, comma separated. */
function parseModes(text: string): HaBenchMode[] {
  return text.split(',').map((m) => {
    const [flush, replication, extra] = m.trim().split('/');
    if ((flush !== 'sync' && flush !== 'async') || (replication !== 'sync' && replication !== 'async') || extra !== undefined) {
      throw new Error(`--modes: ${JSON.stringify(m)} is not flush/replication (each sync or async), e.g. sync/sync`);
    }
    return { flush, replication };
  });
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <benchmark>',
  describe: 'Run a benchmark and print a JSON report (store, e2e, ha, batching, activity)',
  builder: (y) =>
    y
      .positional('benchmark', { choices: ['store', 'e2e', 'ha', 'batching', 'activity'], describe: 'What to benchmark', type: 'string', demandOption: true })
      .option('messages', { type: 'number', default: d.messages, describe: 'Messages appended (async) and read back' })
      .option('sync-messages', { type: 'number', default: d.syncMessages, describe: 'Messages appended in sync flush mode' })
      .option('body-size', { type: 'number', default: d.bodySize, describe: 'Message body bytes' })
      .option('topics', { type: 'number', default: d.topics, describe: 'Topics' })
      .option('queues', { type: 'number', default: d.queuesPerTopic, describe: 'Queues per topic' })
      .option('batch', { type: 'number', describe: `Messages per put (store, default ${d.batchSize}) or per send (e2e, default ${e.batchSize}; ha, default ${h.batchSize}); batching: maxMessages (default ${bb.maxMessages})` })
      .option('concurrency', { type: 'number', default: d.concurrency, describe: 'Batches in flight' })
      .option('read-batch', { type: 'number', default: d.readBatch, describe: 'Messages per read' })
      .option('segment-size', { type: 'number', default: d.segmentSize, describe: 'CommitLog segment bytes (store, ha)' })
      .option('dir', { type: 'string', default: d.dir, describe: 'Where the temporary bench stores are made' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep the bench stores afterwards' })
      .option('out', { type: 'string', describe: 'Also write the JSON report to this file' })
      .option('duration', { type: 'number', default: e.durationMs / 1000, describe: 'e2e, ha: measured seconds of producing in each phase or mode; activity: measured seconds of load' })
      .option('warmup', { type: 'number', default: e.warmupMs / 1000, describe: 'e2e: seconds sent at the fixed rate before measuring; ha: seconds sent before measuring, in every run; activity: seconds of load before measuring' })
      .option('rate', { type: 'number', describe: `Offered msg/s of the fixed-rate phase (e2e, default ${e.rate}; ha, sync flush + sync replication, default ${h.rate}); store: run only a fixed-rate sync-flush phase with per-second p99 and fdatasync figures` })
      .option('in-flight', { type: 'number', describe: `Batches outstanding in the max-rate phase (e2e, default ${e.inFlight}) or the closed loop (ha, default ${h.inFlight})` })
      .option('phases', { type: 'string', default: 'max,fixed', describe: 'e2e, ha: phases to run (max: max rate / closed loop in every mode, fixed: fixed rate)' })
      .option('modes', { type: 'string', default: HA_BENCH_MODES.map((m) => `${m.flush}/${m.replication}`).join(','), describe: 'ha: flush/replication modes of the closed-loop phase' })
      .option('tick', { type: 'number', default: h.tickMs, describe: 'ha: ms between the fixed-rate generator\'s sends (each sends what is due, in batches of up to --batch)' })
      .option('spares', { type: 'number', default: 2, describe: 'store --rate: spare segments kept ready (spareSegments)' })
      .option('settle', { type: 'number', default: 60, describe: 'store --rate: longest wait, in seconds, for the spares before the load' })
      .option('preallocate', { type: 'boolean', default: true, describe: 'store --rate: keep segments ready (--no-preallocate: sparse segments)' })
      .option('tls', { type: 'boolean', default: false, describe: 'ha: every link over TLS (client ports, replication, registration) with a self-signed certificate made per run by the openssl command' })
      .option('callers', { type: 'number', default: bb.callers, describe: 'batching: concurrent callers, each sending one message at a time' })
      .option('variants', { type: 'string', default: 'off,0,1', describe: 'batching: runs, comma separated: "off" (batching off) or a lingerMs' })
      .option('flush', { type: 'string', default: bb.flush, choices: ['async', 'sync'], describe: 'batching: the broker\'s flush mode (no slave)' })
      .option('mode', { type: 'string', default: `${ab.mode.flush}/${ab.mode.replication}`, describe: 'activity: the brokers\' flush/replication (a master and its slave), e.g. sync/sync or async/async' })
      .option('target', { type: 'string', default: ab.target, choices: ['claims', 'hello'], describe: 'activity: claims (the activity service) or hello (a plain node:http hello-world served and loaded the same way)' })
      .option('connections', { type: 'number', default: ab.connections, describe: 'activity: concurrent HTTP connections (users), each with one request outstanding' })
      .option('load-workers', { type: 'number', default: ab.loadWorkers, describe: 'activity: autocannon worker threads' })
      .option('service-workers', { type: 'number', describe: `activity: HTTP server worker processes (default ${ab.serviceWorkers}: see docs/BENCHMARKS.md)` })
      .option('linger', { type: 'number', describe: 'activity: the service producer\'s batching lingerMs (default: the service\'s own)' })
      .option('sticky', { type: 'boolean', default: ab.sticky, describe: 'activity: the service producer\'s sticky batching (--no-sticky: a batch per queue)' })
      .option('cpu-prof', { type: 'string', describe: 'activity: write a V8 CPU profile of the HTTP server\'s processes into this directory (open in Chrome DevTools)' })
      .option('pull-batch', { type: 'number', default: e.pullBatchSize, describe: 'e2e: messages per pull and per handler call' })
      .check((a) => {
        for (const k of ['messages', 'sync-messages', 'body-size', 'topics', 'queues', 'batch', 'concurrency', 'read-batch', 'segment-size', 'in-flight', 'rate', 'callers', 'connections', 'load-workers', 'service-workers'] as const) {
          const v = a[k];
          if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`--${k} must be a positive integer`);
        }
        if (!(a.tick > 0)) throw new Error('--tick must be a positive number of ms');
        parseModes(a.modes);
        parseVariants(a.variants);
        parseActivityMode(a.mode);
        if (a.linger !== undefined && (!Number.isInteger(a.linger) || a.linger < 0)) throw new Error('--linger must be an integer >= 0 (ms)');
        return true;
      }),
  handler: async (a) => {
    const phases = a.phases.split(',').filter((p): p is 'max' | 'fixed' => p === 'max' || p === 'fixed');
    const report =
      a.benchmark === 'activity'
        ? await runActivityBench({
            target: a.target === 'hello' ? 'hello' : 'claims',
            mode: parseActivityMode(a.mode),
            durationMs: a.duration * 1000,
            warmupMs: a.warmup * 1000,
            connections: a.connections,
            loadWorkers: a['load-workers'],
            serviceWorkers: a['service-workers'] ?? ab.serviceWorkers,
            queues: a.queues,
            bodySize: a['body-size'],
            lingerMs: a.linger,
            sticky: a.sticky,
            cpuProfDir: a['cpu-prof'],
            dir: a.dir,
          })
        : a.benchmark === 'batching'
        ? await runBatchingBench({
            durationMs: a.duration * 1000,
            warmupMs: a.warmup * 1000,
            bodySize: a['body-size'],
            queues: a.queues,
            callers: a.callers,
            lingers: parseVariants(a.variants),
            maxMessages: a.batch ?? bb.maxMessages,
            flush: a.flush === 'sync' ? 'sync' : 'async',
            dir: a.dir,
          })
        : a.benchmark === 'e2e'
        ? await runE2eBench({
            durationMs: a.duration * 1000,
            rate: a.rate ?? e.rate,
            warmupMs: a.warmup * 1000,
            bodySize: a['body-size'],
            queues: a.queues,
            batchSize: a.batch ?? e.batchSize,
            inFlight: a['in-flight'] ?? e.inFlight,
            pullBatchSize: a['pull-batch'],
            dir: a.dir,
            phases,
          })
        : a.benchmark === 'ha'
        ? await runHaBench({
            durationMs: a.duration * 1000,
            warmupMs: a.warmup * 1000,
            rate: a.rate ?? h.rate,
            bodySize: a['body-size'],
            queues: a.queues,
            batchSize: a.batch ?? h.batchSize,
            inFlight: a['in-flight'] ?? h.inFlight,
            tickMs: a.tick,
            segmentSize: a['segment-size'],
            modes: parseModes(a.modes),
            phases,
            dir: a.dir,
            tls: a.tls,
          })
        : a.rate !== undefined
        ? await runStoreRateBench({
            rate: a.rate,
            durationMs: a.duration * 1000,
            bodySize: a['body-size'],
            queues: a.queues,
            batchSize: a.batch ?? STORE_RATE_BATCH,
            tickMs: a.tick,
            segmentSize: a['segment-size'],
            preallocate: a.preallocate,
            spareSegments: a.spares,
            settleMs: a.settle * 1000,
            dir: a.dir,
          })
        : await runStoreBench({
      messages: a.messages,
      syncMessages: a['sync-messages'],
      bodySize: a['body-size'],
      topics: a.topics,
      queuesPerTopic: a.queues,
      batchSize: a.batch ?? d.batchSize,
      concurrency: a.concurrency,
      readBatch: a['read-batch'],
      segmentSize: a['segment-size'],
      dir: a.dir,
      keep: a.keep,
          });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (a.out !== undefined) fs.writeFileSync(a.out, json);
    process.stdout.write(json);
  },
};
