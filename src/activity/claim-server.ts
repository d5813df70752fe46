// One worker's HTTP/1.1 server (node:http): POST /claims, GET /healthz,
// GET /metrics. A claim is answered by the worker owning the user's record
// (ownerOf): here when it is this one, else forwarded through the primary.
// Bodies are read up to maxBodyBytes (413 past it, the connection closed);
// claims open at once are capped at maxInFlight (503 past it).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { InvalidRequestError, MetaqError } from '../common/index.js';
import { ActivityMetrics } from './activity-metrics.js';
import type { ResolvedActivityOptions } from './activity-options.js';
import { AllocationRecord, type Allocation } from './allocation-record.js';
import { parseClaimRequest, type ClaimRequest } from './claim-request.js';
import { ClaimRefusal, ClaimSender } from './claim-sender.js';
import { ownerOf, type AnswerItem, type ClaimAnswer, type ForwardItem, type ToPrimary } from './worker-messages.js';

const JSON_TYPE = 'application/json';
/** How often forwards without an answer are looked at (a dead owner must not hold a claim forever). */
const FORWARD_SWEEP_MS = 500;
/** Extra time a forward waits beyond the owner's own longest send. */
const FORWARD_MARGIN_MS = 2000;
const DEFAULT_PRODUCER_TIMEOUT_MS = 3000;
const DEFAULT_PRODUCER_RETRIES = 2;
/** Stopping waits at most this long for claims in flight to be answered. */
const CLOSE_DRAIN_MS = 5000;

type Send = (m: ToPrimary) => void;

interface PendingForward {
  resolve: (a: ClaimAnswer) => void;
  since: number;
}

export class ClaimServer {
  readonly metrics = new ActivityMetrics();
  readonly #o: ResolvedActivityOptions;
  readonly #index: number;
  readonly #record: AllocationRecord;
  readonly #sender: ClaimSender;
  readonly #server: http.Server;
  readonly #toPrimary: Send;
  readonly #forwards = new Map<number, PendingForward>();
  readonly #outbox = new Map<number, ForwardItem[]>();
  readonly #answers = new Map<number, AnswerItem[]>();
  readonly #metricsWaiting = new Map<number, ServerResponse>();
  readonly #sweep: NodeJS.Timeout;
  readonly #forwardTimeoutMs: number;
  #nextId = 1;
  #nextSeq = 0;
  #inFlight = 0;
  #flushScheduled = false;

  constructor(o: ResolvedActivityOptions, index: number, toPrimary: Send) {
    this.#o = o;
    this.#index = index;
    this.#toPrimary = toPrimary;
    this.#record = new AllocationRecord(o.recordCapacity);
    this.#sender = new ClaimSender(o, (messages) => this.metrics.batchSize.observe(messages));
    const p = o.producer;
    this.#forwardTimeoutMs = (p.requestTimeoutMs ?? DEFAULT_PRODUCER_TIMEOUT_MS) * ((p.retries ?? DEFAULT_PRODUCER_RETRIES) + 1) + FORWARD_MARGIN_MS;
    this.#server = http.createServer({ requestTimeout: o.requestTimeoutMs, keepAliveTimeout: o.keepAliveTimeoutMs }, (req, res) => this.#onRequest(req, res));
    this.#sweep = setInterval(() => this.#expireForwards(), FORWARD_SWEEP_MS);
    this.#sweep.unref();
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as { port: number }).port);
      });
    });
  }

  /** Claims forwarded to this worker (it owns their users). */
  onForwarded(from: number, items: ForwardItem[]): void {
    for (const it of items) {
      void this.#answerLocally(it.req).then((answer) => this.#queue(this.#answers, from, { id: it.id, answer }));
    }
  }

  /** Answers from owners for claims this worker forwarded. */
  onAnswers(items: AnswerItem[]): void {
    for (const it of items) {
      const f = this.#forwards.get(it.id);
      if (f === undefined) continue; // already given up on
      this.#forwards.delete(it.id);
      f.resolve(it.answer);
    }
  }

  onMetrics(id: number, text: string, contentType: string): void {
    const res = this.#metricsWaiting.get(id);
    if (res === undefined) return;
    this.#metricsWaiting.delete(id);
    res.writeHead(200, { 'content-type': contentType }).end(text);
  }

  /** Stops accepting, lets claims in flight be answered (bounded), closes the producer. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while ((this.#inFlight > 0 || this.#record.pending > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.#server.closeAllConnections();
    await closed;
    this.#sender.close();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const q = req.url?.indexOf('?') ?? -1;
    const path = q < 0 ? (req.url ?? '/') : req.url!.slice(0, q);
    const route = path === '/claims' ? 'claims' : path === '/healthz' ? 'healthz' : path === '/metrics' ? 'metrics' : 'other';
    res.once('finish', () => {
      this.metrics.requests.inc({ route, status: String(res.statusCode) });
      this.metrics.latency.observe({ route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    if (route === 'other') return json(res, 404, { error: 'NOT_FOUND', message: `no route ${path}: POST /claims, GET /healthz, GET /metrics` });
    const method = route === 'claims' ? 'POST' : 'GET';
    if (req.method !== method) {
      res.setHeader('allow', method);
      return json(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${path} takes ${method}` });
    }
    if (route === 'healthz') return json(res, 200, { status: 'ok', worker: this.#index, workers: this.#o.workers });
    if (route === 'metrics') {
      const id = this.#nextId++;
      this.#metricsWaiting.set(id, res);
      res.once('close', () => this.#metricsWaiting.delete(id));
      this.#toPrimary({ t: 'metrics', id });
      return;
    }
    void this.#onClaim(req, res, q < 0 ? '' : req.url!.slice(q + 1));
  }

  async #onClaim(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    if (this.#inFlight >= this.#o.maxInFlight) {
      req.resume();
      return answer(res, { status: 503, body: { error: 'BUSY', message: `this worker holds ${this.#o.maxInFlight} claims already; retry later` }, retryAfterSec: this.#o.retryAfterSec });
    }
    this.#inFlight++;
    this.metrics.inFlight.inc();
    try {
      const body = await readBody(req, this.#o.maxBodyBytes);
      if (body === undefined) {
        // Not read to its end: the connection cannot carry another request.
        res.shouldKeepAlive = false;
        return json(res, 413, { error: 'BODY_TOO_LARGE', message: `a claim body is at most ${this.#o.maxBodyBytes} bytes` });
      }
      let claim: ClaimRequest;
      try {
        claim = parseClaimRequest(body, new URLSearchParams(query));
      } catch (err) {
        if (err instanceof InvalidRequestError) return json(res, 400, { error: err.code, message: err.message });
        throw err;
      }
      const owner = ownerOf(claim.userId, this.#o.workers);
      answer(res, owner === this.#index ? await this.#answerLocally(claim) : await this.#forward(owner, claim));
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: err instanceof MetaqError ? err.code : 'INTERNAL', message: (err as Error).message });
    } finally {
      this.#inFlight--;
      this.metrics.inFlight.dec();
    }
  }

  /** The claim as the owner of its user answers it: from the record, or by producing it. */
  async #answerLocally(c: ClaimRequest): Promise<ClaimAnswer> {
    const activityId = c.activityId ?? this.#o.activity;
    const r = this.#record.claim(c.userId, () => {
      const seq = c.seq ?? this.#serviceSeq();
      return this.#sender.send(c.userId, activityId, seq, c.intendedUs ?? nowUs());
    });
    try {
      const a: Allocation = await r.allocation;
      if (r.repeat) this.metrics.claimsRepeated.inc();
      else this.metrics.claimsProduced.inc();
      return { status: 200, body: { ...a, repeat: r.repeat } };
    } catch (err) {
      const refusal = err instanceof ClaimRefusal ? err : new ClaimRefusal('INTERNAL', false, (err as Error).message);
      if (!r.repeat) this.metrics.claimsRefused.inc({ reason: refusal.reason });
      return refusal.retryable
        ? { status: 503, body: { error: refusal.reason, message: refusal.message }, retryAfterSec: this.#o.retryAfterSec }
        : { status: 500, body: { error: refusal.reason, message: refusal.message } };
    }
  }

  /** The service's own claim numbers: unique over workers (worker w numbers w, w + W, w + 2W, ...), below 2^32. */
  #serviceSeq(): number {
    return (this.#nextSeq++ * this.#o.workers + this.#index) % 0x1_0000_0000;
  }

  #forward(owner: number, req: ClaimRequest): Promise<ClaimAnswer> {
    this.metrics.forwarded.inc();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#forwards.set(id, { resolve, since: Date.now() });
      this.#queue(this.#outbox, owner, { id, req });
    });
  }

  #expireForwards(): void {
    const cutoff = Date.now() - this.#forwardTimeoutMs;
    for (const [id, f] of this.#forwards) {
      if (f.since > cutoff) break; // insertion order is age order
      this.#forwards.delete(id);
      f.resolve({ status: 503, body: { error: 'OWNER_TIMEOUT', message: "the worker holding this user's record did not answer; retry later" }, retryAfterSec: this.#o.retryAfterSec });
    }
  }

  /** Queues an item for a worker; everything queued in this turn of the event loop goes out as one IPC message per destination. */
  #queue<T>(box: Map<number, T[]>, to: number, item: T): void {
    const list = box.get(to);
    if (list === undefined) box.set(to, [item]);
    else list.push(item);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const [to, items] of this.#outbox) this.#toPrimary({ t: 'fwd', to, items });
    for (const [to, items] of this.#answers) this.#toPrimary({ t: 'ans', to, items });
    this.#outbox.clear();
    this.#answers.clear();
  }
}

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function json(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': JSON_TYPE }).end(JSON.stringify(body));
}

function answer(res: ServerResponse, a: ClaimAnswer): void {
  if (a.retryAfterSec !== undefined) res.setHeader('retry-after', String(a.retryAfterSec));
  json(res, a.status, a.body);
}

/** The request body, or undefined when it is longer than `max` (declared or actual); reading stops there. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
