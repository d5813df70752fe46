// The HTTP front's part of a run: after the route, the activity service is
// started (startActivityService: its worker processes produce the claims,
// with the producer account the harness gives its producers); with the
// worker pools, autocannon is started in its own threads, its connections up
// and blocked; the sale unblocks them at t = 0; at the end autocannon's
// result and its threads' totals come back; teardown stops both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startActivityService, type ActivityService } from '../../activity/index.js';
import { HttpLoad, type HttpLoadResult } from '../http/index.js';
import { httpFront, type HttpFront } from '../scenario/index.js';
import type { RoleActivity, RunContext } from './run-context.js';
import { processCpuUs } from '../../load/index.js';

export interface HttpRun {
  front: HttpFront;
  /** autocannon threads. */
  threads: number;
  service?: ActivityService;
  load?: HttpLoad;
  /** Where the hook files are written (removed at teardown). */
  dir?: string;
  result?: HttpLoadResult;
  /** CPU time (µs) last read of each service worker process ever seen (a re-forked worker's predecessor keeps its last reading). */
  workerCpuUs: Map<number, number>;
}

/** The role name of the activity service's worker processes in the CPU figures (a producer-side role). */
export const ACTIVITY_ROLE = 'producer activity service';

/** Bound on the claims one service worker holds at once: every closed-loop user's claim fits, with room. */
const IN_FLIGHT_PER_CONNECTION = 4;
const MIN_IN_FLIGHT = 4096;

/** autocannon threads: the scenario's, or half the machine (the service and the brokers need the rest). */
export function httpThreads(front: HttpFront): number {
  return front.workers > 0 ? front.workers : Math.max(1, Math.floor(os.availableParallelism() / 2));
}

export async function startActivity(run: RunContext): Promise<void> {
  if (run.front !== 'http') return;
  const s = run.scenario;
  const front = httpFront(s);
  run.http = { front, threads: httpThreads(front), workerCpuUs: new Map() };
  const credential = run.topology!.credentials?.producer;
  run.http.service = await startActivityService({
    namesrv: run.topology!.namesrv,
    topic: run.topic,
    activity: s.name,
    host: '127.0.0.1',
    port: 0,
    ...(front.serviceWorkers > 0 ? { workers: front.serviceWorkers } : {}),
    ...(credential !== undefined ? { credential } : {}),
    claimNonce: run.nonce,
    bodySize: s.bodySize,
    maxInFlight: Math.max(MIN_IN_FLIGHT, front.connections * IN_FLIGHT_PER_CONNECTION),
  });
  run.progress.note(`metaq scenario: activity service at ${run.http.service.url} (${run.http.service.workers} workers); autocannon ${run.http.threads} thread(s), ${front.connections} connections`);
}

export function startHttpLoad(run: RunContext): void {
  const h = run.http!;
  h.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-http-'));
  h.load = new HttpLoad({
    url: h.service!.url,
    scenario: run.scenario,
    front: h.front,
    threads: h.threads,
    totalMessages: run.totalMessages,
    userMultiplier: run.userMultiplier,
    shared: run.shared,
    dir: h.dir,
    onInterval: (i) => run.metrics.add(i),
  });
}

/** Teardown: the load first (no new requests), then the service (claims in flight answered), then the hook files. */
export async function stopHttp(run: RunContext): Promise<void> {
  const h = run.http;
  if (h === undefined) return;
  let first: unknown;
  for (const part of [() => h.load?.close(), () => h.service?.close(), () => h.dir !== undefined && fs.rmSync(h.dir, { recursive: true, force: true })]) {
    try {
      await part();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/**
 * The activity service's worker processes as one role for the CPU figures:
 * utime+stime of every worker it ran so far. Its cluster primary is this
 * process (counted nowhere), as are autocannon's threads.
 */
export function activityServiceCpu(run: RunContext): RoleActivity[] {
  const h = run.http;
  if (h?.service === undefined) return [];
  for (const pid of h.service.pids) {
    const us = processCpuUs(pid);
    if (us !== undefined) h.workerCpuUs.set(pid, us);
  }
  let cpuUs = 0;
  for (const us of h.workerCpuUs.values()) cpuUs += us;
  return [{ role: ACTIVITY_ROLE, activeMs: cpuUs / 1000, cpuUs }];
}
