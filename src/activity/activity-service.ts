// startActivityService: the activity system's HTTP front as a cluster of
// worker processes sharing one listening socket. Why cluster rather than
// worker threads: on Node 20 only the cluster module lets several event
// loops accept on one port (threads cannot share a listening socket), and a
// worker process crashing does not take the others down. Each user's
// allocation record lives in exactly one worker (users sharded by id,
// ownerOf); a claim reaching another worker is forwarded to the owner through
// this primary process, which also merges its workers' metrics
// (prom-client's AggregatorRegistry.aggregate) for GET /metrics.
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { MetaqError } from '../common/index.js';
import { resolveActivityOptions, type ActivityServiceOptions, type ResolvedActivityOptions } from './activity-options.js';
import type { ToPrimary, ToWorker } from './worker-messages.js';

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
  /** Process ids of the workers (for CPU accounting). */
  readonly pids: readonly number[];
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
      const live = workers.filter((w) => w.isConnected());
      const finish = (note: string): void => {
        const c = collecting.get(id);
        if (c === undefined) return;
        collecting.delete(id);
        clearTimeout(timer);
        void AggregatorRegistry.aggregate(c.parts as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics().then((text) => resolve(note + text));
      };
      const timer = setTimeout(() => finish(`# ${collecting.get(id)?.waiting ?? 0} of ${live.length} workers did not answer within ${COLLECT_TIMEOUT_MS} ms: their figures are missing\n`), COLLECT_TIMEOUT_MS);
      collecting.set(id, { parts: [], waiting: live.length, done: () => finish('') });
      for (const w of live) w.send({ t: 'collect', id } satisfies ToWorker);
      if (live.length === 0) finish('# no worker is running\n');
    });

  const relay = (from: number, m: ToPrimary): void => {
    if (m.t === 'fwd') sendTo(m.to, { t: 'fwd', from, items: m.items });
    else if (m.t === 'ans') sendTo(m.to, { t: 'ans', items: m.items });
    else if (m.t === 'metrics') void metrics().then((text) => sendTo(from, { t: 'metrics', id: m.id, text, contentType: PROMETHEUS_CONTENT_TYPE }));
    else if (m.t === 'collected') {
      const c = collecting.get(m.id);
      if (c === undefined) return;
      c.parts.push(m.metrics);
      if (--c.waiting === 0) c.done('');
    }
  };
  const sendTo = (index: number, m: ToWorker): void => {
    const w = workers[index];
    if (w !== undefined && w.isConnected()) w.send(m);
  };

  const ready: Promise<number>[] = [];
  for (let i = 0; i < o.workers; i++) {
    const w = cluster.fork();
    workers.push(w);
    ready.push(
      new Promise<number>((resolve, reject) => {
        w.on('message', (m: ToPrimary) => {
          if (m?.t === 'hello') w.send({ t: 'config', index: i, options: o } satisfies ToWorker);
          else if (m?.t === 'ready') resolve(m.port);
          else if (m?.t === 'failed') reject(new ActivityStartError(`activity worker ${i} failed to start: [${m.code}] ${m.message}`));
          else if (m?.t !== undefined) relay(i, m);
        });
        w.once('exit', (code, signal) => {
          reject(new ActivityStartError(`activity worker ${i} exited before serving (${signal ?? `code ${code}`})`));
          if (!closing) process.stderr.write(`metaq activity: worker ${i} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); claims of its users are answered 503 until the service is restarted\n`);
        });
      }),
    );
  }

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
    pids: workers.map((w) => w.process.pid!),
    metrics,
    close: stop,
  };
}
