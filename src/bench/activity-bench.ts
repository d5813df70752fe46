// `metaq bench activity`: claims/s the activity service answers 200 over
// HTTP, everything on this machine. The name server runs in the coordinating
// thread, the master (and its slave) each in a worker thread (ha-worker.js),
// the service in a child process (activity-bench-server.js: its cluster
// primary and workers), and autocannon in worker threads of its own, each
// request the claim of a distinct user (closed loop: `connections` users,
// each sending its next claim once the previous one is answered). After a
// warm-up run, a measured run gives claims/s answered 200, the other
// statuses, autocannon's response-time percentiles (1 ms resolution), and the
// CPU per claim of the service (utime + stime of its processes), the brokers
// (their threads) and the load generator (the rest of this process). Target
// `hello` loads a plain node:http hello-world the same way (same workers,
// same autocannon settings), so the claim path's own cost shows.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { NameServer } from '../namesrv/index.js';
import { BROKER_DEFAULTS } from '../broker/index.js';
import { writeRunCredentials } from '../security/index.js';
import { processCpuUs, threadCpuUs } from '../load/index.js';
import { startBenchWorker, type BenchWorker } from './bench-worker.js';
import type { HaReport, HaRole } from './ha-worker.js';
import type { ServerJob, ServerReport } from './activity-bench-server.js';

export type ActivityBenchTarget = 'claims' | 'hello';

export interface ActivityBenchMode {
  flush: 'sync' | 'async';
  replication: 'sync' | 'async';
}

export interface ActivityBenchOptions {
  target: ActivityBenchTarget;
  /** Broker flush and replication (a slave is always started). */
  mode: ActivityBenchMode;
  durationMs: number;
  warmupMs: number;
  /** Concurrent connections (users), each with one claim outstanding. */
  connections: number;
  /** autocannon worker threads (its load off this thread's event loop). */
  loadWorkers: number;
  /** Service (or hello-world) worker processes. */
  serviceWorkers: number;
  /** Queues of the claim topic. */
  queues: number;
  bodySize: number;
  /** The producer's batching linger in the service (the service default: 0). */
  lingerMs: number | undefined;
  /** The producer's sticky batching in the service (the service default: on). */
  sticky: boolean;
  /** Write a V8 CPU profile of every service worker into this directory (node --cpu-prof). */
  cpuProfDir: string | undefined;
  dir: string;
}

export const ACTIVITY_BENCH_DEFAULTS: ActivityBenchOptions = {
  target: 'claims',
  mode: { flush: 'sync', replication: 'sync' },
  durationMs: 10_000,
  warmupMs: 3000,
  connections: 128,
  loadWorkers: 1,
  // One: on this 2-core box a second worker doubled the service's CPU per claim (half the claims forwarded
  // through the primary, batches half as large) while the brokers and autocannon want the other core.
  serviceWorkers: 1,
  queues: 8,
  bodySize: 128,
  lingerMs: undefined,
  sticky: true,
  cpuProfDir: undefined,
  dir: os.tmpdir(),
};

const TOPIC = 'bench_activity';
const SEGMENT_SIZE = 1 << 30;
const STATS_INTERVAL_MS = 1000;
const SLAVE_CONNECT_TIMEOUT_MS = 30_000;
/** Users of one autocannon thread are numbered from threadId * this (distinct users over threads and runs). */
const USERS_PER_THREAD = 1_000_000_000;

type Role = BenchWorker<HaReport>;

/** autocannon loads request hooks by require() in its threads: a CommonJS file, written per run. */
function writeSetupRequest(dir: string): string {
  const file = path.join(dir, 'claim-request.cjs');
  fs.writeFileSync(
    file,
    [
      "'use strict';",
      "const { threadId } = require('node:worker_threads');",
      `let next = threadId * ${USERS_PER_THREAD};`,
      "module.exports = function setupRequest(req) { req.body = '{\"userId\":' + next++ + '}'; return req; };",
      '',
    ].join('\n'),
  );
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Server {
  url: string;
  pids: number[];
  workers: number;
  stop(): Promise<void>;
}

function startServer(job: ServerJob, cpuProfDir: string | undefined): Promise<Server> {
  const child: ChildProcess = fork(new URL('./activity-bench-server.js', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // The service passes --cpu-prof on to its cluster workers (activity-service.ts, workerEntry).
    execArgv: cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench's HTTP server exited (code ${code})`)));
    child.once('message', (r: ServerReport) => {
      if (r.type === 'failed') return reject(new Error(`the bench's HTTP server failed: ${r.message}`));
      if (r.type !== 'ready') return;
      resolve({
        url: r.url,
        pids: r.pids,
        workers: r.workers,
        stop: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.send('stop');
          }),
      });
    });
    child.send(job);
  });
}

interface Brokers {
  namesrv: string;
  producerCredential: ReturnType<typeof writeRunCredentials>['byRole']['producer'];
  tids: number[];
  stop(): Promise<void>;
}

/** Name server here, master and slave each in a worker thread, fresh stores; resolves once the slave is connected. */
async function startBrokers(o: ActivityBenchOptions, dir: string): Promise<Brokers> {
  const creds = writeRunCredentials(dir, [BROKER_DEFAULTS.brokerName]);
  const ns = await NameServer.start({ port: 0, credentialsFile: creds.credentialsFile });
  const topics = { [TOPIC]: o.queues };
  const security = { credentialsFile: creds.credentialsFile, credential: creds.byRole.broker };
  let slaveConnected = false;
  const script = new URL('./ha-worker.js', import.meta.url);
  const master: Role = startBenchWorker<HaReport>(
    script,
    { role: 'master', dir: path.join(dir, 'master'), namesrv: ns.addr, topics, flush: o.mode.flush, replication: o.mode.replication, segmentSize: SEGMENT_SIZE, statsIntervalMs: STATS_INTERVAL_MS, security, tls: undefined } satisfies HaRole,
    'activity master',
    (r) => {
      if (r.type !== 'ha-stats') return false;
      slaveConnected ||= r.sample.ha.slaveConnected;
      return true;
    },
  );
  const { haAddr, tid: masterTid } = await master.next('broker-ready');
  const slave: Role = startBenchWorker<HaReport>(
    script,
    { role: 'slave', dir: path.join(dir, 'slave'), namesrv: ns.addr, topics, flush: o.mode.flush, masterHaAddr: haAddr!, segmentSize: SEGMENT_SIZE, security: { ...security, replicaCredential: creds.byRole.replica }, tls: undefined } satisfies HaRole,
    'activity slave',
  );
  const { tid: slaveTid } = await slave.next('broker-ready');
  const deadline = Date.now() + SLAVE_CONNECT_TIMEOUT_MS;
  while (!slaveConnected) {
    if (Date.now() > deadline) throw new Error(`the slave did not connect to the master within ${SLAVE_CONNECT_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    namesrv: ns.addr,
    producerCredential: creds.byRole.producer,
    tids: [masterTid, slaveTid].filter((t): t is number => t !== undefined),
    stop: async () => {
      for (const role of [slave, master]) {
        role.send('stop');
        await role.next('stopped');
        await role.exited;
      }
      await ns.close();
    },
  };
}

function load(o: ActivityBenchOptions, url: string, setupRequest: string, durationMs: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/claims`,
    connections: o.connections,
    workers: o.loadWorkers,
    duration: durationMs / 1000,
    pipelining: 1,
    timeout: 10,
    requests: [{ method: 'POST', path: '/claims', headers: { 'content-type': 'application/json' }, setupRequest }],
  } as autocannon.Options);
}

/** CPU (µs) now: the server's processes; the broker threads; this whole process (brokers, name server, autocannon). */
function cpuNow(server: Server, brokerTids: readonly number[]): { server: number; primary: number; brokers: number; self: number } {
  const sum = (xs: (number | undefined)[]): number => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  return { server: sum(server.pids.map(processCpuUs)), primary: processCpuUs(server.pids[0]!) ?? 0, brokers: sum(brokerTids.map(threadCpuUs)), self: processCpuUs(process.pid) ?? 0 };
}

/** A few figures of the service's own /metrics (the whole run, warm-up included). */
function serviceFigures(text: string): { meanBatchSize: number | null; batches: number; claimsProduced: number; forwarded: number } {
  const value = (name: string): number => {
    let total = 0;
    for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    return total;
  };
  const batches = value('metaq_activity_producer_batch_size_count');
  const messages = value('metaq_activity_producer_batch_size_sum');
  return { meanBatchSize: batches === 0 ? null : round2(messages / batches), batches, claimsProduced: value('metaq_activity_claims_produced_total'), forwarded: value('metaq_activity_claims_forwarded_total') };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export async function runActivityBench(options: Partial<ActivityBenchOptions> = {}): Promise<object> {
  const o = { ...ACTIVITY_BENCH_DEFAULTS, ...options };
  const dir = fs.mkdtempSync(path.join(o.dir, 'metaq-activity-'));
  const setupRequest = writeSetupRequest(dir);
  if (o.cpuProfDir !== undefined) fs.mkdirSync(o.cpuProfDir, { recursive: true });
  let brokers: Brokers | undefined;
  let server: Server | undefined;
  try {
    if (o.target === 'claims') {
      brokers = await startBrokers(o, dir);
      server = await startServer(
        {
          target: 'claims',
          options: {
            namesrv: brokers.namesrv,
            credential: brokers.producerCredential,
            topic: TOPIC,
            port: 0,
            workers: o.serviceWorkers,
            bodySize: o.bodySize,
            producer: { batching: { sticky: o.sticky, ...(o.lingerMs === undefined ? {} : { lingerMs: o.lingerMs }) } },
          },
        },
        o.cpuProfDir,
      );
    } else {
      server = await startServer({ target: 'hello', host: '127.0.0.1', port: await freePort(), workers: o.serviceWorkers }, o.cpuProfDir);
    }
    const what = o.target === 'claims' ? `claims (${o.mode.flush}/${o.mode.replication})` : 'hello-world';
    console.error(`activity: ${what}, ${server.workers} server workers, ${o.connections} connections over ${o.loadWorkers} autocannon threads: ${o.warmupMs / 1000} s warm-up + ${o.durationMs / 1000} s ...`);
    if (o.warmupMs > 0) await load(o, server.url, setupRequest, o.warmupMs);
    const before = cpuNow(server, brokers?.tids ?? []);
    const r = await load(o, server.url, setupRequest, o.durationMs);
    const after = cpuNow(server, brokers?.tids ?? []);
    const service = o.target === 'claims' ? serviceFigures(await (await fetch(`${server.url}/metrics`)).text()) : null;
    const ok = r['2xx'];
    const perOk = (us: number): number | null => (ok === 0 ? null : round2(us / ok));
    const serverUs = after.server - before.server;
    const brokersUs = after.brokers - before.brokers;
    const loadUs = after.self - before.self - brokersUs;
    const seconds = r.duration;
    const statuses: Record<string, number> = {};
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = (s as { count: number }).count;
    const l = r.latency as unknown as Record<string, number>;
    const run = {
      answered200PerSec: Math.round(ok / seconds),
      answered200: ok,
      statuses,
      errors: r.errors,
      timeouts: r.timeouts,
      responseMs: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p99_9, max: l.max, mean: round2(l.mean ?? l.average ?? 0) },
      /**
       * CPU µs per request answered 200 over the measured run: the HTTP server's
       * processes (serverPrimary: the cluster primary alone, which relays
       * forwarded claims), the brokers' JS threads, and the rest of this process
       * (autocannon's threads, the name server, the brokers' I/O threads:
       * fdatasync, replication writes).
       */
      cpuUsPer200: { server: perOk(serverUs), serverPrimary: perOk(after.primary - before.primary), brokers: o.target === 'claims' ? perOk(brokersUs) : null, loadGenerator: perOk(loadUs) },
      cpuCores: { server: round2(serverUs / 1e6 / seconds), brokers: round2(brokersUs / 1e6 / seconds), loadGenerator: round2(loadUs / 1e6 / seconds) },
      measuredSec: seconds,
      /** From the service's /metrics, warm-up included: producer batches, claims forwarded to their owner worker. */
      service,
    };
    console.error(
      `activity: ${run.answered200PerSec} answered 200/s, p50 ${l.p50} ms p99 ${l.p99} ms max ${l.max} ms; CPU per 200: server ${run.cpuUsPer200.server} µs (primary ${run.cpuUsPer200.serverPrimary}), brokers ${run.cpuUsPer200.brokers ?? '—'} µs, rest ${run.cpuUsPer200.loadGenerator} µs${service === null ? '' : `; mean batch ${service.meanBatchSize}, forwarded ${service.forwarded} of ${service.claimsProduced}`}`,
    );
    return {
      bench: 'activity',
      target: o.target,
      params: {
        mode: o.target === 'claims' ? `${o.mode.flush}/${o.mode.replication}` : null,
        durationSec: o.durationMs / 1000,
        warmupSec: o.warmupMs / 1000,
        connections: o.connections,
        loadWorkers: o.loadWorkers,
        serverWorkers: server.workers,
        queues: o.queues,
        bodySize: o.bodySize,
        lingerMs: o.lingerMs ?? 'service default',
        sticky: o.sticky,
        topology:
          'namesrv in the coordinator thread; master and slave each in a worker thread; the HTTP server (activity service or hello-world) in a child process and its cluster workers; autocannon in worker threads of the coordinator; closed loop, each request the claim of a distinct user; TCP over 127.0.0.1',
      },
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAvg1m: round2(os.loadavg()[0]!) },
      run,
    };
  } finally {
    await server?.stop();
    await brokers?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
