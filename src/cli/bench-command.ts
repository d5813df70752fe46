// `metaq bench <target>`: runs a benchmark and prints its JSON report on stdout
// (progress and errors go to stderr, so stdout can be piped to a file or jq).
import fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { E2E_BENCH_DEFAULTS, runE2eBench, runStoreBench, STORE_BENCH_DEFAULTS } from '../bench/index.js';

interface BenchArgs {
  target: string;
  messages: number;
  'sync-messages': number;
  'body-size': number;
  topics: number;
  queues: number;
  batch: number;
  concurrency: number;
  'read-batch': number;
  'segment-size': number;
  dir: string;
  keep: boolean;
  out: string | undefined;
  duration: number;
  rate: number;
  warmup: number;
  'in-flight': number;
  'pull-batch': number;
  phases: string;
}

const d = STORE_BENCH_DEFAULTS;

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <target>',
  describe: 'Run a benchmark and print a JSON report (targets: store, e2e)',
  builder: (y) =>
    y
      .positional('target', { choices: ['store', 'e2e'], describe: 'What to benchmark', type: 'string', demandOption: true })
      .option('messages', { type: 'number', default: d.messages, describe: 'Messages appended (async) and read back' })
      .option('sync-messages', { type: 'number', default: d.syncMessages, describe: 'Messages appended in sync flush mode' })
      .option('body-size', { type: 'number', default: d.bodySize, describe: 'Message body bytes' })
      .option('topics', { type: 'number', default: d.topics, describe: 'Topics' })
      .option('queues', { type: 'number', default: d.queuesPerTopic, describe: 'Queues per topic' })
      .option('batch', { type: 'number', default: d.batchSize, describe: 'Messages per put' })
      .option('concurrency', { type: 'number', default: d.concurrency, describe: 'Batches in flight' })
      .option('read-batch', { type: 'number', default: d.readBatch, describe: 'Messages per read' })
      .option('segment-size', { type: 'number', default: d.segmentSize, describe: 'CommitLog segment bytes' })
      .option('dir', { type: 'string', default: d.dir, describe: 'Where the temporary bench stores are made' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep the bench stores afterwards' })
      .option('out', { type: 'string', describe: 'Also write the JSON report to this file' })
      .option('duration', { type: 'number', default: E2E_BENCH_DEFAULTS.durationMs / 1000, describe: 'e2e: seconds of producing in each phase' })
      .option('warmup', { type: 'number', default: E2E_BENCH_DEFAULTS.warmupMs / 1000, describe: 'e2e: seconds sent at the fixed rate before measuring' })
      .option('rate', { type: 'number', default: E2E_BENCH_DEFAULTS.rate, describe: 'e2e: offered msg/s of the fixed-rate phase' })
      .option('in-flight', { type: 'number', default: E2E_BENCH_DEFAULTS.inFlight, describe: 'e2e: batches outstanding in the max-rate phase' })
      .option('phases', { type: 'string', default: 'max,fixed', describe: 'e2e: phases to run (max, fixed)' })
      .option('pull-batch', { type: 'number', default: E2E_BENCH_DEFAULTS.pullBatchSize, describe: 'e2e: messages per pull and per handler call' })
      .check((a) => {
        for (const k of ['messages', 'sync-messages', 'body-size', 'topics', 'queues', 'batch', 'concurrency', 'read-batch', 'segment-size'] as const) {
          if (!Number.isInteger(a[k]) || a[k] < 1) throw new Error(`--${k} must be a positive integer`);
        }
        return true;
      }),
  handler: async (a) => {
    const report =
      a.target === 'e2e'
        ? await runE2eBench({
            durationMs: a.duration * 1000,
            rate: a.rate,
            warmupMs: a.warmup * 1000,
            bodySize: a['body-size'],
            queues: a.queues,
            batchSize: a.batch === STORE_BENCH_DEFAULTS.batchSize ? E2E_BENCH_DEFAULTS.batchSize : a.batch,
            inFlight: a['in-flight'],
            pullBatchSize: a['pull-batch'],
            dir: a.dir,
            phases: a.phases.split(',').filter((p): p is 'max' | 'fixed' => p === 'max' || p === 'fixed'),
          })
        : await runStoreBench({
      messages: a.messages,
      syncMessages: a['sync-messages'],
      bodySize: a['body-size'],
      topics: a.topics,
      queuesPerTopic: a.queues,
      batchSize: a.batch,
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
