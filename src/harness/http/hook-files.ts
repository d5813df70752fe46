// The hooks autocannon runs in its worker threads, written as CommonJS files
// into the run's directory: in workers mode autocannon `require`s every hook
// by absolute path (a function cannot cross to a thread), and this package is
// ES modules. The arithmetic they need (the rate plan's split, the curve's
// message times, the user permutation, the phase of a second) is the very
// source of the typed, tested functions, inlined with Function.toString, so
// there is one definition of each.
//
// What the hooks do, per autocannon thread:
//   setupClient   registers the connection, blocks it (quota BLOCKED_RATE)
//                 until the sale starts, then sets its quota at every second
//                 boundary from the plan (autocannon's Client fields `rate`
//                 and `reqsMadeThisSecond`, and `_doRequest` to start an
//                 idle connection: internals of autocannon 9; the HTTP
//                 scenario test fails if they change); listens to its request / response /
//                 timeout / error events (status counts, autocannon's own
//                 response time); once the curve is over ends every idle
//                 connection, so autocannon ends when the last answer is in.
//   setupRequest  takes the next message index (one Atomics.add over all
//                 threads: every request a distinct user) and builds its
//                 claim, POST /claims {userId, seq, intendedUs}; before the
//                 start (built again at the start) or once every claim is
//                 taken, a GET /healthz instead.
//   onResponse    marks the claim in the shared `acked` array: ACK_OK on 200
//                 (exact: one request in flight per connection, pipelining
//                 1, so the context is that request's), ACK_FAILED otherwise.
// Each thread posts one report per second and its totals at the end.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { phaseAt, timeOfMessage } from '../scenario/index.js';
import { userIndexOf } from '../workers/index.js';
import { CLOCK_RUN_START, COUNTER_NEXT, COUNTER_NON_CLAIM, COUNTER_STOP, COUNTER_THREADS } from './hook-config.js';
import { BLOCKED_RATE, connectionQuota } from './rate-plan.js';

/** The hook files in `dir`, by the autocannon option that names them. */
export interface HookFiles {
  setupClient: string;
  setupRequest: string;
  onResponse: string;
}

/** Where hdr-histogram-js's CommonJS entry is (the hook files sit outside node_modules' reach). */
export function hdrEntry(): string {
  return createRequire(import.meta.url).resolve('hdr-histogram-js');
}

export function writeHookFiles(dir: string): HookFiles {
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `'use strict';\n${text}`);
    return p;
  };
  file('metaq-http-state.cjs', stateSource());
  return {
    setupClient: file('metaq-http-setup-client.cjs', "module.exports = require('./metaq-http-state.cjs').setupClient;\n"),
    setupRequest: file('metaq-http-setup-request.cjs', "module.exports = require('./metaq-http-state.cjs').setupRequest;\n"),
    onResponse: file('metaq-http-on-response.cjs', "module.exports = require('./metaq-http-state.cjs').onResponse;\n"),
  };
}

/** How often a hook thread looks at the clock (quota switches and reports are this late at most). */
const TICK_MS = 50;
const MAX_TRACKABLE_US = 3_600_000_000;

function stateSource(): string {
  return `
const { workerData } = require('node:worker_threads');
const cfg = workerData.opts.metaqHttp;
const hdr = require(cfg.hdrPath);
const DRAIN_PHASE = 'drain';
const BLOCKED_RATE = ${BLOCKED_RATE};
${connectionQuota.toString()}
${timeOfMessage.toString()}
${userIndexOf.toString()}
${phaseAt.toString()}
const acked = new Uint8Array(cfg.acked);
const control = new Int32Array(cfg.control);
const clock = new Float64Array(cfg.clock);
const counters = new Int32Array(cfg.counters);
const due = new Int32Array(cfg.due);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: ${MAX_TRACKABLE_US}, numberOfSignificantValueDigits: 3 });
const thread = Atomics.add(counters, ${COUNTER_THREADS}, 1);
const channel = new BroadcastChannel(cfg.channel);
const phaseNames = cfg.phases.map((p) => p.name).concat([DRAIN_PHASE]);
const phaseCount = phaseNames.map(() => 0);
const phaseSend = phaseNames.map(() => histogram());
const clients = [];
const totals = { claimsSent: 0, ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, lastAnswerUs: 0 };
let second = null;
let planSecond = null;
let ending = false;
let done = false;
let lastClaim = -1;

const fresh = (k) => ({ second: k, ok: 0, unavailable: 0, other: 0, timeouts: 0, errors: 0, response: histogram(), send: histogram() });
const report = (s) => channel.postMessage({ kind: 'http-interval', worker: thread, second: s.second, ok: s.ok, unavailable: s.unavailable, other: s.other, timeouts: s.timeouts, errors: s.errors,
  response: hdr.encodeIntoCompressedBase64(s.response), send: hdr.encodeIntoCompressedBase64(s.send) });
/** The current second's figures, reporting every second before it (empty ones too: the coordinator counts reporters). */
const at = (t) => {
  const start = clock[${CLOCK_RUN_START}];
  const k = start === 0 ? -1 : Math.floor((t - start) / 1e6);
  if (k < 0) return null;
  if (second === null) second = fresh(k);
  while (second.second < k) { report(second); second = fresh(second.second + 1); }
  return second;
};

let started = false;

/**
 * Second k's quotas, on our own clock: every connection's count restarts at
 * the boundary and an idle connection with a quota is started at once
 * (autocannon's own per-connection timer is stopped at the start: it would
 * restart counts at its own phase, and it never resumes a connection that
 * was blocked at its tick).
 */
function setQuotas(k) {
  const aborted = Atomics.load(control, cfg.abortField) !== 0;
  if (k >= 0 && !started) {
    started = true;
    for (const c of clients) {
      clearInterval(c.rateInterval);
      // The request a connection built before the start is a GET /healthz: built again, it is a claim.
      if (!c.metaqBusy && !c.destroyed) c.setRequests(c.opts.requests);
    }
  }
  const d = k >= 0 && k < due.length && !aborted ? due[k] : 0;
  for (let j = 0; j < clients.length; j++) {
    const c = clients[j];
    const q = connectionQuota(d, Math.max(0, k), thread * cfg.connectionsPerThread + j, cfg.connections);
    c.rate = q > 0 ? q : BLOCKED_RATE;
    if (!started) continue;
    c.reqsMadeThisSecond = 0;
    if (q > 0 && !c.metaqBusy && !c.destroyed) c._doRequest();
  }
  if (k >= due.length || aborted) ending = true;
}

function endIdle() {
  for (const c of clients) {
    if (c.metaqBusy || c.destroyed) continue;
    // A claim built at the start and never written (its connection never had a quota): not sent after all.
    // (Later claims are built as they are written; only a connection that wrote nothing holds one unwritten.)
    const built = c.requestIterator.context.metaqIndex;
    if (c.reqsMade === 0 && built !== undefined && built >= 0) totals.claimsSent--;
    c.destroy();
  }
}

function finish() {
  if (done) return;
  done = true;
  clearInterval(ticker);
  if (second !== null) report(second);
  const phases = phaseNames.map((_, p) => ({ count: phaseCount[p], latency: hdr.encodeIntoCompressedBase64(phaseSend[p]) }));
  channel.postMessage(Object.assign({ kind: 'http-done', worker: thread, phases }, totals));
  channel.close();
}

const ticker = setInterval(() => {
  const t = nowUs();
  at(t);
  const start = clock[${CLOCK_RUN_START}];
  const k = start === 0 ? -1 : Math.floor((t - start) / 1e6);
  if (k !== planSecond) { planSecond = k; setQuotas(k); }
  if (ending) endIdle();
  if ((clients.length > 0 && clients.every((c) => c.destroyed)) || Atomics.load(counters, ${COUNTER_STOP}) !== 0) finish();
}, ${TICK_MS});

function setupClient(client) {
  clients.push(client);
  client.rate = BLOCKED_RATE;
  client.metaqBusy = false;
  // Set on 'request' when the one before it was never answered (a timeout or a dropped connection abandons it).
  let abandoned = false;
  client.on('request', () => { abandoned = client.metaqBusy; client.metaqBusy = true; });
  client.on('response', (status, _bytes, durationMs) => {
    client.metaqBusy = false;
    abandoned = false;
    const t = nowUs();
    const s = at(t);
    if (lastClaim >= 0) {
      totals.lastAnswerUs = t;
      const kind = status === 200 ? 'ok' : status === 503 ? 'unavailable' : 'other';
      totals[kind]++;
      if (s !== null) s[kind]++;
    }
    if (s !== null && lastClaim >= 0) s.response.recordValue(Math.max(1, Math.round(durationMs * 1000)));
    lastClaim = -1;
    if (ending) client.destroy();
  });
  client.on('timeout', () => {
    // autocannon reconnects before it says so: a new request went out (abandoned) or the connection waits for its quota.
    const lost = abandoned || client.metaqBusy;
    if (!abandoned) client.metaqBusy = false;
    abandoned = false;
    if (lost) { totals.timeouts++; const s = at(nowUs()); if (s !== null) s.timeouts++; }
    if (ending) { client.metaqBusy = false; client.destroy(); }
  });
  client.on('connError', () => {
    totals.errors++;
    const s = at(nowUs());
    if (s !== null) s.errors++;
  });
}

function setupRequest(req, context) {
  const start = clock[${CLOCK_RUN_START}];
  const i = start === 0 ? cfg.totalMessages : Atomics.add(counters, ${COUNTER_NEXT}, 1);
  if (i >= cfg.totalMessages) {
    // Before the start this request is built again at the start (setQuotas): only one past the last claim goes out.
    if (start !== 0) Atomics.add(counters, ${COUNTER_NON_CLAIM}, 1);
    context.metaqIndex = -1;
    return Object.assign(req, { method: 'GET', path: '/healthz', body: '' });
  }
  const intendedUs = Math.round(start + timeOfMessage(cfg.phases, i) * 1e6);
  context.metaqIndex = i;
  context.metaqIntendedUs = intendedUs;
  totals.claimsSent++;
  const userId = cfg.userIdBase + userIndexOf(i, cfg.totalMessages, cfg.userMultiplier);
  return Object.assign(req, { method: 'POST', path: '/claims', body: '{"userId":' + userId + ',"seq":' + i + ',"intendedUs":' + intendedUs + '}' });
}

function onResponse(status, _body, context) {
  const i = context.metaqIndex;
  lastClaim = i === undefined ? -1 : i;
  if (i === undefined || i < 0) return;
  if (status !== 200) { acked[i] = cfg.ackFailed; return; }
  acked[i] = cfg.ackOk;
  const t = nowUs();
  const v = Math.max(1, t - context.metaqIntendedUs);
  const s = at(t);
  if (s !== null) s.send.recordValue(v);
  const p = phaseNames.indexOf(phaseAt(cfg.phases, (t - clock[${CLOCK_RUN_START}]) / 1e6));
  phaseCount[p]++;
  phaseSend[p].recordValue(v);
}

channel.postMessage({ kind: 'http-ready', worker: thread });
module.exports = { setupClient, setupRequest, onResponse };
`;
}
