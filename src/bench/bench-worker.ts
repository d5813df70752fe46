// The coordinator's side of a benchmark role running in a worker thread:
// reports are matched by their `type` (a report that arrives before anyone
// waits for it is kept), frequent events go to a callback instead, and a
// worker that fails stops the whole benchmark (its figures would be wrong).
import { Worker } from 'node:worker_threads';

export interface BenchWorker<R extends { type: string }> {
  /** The next report of this type (possibly one that already arrived). */
  next<T extends R['type']>(type: T): Promise<Extract<R, { type: T }>>;
  send(msg: unknown): void;
  exited: Promise<number>;
}

/**
 * Starts `script` with `job` as its workerData. `onEvent` sees every report
 * first and returns true for those it consumed (progress, samples).
 */
export function startBenchWorker<R extends { type: string }>(script: URL, job: unknown, label: string, onEvent?: (r: R) => boolean): BenchWorker<R> {
  const worker = new Worker(script, { workerData: job });
  const waiting = new Map<string, (r: R) => void>();
  const queued = new Map<string, R>();
  worker.on('message', (r: R) => {
    if (onEvent?.(r) === true) return;
    const w = waiting.get(r.type);
    if (w !== undefined) {
      waiting.delete(r.type);
      w(r);
    } else queued.set(r.type, r);
  });
  worker.on('error', (err) => {
    console.error(`metaq bench: ${label} worker failed:`, err);
    process.exit(1);
  });
  return {
    next: <T extends R['type']>(type: T) =>
      new Promise<Extract<R, { type: T }>>((resolve) => {
        const q = queued.get(type);
        if (q !== undefined) {
          queued.delete(type);
          resolve(q as Extract<R, { type: T }>);
        } else waiting.set(type, resolve as (r: R) => void);
      }),
    send: (msg) => worker.postMessage(msg),
    exited: new Promise((resolve) => worker.once('exit', resolve)),
  };
}

/** A histogram a worker shipped with encodeIntoCompressedBase64 (plain JS: the coordinator only reads it). */
export { decodeHistogram } from '../load/index.js';
