// startActivityService: the activity system's HTTP front as a cluster of
// worker processes sharing one listening socket. Why cluster rather than
// worker threads: on Node 20 only the cluster module lets several event
// loops accept on one port (threads cannot share a listening socket), and a
// worker process crashing does not take the others down. Each user's
// allocation record lives in exactly one worker (users sharded by id,
// ownerOf); a claim reaching another worker is forwarded to the owner through
// this primary process, which also merges its workers' metrics
// (prom-client's AggregatorRegistry.aggregate) for GET /metrics. A worker
// that dies is forked again in its place (at most maxRestartsPerMinute times
// a minute, each logged and counted): its users are served again, by a worker
// whose allocation record starts empty. Until then, claims forwarded to it
// are answered 503 at once.
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Counter, Registry } from 'prom-client';
import { MetaqError } from '../common/index.js';
import { resolveActivityOptions, type ActivityServiceOptions, type ResolvedActivityOptions } from './activity-options.js';
import type { ClaimAnswer, ToPrimary, ToWorker } from './worker-messages.js';

export interface ActivityService {
  /** http://host:port, the service's base URL. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Worker processes serving. */
  readonly workers: number;
  readonly topic: string;
  /** The options in force, defaults filled in (the credential left out). */
  readonly options: Omit<ResolvedActivityOptions, 'credential'>;
  /** Process ids of the workers (for CPU accounting); a re-forked worker's new pid replaces the dead one's. */
  readonly pids: readonly number[];
  /** Workers forked again after dying, since the start. */
  readonly restarts: number;
  /** The merged metrics of every worker, in Prometheus text format (what GET /metrics answers). */
  metrics(): Promise<string>;
  /** Stops accepting, lets claims in flight be answered, stops the workers. */
  close(): Promise<void>;
}

/** A worker failed to start (the port taken, a bad producer option, ...). */
export class ActivityStartError extends MetaqError {
  override readonly code = 'METAQ_ACTIVITY_START';
}

/** A worker's metrics are waited for this long. */
const COLLECT_TIMEOUT_MS = 2000;
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A worker not exited this long after being told to close is killed. */
const WORKER_EXIT_TIMEOUT_MS = 10_000;
/** The window of maxRestartsPerMinute. */
const RESTART_WINDOW_MS = 60_000;

/** The worker entry next to this file (compiled .js, or .ts under the test runner, loaded through tsx). */
function workerEntry(): { exec: string; execArgv: string[] } {
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  // A primary started with --cpu-prof (bench activity --cpu-prof) has its workers profiled too; nothing else of its execArgv is passed on.
  const profiling = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  return { exec: fileURLToPath(new URL(ts ? './activity-worker.ts' : './activity-worker.js', self)), execArgv: [...profiling, ...(ts ? ['--import', 'tsx'] : [])] };
}

/**
 * A free port on `host`, for port 0: the cluster shares listening sockets by
 * (address, port), so workers of two services of one process that both asked
 * for port 0 would share one socket; each service gets its own port instead.
 */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startActivityService(options: ActivityServiceOptions): Promise<ActivityService> {
  const resolved = resolveActivityOptions(options);
  if (!cluster.isPrimary) throw new ActivityStartError('startActivityService runs in a primary process, not in a cluster worker');
  const o: ResolvedActivityOptions = resolved.port === 0 ? { ...resolved, port: await freePort(resolved.host) } : resolved;
  cluster.setupPrimary({ ...workerEntry(), args: [] });
  const workers: Worker[] = [];
  let closing = false;
  let nextCollect = 1;
  const collecting = new Map<number, { parts: unknown[]; waiting: number; done: (text: string) => void }>();

  /** Every live worker's metrics, merged (a worker not answering within COLLECT_TIMEOUT_MS is left out, and said so). */
  const metrics = (): Promise<string> =>
    new Promise((resolve) => {
      const id = nextCollect++;
      const live = workers.filter((w, i) => w.isConnected() && serving[i] === true);
      const finish = (note: string): void => {
        const c = collecting.get(id);
        if (c === undefined) return;
        collecting.delete(id);
        clearTimeout(timer);
        void primaryRegistry
          .getMetricsAsJSON()
          .then((own) => AggregatorRegistry.aggregate([...c.parts, own] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics())
          .then((text) => resolve(note + text));
      };
      const timer = setTimeout(() => finish(`# ${collecting.get(id)?.waiting ?? 0} of ${live.length} workers did not answer within ${COLLECT_TIMEOUT_MS} ms: their figures are missing\n`), COLLECT_TIMEOUT_MS);
      collecting.set(id, { parts: [], waiting: live.length, done: () => finish('') });
      for (const w of live) w.send({ t: 'collect', id } satisfies ToWorker);
      if (live.length === 0) finish('# no worker is running\n');
    });

  // The primary's own figures, merged with the workers' on GET /metrics.
  const primaryRegistry = new Registry();
  const restartsCounter = new Counter({ name: 'metaq_activity_worker_restarts_total', help: 'Worker processes forked again after dying', registers: [primaryRegistry] });
  const restartTimes: number[] = [];
  let restarts = 0;

  const relay = (from: number, m: ToPrimary): void => {
    if (m.t === 'fwd') {
      // The owner is down (dead, not re-forked yet): the forwarder answers 503 now rather than after its forward timeout.
      if (!sendTo(m.to, { t: 'fwd', from, items: m.items })) sendTo(from, { t: 'ans', items: m.items.map((it) => ({ id: it.id, answer: ownerDown(o) })) });
    } else if (m.t === 'ans') sendTo(m.to, { t: 'ans', items: m.items });
    else if (m.t === 'metrics') void metrics().then((text) => sendTo(from, { t: 'metrics', id: m.id, text, contentType: PROMETHEUS_CONTENT_TYPE }));
    else if (m.t === 'collected') {
      const c = collecting.get(m.id);
      if (c === undefined) return;
      c.parts.push(m.metrics);
      if (--c.waiting === 0) c.done('');
    }
  };
  /** False when the worker cannot take it (dead or not serving yet). */
  const sendTo = (index: number, m: ToWorker): boolean => {
    const w = workers[index];
    if (w === undefined || !w.isConnected() || !serving[index]) return false;
    w.send(m);
    return true;
  };

  const serving: boolean[] = [];
  /** Forks worker `i` (again, after a death); resolves with its port once it serves. */
  const spawn = (i: number): Promise<number> => {
    const w = cluster.fork();
    workers[i] = w;
    serving[i] = false;
    return new Promise<number>((resolve, reject) => {
      w.on('message', (m: ToPrimary) => {
        if (m?.t === 'hello') w.send({ t: 'config', index: i, options: o } satisfies ToWorker);
        else if (m?.t === 'ready') {
          serving[i] = true;
          resolve(m.port);
        } else if (m?.t === 'failed') reject(new ActivityStartError(`activity worker ${i} failed to start: [${m.code}] ${m.message}`));
        else if (m?.t !== undefined) relay(i, m);
      });
      w.once('exit', (code, signal) => {
        serving[i] = false;
        reject(new ActivityStartError(`activity worker ${i} exited before serving (${signal ?? `code ${code}`})`));
        if (!closing && started) onDeath(i, w, signal ?? `code ${code}`);
      });
    });
  };
  const onDeath = (i: number, w: Worker, how: string): void => {
    const now = Date.now();
    while (restartTimes.length > 0 && restartTimes[0]! <= now - RESTART_WINDOW_MS) restartTimes.shift();
    if (restartTimes.length >= o.maxRestartsPerMinute) {
      process.stderr.write(`metaq activity: worker ${i} (pid ${w.process.pid}) exited (${how}); not forked again: ${restartTimes.length} restarts in the last minute (maxRestartsPerMinute ${o.maxRestartsPerMinute}); claims of its users are answered 503 until the service is restarted\n`);
      return;
    }
    restartTimes.push(now);
    restarts++;
    restartsCounter.inc();
    process.stderr.write(`metaq activity: worker ${i} (pid ${w.process.pid}) exited (${how}); forking it again (restart ${restarts}); its users' allocation record starts empty\n`);
    spawn(i).then(
      () => process.stderr.write(`metaq activity: worker ${i} serves again (pid ${workers[i]?.process.pid})\n`),
      (err: unknown) => process.stderr.write(`metaq activity: worker ${i} could not be forked again: ${(err as Error).message}\n`),
    );
  };

  let started = false;
  const ready: Promise<number>[] = [];
  for (let i = 0; i < o.workers; i++) ready.push(spawn(i));

  const stop = async (): Promise<void> => {
    closing = true;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), WORKER_EXIT_TIMEOUT_MS);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) w.send({ t: 'close' } satisfies ToWorker);
            else w.process.kill('SIGTERM');
          }),
      ),
    );
  };

  let port: number;
  try {
    const ports = await Promise.all(ready);
    port = ports[0]!;
    started = true;
  } catch (err) {
    await stop();
    throw err;
  }
  const { credential: _credential, ...shown } = o;
  const urlHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${urlHost}:${port}`,
    host: o.host,
    port,
    workers: o.workers,
    topic: o.topic,
    options: { ...shown, port },
    get pids() {
      return workers.map((w) => w.process.pid!);
    },
    get restarts() {
      return restarts;
    },
    metrics,
    close: stop,
  };
}

function ownerDown(o: ResolvedActivityOptions): ClaimAnswer {
  return { status: 503, body: { error: 'OWNER_DOWN', message: "the worker holding this user's record is down; retry later" }, retryAfterSec: o.retryAfterSec };
}
