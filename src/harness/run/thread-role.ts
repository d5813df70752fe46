// A server of a run in a worker thread of the harness (role-worker.ts): the
// light way to run a topology when no fault needs a process to kill. Also
// the shape every server of a topology has (BrokerRole), threads and
// processes alike.
import { Worker } from 'node:worker_threads';
import { threadCpuUs } from '../../load/index.js';
import type { RoleJob, RoleReport } from './role-worker.js';
import { withTimeout } from './with-timeout.js';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface BrokerRole {
  readonly name: 'namesrv' | 'master' | 'slave';
  /** The broker group (broker-a, ...); undefined for the name server. */
  readonly brokerName: string | undefined;
  readonly addr: string;
  readonly haAddr: string | undefined;
  /** Busy milliseconds so far (event-loop active time of a thread, CPU time of a process). */
  activeMs(): number;
  /**
   * CPU time (utime + stime, µs) so far: of every process it was, or of its
   * thread's event loop (not the libuv pool's fdatasyncs nor V8's helper
   * threads, which a thread shares with the whole harness); undefined when
   * it cannot be read.
   */
  cpuUs(): number | undefined;
  stop(): Promise<{ writtenOffset: number | null; flushCycles: number | null }>;
}

export async function startThreadRole(name: BrokerRole['name'], brokerName: string | undefined, job: RoleJob): Promise<BrokerRole> {
  const worker = new Worker(new URL('./role-worker.js', import.meta.url), { workerData: job });
  const reports: RoleReport[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (r: RoleReport) => (reports.push(r), wake?.()));
  worker.on('error', (err) => ((failure = err), wake?.()));
  worker.on('exit', (code) => ((failure ??= new Error(`${name} thread exited (${code})`)), wake?.()));
  const next = (): Promise<RoleReport> =>
    withTimeout(
      (async () => {
        for (;;) {
          const r = reports.shift();
          if (r !== undefined) return r;
          if (failure !== undefined) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
      name === 'namesrv' ? START_TIMEOUT_MS : STOP_TIMEOUT_MS + START_TIMEOUT_MS,
      `the ${name} thread`,
    );
  const first = await next();
  if (first.type !== 'listening') {
    await worker.terminate();
    throw new Error(`the ${name} did not start: ${first.type === 'failed' ? first.message : first.type}`);
  }
  const tid = first.tid;
  // A thread that ended keeps its last reading.
  let lastCpuUs: number | undefined;
  return {
    name,
    brokerName,
    addr: first.addr,
    haAddr: first.haAddr,
    activeMs: () => worker.performance.eventLoopUtilization().active,
    cpuUs: () => (tid === undefined ? undefined : (lastCpuUs = threadCpuUs(tid) ?? lastCpuUs)),
    stop: async () => {
      worker.postMessage('stop');
      const r = await next().catch((err: unknown) => ({ type: 'failed', message: String(err) }) as RoleReport);
      await worker.terminate();
      if (r.type !== 'stopped') throw new Error(`the ${name} did not stop cleanly: ${r.type === 'failed' ? r.message : r.type}`);
      return r;
    },
  };
}
