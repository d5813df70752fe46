// The HTTP front's load: autocannon (its programmatic API, workers mode: the
// load runs in its own worker threads) plays the users against the activity
// service. Closed loop: `connections` users over all threads, each with one
// request in flight at a time (pipelining 1), its next request only after
// the answer. The curve is followed by per-second quotas (rate-plan.ts) that
// the hooks (hook-files.ts) set on every connection; a connection therefore
// sends in bursts at the start of each second, and the achieved rate falls
// below the offered one whenever `connections` answers at a time cannot keep
// up (reported, never hidden). Coordinated-omission correction is off
// (ignoreCoordinatedOmission): autocannon's correction assumes one request
// per millisecond per connection whatever the rate, which over-corrects here;
// the claim-level figures (intended time to 200, to consumption) keep the
// open-loop view instead.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import type autocannon from 'autocannon';
import { USER_ID_BASE, ACK_FAILED, ACK_OK, CONTROL_ABORT, type SharedRunState } from '../workers/index.js';
import { producingSeconds, type HttpFront, type Scenario } from '../scenario/index.js';
import { CLOCK_RUN_START, COUNTER_NEXT, COUNTER_NON_CLAIM, COUNTER_STOP, COUNTERS, type HookConfig, type HookMessage, type HttpInterval, type HttpThreadDone } from './hook-config.js';
import { hdrEntry, writeHookFiles } from './hook-files.js';
import { dueBySecond } from './rate-plan.js';

const require = createRequire(import.meta.url);
// autocannon is CommonJS; its workers need it loaded the CommonJS way too.
const runAutocannon = require('autocannon') as typeof autocannon;

/** autocannon ends on its own once every connection is done; this bound (beyond the curve and the timeout) is a safety net. */
const SAFETY_SEC = 120;
/** The hook threads' last reports are waited for this long after autocannon ended. */
const DONE_WAIT_MS = 5000;
const CLAIMS_PATH = '/claims';

export interface HttpLoadOptions {
  /** The activity service's base URL. */
  url: string;
  scenario: Scenario;
  front: HttpFront;
  /** autocannon threads (resolved: >= 1). */
  threads: number;
  totalMessages: number;
  userMultiplier: number;
  shared: SharedRunState;
  /** Where the hook files are written (the run's directory). */
  dir: string;
  /** Each thread's report of each second. */
  onInterval(i: HttpInterval): void;
}

/** What autocannon and the hooks counted over the run. */
export interface HttpLoadResult {
  /** autocannon's own result (its figures merged from its threads). */
  autocannon: autocannon.Result;
  /** Each hook thread's totals (one per autocannon thread that reported in time). */
  threads: HttpThreadDone[];
  /** Requests that carried no claim (GET /healthz once every claim was taken). */
  nonClaimRequests: number;
  /** Message indices handed out (claims built; a claim built and never sent is not acknowledged, and not lost). */
  claimsBuilt: number;
  connections: number;
  /** autocannon threads. */
  threadCount: number;
}

export class HttpLoad {
  readonly connections: number;
  readonly threads: number;
  readonly #clock: Float64Array;
  readonly #counters: Int32Array;
  readonly #channel: BroadcastChannel;
  readonly #done = new Map<number, HttpThreadDone>();
  readonly #result: Promise<autocannon.Result>;
  readonly #instance: autocannon.Instance;
  #ready = 0;
  #wake: (() => void) | undefined;

  constructor(o: HttpLoadOptions) {
    this.threads = o.threads;
    const perThread = Math.max(1, Math.floor(o.front.connections / o.threads));
    this.connections = perThread * o.threads;
    const due = dueBySecond(o.scenario.phases);
    const clock = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
    const counters = new SharedArrayBuffer(COUNTERS * Int32Array.BYTES_PER_ELEMENT);
    const dueBuf = new SharedArrayBuffer(Math.max(1, due.length) * Int32Array.BYTES_PER_ELEMENT);
    new Int32Array(dueBuf).set(due);
    this.#clock = new Float64Array(clock);
    this.#counters = new Int32Array(counters);
    const channel = `metaq-http-${randomUUID()}`;
    this.#channel = new BroadcastChannel(channel);
    this.#channel.onmessage = (e: unknown) => this.#onHook((e as { data: HookMessage }).data, o);
    const config: HookConfig = {
      acked: o.shared.acked,
      control: o.shared.control,
      clock,
      counters,
      due: dueBuf,
      phases: [...o.scenario.phases],
      totalMessages: o.totalMessages,
      userMultiplier: o.userMultiplier,
      userIdBase: USER_ID_BASE,
      connectionsPerThread: perThread,
      connections: this.connections,
      abortField: CONTROL_ABORT,
      ackOk: ACK_OK,
      ackFailed: ACK_FAILED,
      channel,
      hdrPath: hdrEntry(),
    };
    const hooks = writeHookFiles(o.dir);
    const options = {
      url: o.url,
      workers: o.threads,
      connections: this.connections,
      pipelining: 1,
      timeout: o.front.timeoutSec,
      duration: Math.ceil(producingSeconds(o.scenario) + o.front.timeoutSec + SAFETY_SEC),
      ignoreCoordinatedOmission: true,
      // autocannon takes ignoreCoordinatedOmission only with a rate; the hooks replace this one per connection at once.
      connectionRate: 1,
      setupClient: hooks.setupClient,
      requests: [{ method: 'POST', path: CLAIMS_PATH, headers: { 'content-type': 'application/json' }, setupRequest: hooks.setupRequest, onResponse: hooks.onResponse }],
      // Read by the hooks in every thread (autocannon hands its options to its threads as workerData).
      metaqHttp: config,
    };
    let fail!: (e: unknown) => void;
    let ok!: (r: autocannon.Result) => void;
    this.#result = new Promise((resolve, reject) => ((ok = resolve), (fail = reject)));
    this.#result.catch(() => undefined);
    this.#instance = runAutocannon(options as unknown as autocannon.Options, (err: unknown, r: autocannon.Result) => (err ? fail(err) : ok(r)));
    (this.#instance as autocannon.Instance | undefined)?.on('error', (e: unknown) => fail(e));
  }

  /** Resolves once every autocannon thread loaded the hooks (its connections are up and blocked until begin). */
  async untilReady(): Promise<void> {
    await Promise.race([
      (async () => {
        while (this.#ready < this.threads) await new Promise<void>((resolve) => (this.#wake = resolve));
      })(),
      this.#result.then(() => {
        throw new Error('autocannon ended before the sale started');
      }),
    ]);
  }

  /** The sale's t = 0 (shared clock): the connections are unblocked at it, by the plan. */
  begin(runStartUs: number): void {
    this.#clock[CLOCK_RUN_START] = runStartUs;
  }

  /** autocannon's result and every thread's totals, once the last answer is in. */
  async finished(): Promise<HttpLoadResult> {
    const result = await this.#result;
    const deadline = Date.now() + DONE_WAIT_MS;
    while (this.#done.size < this.threads && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return {
      autocannon: result,
      threads: [...this.#done.values()].sort((a, b) => a.worker - b.worker),
      nonClaimRequests: Atomics.load(this.#counters, COUNTER_NON_CLAIM),
      claimsBuilt: Atomics.load(this.#counters, COUNTER_NEXT),
      connections: this.connections,
      threadCount: this.threads,
    };
  }

  /** Stops the load if it still runs (a failed run: its threads end their part at once) and closes the channel. */
  close(): void {
    Atomics.store(this.#counters, COUNTER_STOP, 1);
    // autocannon gives no instance when it refused its options (the callback had the error).
    (this.#instance as autocannon.Instance | undefined)?.stop();
    this.#channel.close();
  }

  #onHook(m: HookMessage, o: HttpLoadOptions): void {
    if (m.kind === 'http-ready') {
      this.#ready++;
      this.#wake?.();
    } else if (m.kind === 'http-interval') o.onInterval(m);
    else if (m.kind === 'http-done') this.#done.set(m.worker, m);
  }
}
