// Wire fuzzing against a live broker: a seeded PRNG builds ~2000 frames (valid
// requests of every opcode, and mutations of them: flipped bytes, truncations,
// random lengths, random opcodes, valid headers over random bodies, pure
// garbage) and sends them over many short connections and a few long pipelined
// ones. The broker must never crash or leak an unhandled rejection, must answer
// every frame it can read or close the connection, must answer only with
// well-formed response frames, and afterwards must carry a normal workload
// (1000 messages sent and consumed). A second run does the same while a few
// clients pipeline large pulls and never read their sockets: the broker's
// memory stays bounded (it stops reading those connections) and everyone else
// is served. Set METAQ_FUZZ_SEED to replay another seed, METAQ_FUZZ_FRAMES and
// METAQ_FUZZ_TIME_MS for a longer run.
// The first run goes twice: against an open broker, and against a broker with
// accounts (docs/SECURITY.md), where half the connections authenticate first
// (then fuzz as above) and the others fuzz before authenticating, handshake
// frames included: those must be refused (UNAUTHENTICATED, or a frame-level
// error) and closed, never served.
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/index.js';
import { Consumer, Producer } from '../../src/client/index.js';
import { NameServer } from '../../src/namesrv/index.js';
import {
  encodeClientGroup,
  encodeCommitOffsets,
  encodeCreateTopic,
  encodeFrame,
  encodeGroup,
  encodeHeartbeat,
  encodeOffsetForTimestamp,
  encodePullRequest,
  encodeQueryById,
  encodeQueryByKey,
  encodeQueryOffset,
  encodeQueueLock,
  encodeQueueRef,
  encodeSendBack,
  encodeSendRequest,
  FrameFlag,
  FRAME_HEADER_SIZE,
  Opcode,
  Status,
  statusName,
  errorForStatus,
  decodeErrorBody,
} from '../../src/protocol/index.js';
import { authenticate } from '../../src/security/index.js';
import { credentialOf, writeAccounts } from '../helpers/credentials.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { prng } from '../helpers/messages.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { sleep, waitUntil } from '../helpers/wait.js';
import { RawConn } from './fixtures/bad-input-wire-raw.js';
import { connectNeverReading, pullFrame } from '../security/wire-helpers.js';
import { join } from 'node:path';

const envInt = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v !== undefined && v !== '' && Number.isSafeInteger(Number(v)) ? Number(v) : fallback;
};
const SEED = envInt('METAQ_FUZZ_SEED', 0xf022_2026);
const FRAMES = envInt('METAQ_FUZZ_FRAMES', 2000);
const TIME_CAP_MS = envInt('METAQ_FUZZ_TIME_MS', 15_000);
const PARALLEL = 12;
/** The second run's clients that never read, and the 8 MiB pulls each pipelines (~1 GB of answers before backpressure). */
const STALLED_READERS = 2;
const STALLED_PULLS = 60;
const TOPIC = 'FuzzT';
const AFTER_TOPIC = 'FuzzAfter';
const MAX_FRAME = 1024 * 1024;
const FAST_CLIENT = { heartbeatIntervalMs: 300, rebalanceIntervalMs: 500, commitIntervalMs: 100, pollTimeoutMs: 1000 } as const;

type Rng = () => number;

const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

/** A valid request body for a random broker opcode. `physical` are real CommitLog offsets seen so far. */
function validRequest(rng: Rng, physical: number[], withAuthOps = false): { opcode: number; body: Buffer } {
  const q = int(rng, 0, 3);
  const group = pick(rng, ['fz_g', 'fz_h', 'fz-ordered']);
  const clientId = `fz-client-${int(rng, 0, 5)}`;
  const ops = [
    () => ({
      opcode: Opcode.Send,
      body: encodeSendRequest({
        topic: TOPIC,
        queueId: q,
        messages: Array.from({ length: int(rng, 1, 3) }, (_, i) => ({
          body: randomBytes(rng, int(rng, 0, 200)),
          tags: rng() < 0.5 ? pick(rng, ['TagA', 'TagB', '标签']) : undefined,
          keys: rng() < 0.5 ? [`k${int(rng, 0, 50)}`, `k${i}`] : undefined,
          properties: rng() < 0.5 ? { a: 'b', n: String(int(rng, 0, 1e6)) } : undefined,
          flag: int(rng, 0, 2 ** 31),
        })),
      }),
    }),
    () => ({
      opcode: Opcode.Pull,
      body: encodePullRequest({
        group,
        topic: rng() < 0.9 ? TOPIC : `%RETRY%${group}`,
        queueId: rng() < 0.9 ? q : 0,
        offset: int(rng, 0, 40),
        maxCount: int(rng, 0, 64),
        maxBytes: int(rng, 0, 1 << 20),
        pollTimeoutMs: rng() < 0.7 ? 0 : int(rng, 1, 300),
        commitOffset: rng() < 0.5 ? int(rng, 0, 40) : undefined,
        tags: rng() < 0.5 ? [] : ['TagA', 'x'],
      }),
    }),
    () => ({ opcode: Opcode.CommitOffsets, body: encodeCommitOffsets({ group, entries: [{ topic: TOPIC, queueId: q, offset: int(rng, 0, 100) }] }) }),
    () => ({ opcode: Opcode.QueryOffset, body: encodeQueryOffset({ group, topic: TOPIC, queueId: q }) }),
    () => ({
      opcode: Opcode.Heartbeat,
      body: encodeHeartbeat({ clientId, groups: [{ group, mode: rng() < 0.8 ? 0 : 1, ordered: rng() < 0.5, subscriptions: [{ topic: TOPIC, tags: rng() < 0.5 ? [] : ['TagA'] }] }] }),
    }),
    () => ({ opcode: Opcode.UnregisterClient, body: encodeClientGroup({ clientId, group }) }),
    () => ({ opcode: Opcode.GetConsumers, body: encodeGroup(group) }),
    () => ({ opcode: Opcode.LockQueues, body: encodeQueueLock({ group, clientId, queues: [{ topic: TOPIC, queueId: q }] }) }),
    () => ({ opcode: Opcode.UnlockQueues, body: encodeQueueLock({ group, clientId, queues: [{ topic: TOPIC, queueId: q }] }) }),
    () => ({
      opcode: Opcode.SendBack,
      body: encodeSendBack({
        group,
        physicalOffset: physical.length > 0 && rng() < 0.8 ? pick(rng, physical) : int(rng, 0, 1 << 20),
        maxReconsumeTimes: int(rng, 0, 3),
        toDeadLetter: rng() < 0.3,
      }),
    }),
    () => ({ opcode: Opcode.CreateTopic, body: encodeCreateTopic({ topic: `FuzzNew_${int(rng, 0, 9)}`, queueCount: int(rng, 1, 4) }) }),
    () => ({ opcode: Opcode.QueryByKey, body: encodeQueryByKey({ topic: TOPIC, key: `k${int(rng, 0, 50)}`, maxCount: int(rng, 0, 40) }) }),
    () => ({ opcode: Opcode.QueryById, body: encodeQueryById(physical.length > 0 && rng() < 0.7 ? pick(rng, physical) : int(rng, 0, 1 << 22)) }),
    () => ({ opcode: Opcode.OffsetForTimestamp, body: encodeOffsetForTimestamp({ topic: TOPIC, queueId: q, timestamp: Date.now() - int(rng, 0, 10_000) }) }),
    () => ({ opcode: Opcode.QueueOffsets, body: encodeQueueRef({ topic: TOPIC, queueId: q }) }),
    () => ({ opcode: Opcode.BrokerStats, body: Buffer.alloc(0) }),
  ];
  // Handshake frames (a broker with accounts): random names and nonces, random proofs.
  if (withAuthOps && rng() < 0.1) {
    return rng() < 0.5
      ? { opcode: Opcode.AuthHello, body: Buffer.concat([Buffer.from([1, 3]), Buffer.from('ops'), randomBytes(rng, 32)]) }
      : { opcode: Opcode.AuthProof, body: randomBytes(rng, 32) };
  }
  return pick(rng, ops)();
}

type Kind = 'valid' | 'flip-body' | 'flip-header' | 'truncate' | 'random-body' | 'random-length' | 'random-opcode' | 'garbage';

interface Fuzzed {
  kind: Kind;
  bytes: Buffer;
  /** The request id in the header (when there is one). */
  requestId: number;
  /** An unmodified, well-formed request: it must be answered, and not with a frame-level error. */
  wellFormed: boolean;
}

function fuzzFrame(rng: Rng, physical: number[], requestId: number, mostlyValid = false, withAuthOps = false): Fuzzed {
  const r = mostlyValid && rng() < 0.9 ? 0 : rng();
  const kind: Kind =
    r < 0.15 ? 'valid' : r < 0.35 ? 'flip-body' : r < 0.45 ? 'flip-header' : r < 0.55 ? 'truncate' : r < 0.72 ? 'random-body' : r < 0.8 ? 'random-length' : r < 0.9 ? 'random-opcode' : 'garbage';
  const v = validRequest(rng, physical, withAuthOps);
  const frame = encodeFrame({ opcode: v.opcode, flags: rng() < 0.03 ? FrameFlag.Oneway : 0, requestId, status: 0 }, v.body);
  switch (kind) {
    case 'valid':
      return { kind, bytes: frame, requestId, wellFormed: (frame.readUInt16BE(6) & FrameFlag.Oneway) === 0 };
    case 'flip-body': {
      const b = Buffer.from(frame);
      if (b.length > FRAME_HEADER_SIZE) {
        for (let i = int(rng, 1, 4); i > 0; i--) {
          const at = int(rng, FRAME_HEADER_SIZE, b.length - 1);
          b[at] = rng() < 0.5 ? b[at]! ^ (1 << int(rng, 0, 7)) : int(rng, 0, 255);
        }
      }
      return { kind, bytes: b, requestId, wellFormed: false };
    }
    case 'flip-header': {
      const b = Buffer.from(frame);
      const at = int(rng, 0, FRAME_HEADER_SIZE - 1);
      b[at] = b[at]! ^ (1 << int(rng, 0, 7));
      return { kind, bytes: b, requestId: b.readUInt32BE(8), wellFormed: false };
    }
    case 'truncate':
      return { kind, bytes: frame.subarray(0, int(rng, 0, frame.length - 1)), requestId, wellFormed: false };
    case 'random-body': {
      const body = randomBytes(rng, rng() < 0.8 ? int(rng, 0, 64) : int(rng, 0, 4096));
      return { kind, bytes: encodeFrame({ opcode: v.opcode, flags: 0, requestId, status: 0 }, body), requestId, wellFormed: false };
    }
    case 'random-length': {
      const b = Buffer.from(frame);
      const choice = rng();
      const length = choice < 0.3 ? int(rng, 0, 15) : choice < 0.6 ? int(rng, 16, b.length + 64) : choice < 0.8 ? int(rng, MAX_FRAME - 8, MAX_FRAME + 8) : Math.floor(rng() * 2 ** 32);
      b.writeUInt32BE(length >>> 0, 0);
      return { kind, bytes: b, requestId, wellFormed: false };
    }
    case 'random-opcode': {
      const b = Buffer.from(frame);
      b[5] = int(rng, 0, 255);
      return { kind, bytes: b, requestId, wellFormed: false };
    }
    case 'garbage': {
      const b = randomBytes(rng, int(rng, 1, 300));
      return { kind, bytes: b, requestId: b.length >= 12 ? b.readUInt32BE(8) : 0, wellFormed: false };
    }
  }
}

interface Findings {
  unauthenticatedConnections: number;
  frames: number;
  connections: number;
  responses: number;
  notices: number;
  closedByServer: number;
  byStatus: Map<string, number>;
  problems: string[];
  internalErrors: string[];
}

/**
 * Writes the frames on one connection (in one write, or in random chunks),
 * waits until every frame is answered or the server closes, then half-closes and
 * checks that the server closes its side too.
 */
async function runConnection(addr: string, frames: Fuzzed[], rng: Rng, f: Findings, secured: boolean): Promise<void> {
  const c = await RawConn.open(addr);
  f.connections++;
  // On a broker with accounts: authenticate first (as admin: every request is then served as on an open broker), or fuzz unauthenticated.
  const unauthenticated = secured && rng() < 0.5;
  if (secured && !unauthenticated) {
    try {
      await authenticate((opcode, body) => rawCall(c, opcode, body), credentialOf('ops'), addr);
    } finally {
      c.frames.splice(0);
    }
  }
  if (unauthenticated) {
    f.unauthenticatedConnections++;
    try {
      await runUnauthenticated(c, frames, f);
    } finally {
      c.destroy();
    }
    return;
  }
  const all = Buffer.concat(frames.map((x) => x.bytes));
  try {
    if (rng() < 0.5) {
      c.write(all);
    } else {
      for (let at = 0; at < all.length; ) {
        const n = int(rng, 1, 512);
        c.write(all.subarray(at, at + n));
        at += n;
        if (rng() < 0.1) await sleep(1);
      }
    }
    // Answer everything readable, or close. A frame left incomplete (truncated, or a length
    // longer than what follows) legitimately leaves the server waiting for more bytes: wait
    // until every frame is answered, the server closes, or nothing more comes for longer
    // than the broker holds a pull (maxPollTimeoutMs 300).
    const answered = (): number => c.frames.filter((r) => (r.flags & FrameFlag.Oneway) === 0).length;
    let seen = -1;
    while (!(c.isClosed || c.ended) && answered() < frames.length && answered() !== seen) {
      seen = answered();
      await c.waitFor(() => c.isClosed || c.ended || answered() > seen, 350);
    }
    const closedByServer = c.isClosed || c.ended;
    if (closedByServer) f.closedByServer++;
    if (c.error !== undefined && c.error.message.startsWith('server sent a bad frame')) f.problems.push(c.error.message);
    const sentIds = new Set(frames.map((x) => x.requestId));
    const idBytes = Buffer.alloc(4);
    // Oneway notices (NOTIFY_CONSUMERS_CHANGED after a fuzzed heartbeat) may come at any time: not answers.
    const notices = c.frames.filter((r) => (r.flags & FrameFlag.Oneway) !== 0);
    for (const n of notices) if (n.opcode !== Opcode.NotifyConsumersChanged || n.requestId !== 0 || (n.flags & FrameFlag.Response) !== 0) f.problems.push(`an unexpected oneway frame: opcode ${n.opcode}`);
    f.notices += notices.length;
    const answers = c.frames.filter((r) => (r.flags & FrameFlag.Oneway) === 0);
    for (const r of answers) {
      f.responses++;
      const name = statusName(r.status);
      f.byStatus.set(name, (f.byStatus.get(name) ?? 0) + 1);
      if ((r.flags & FrameFlag.Response) === 0) f.problems.push(`a frame without the Response flag: opcode ${r.opcode}`);
      // The id echoed is one we sent, or 4 bytes the server read as a header (mutations misalign frames), or 0.
      idBytes.writeUInt32BE(r.requestId >>> 0, 0);
      if (!sentIds.has(r.requestId) && r.requestId !== 0 && !all.includes(idBytes)) f.problems.push(`a response to request id ${r.requestId}, which appears nowhere in what was sent`);
      if (r.status === Status.InternalError) f.internalErrors.push(`${r.opcode}: ${r.message}`);
    }
    // A connection of well-formed requests only is answered in full and stays open.
    if (frames.every((x) => x.wellFormed)) {
      if (answers.length !== frames.length) {
        const ids = new Set(answers.map((r) => r.requestId));
        const missing = frames.filter((x) => !ids.has(x.requestId)).map((x) => `${x.requestId}: opcode ${x.bytes[5]} body ${x.bytes.subarray(FRAME_HEADER_SIZE).toString('hex')}`);
        f.problems.push(`${frames.length} well-formed requests got ${answers.length} answers (closed: ${closedByServer}); unanswered: ${missing.join('; ')}`);
      }
      if (closedByServer) f.problems.push('the server closed a connection that sent only well-formed requests');
      for (const r of answers) if (r.status === Status.MalformedFrame || r.status === Status.UnknownOpcode || r.status === Status.FrameTooLarge) f.problems.push(`a well-formed request got ${statusName(r.status)}: ${r.message}`);
    }
    // After a frame-level error the server answers nothing more and closes.
    const fatal = answers.findIndex((r) => r.status === Status.MalformedFrame || r.status === Status.FrameTooLarge || r.status === Status.UnknownOpcode);
    if (fatal >= 0 && !closedByServer) {
      if (!(await c.waitClosed(2500))) f.problems.push(`no close after ${statusName(answers[fatal]!.status)}`);
    }
    if (fatal >= 0 && fatal !== answers.length - 1) f.problems.push(`${answers.length - 1 - fatal} answers after a ${statusName(answers[fatal]!.status)}`);
    if (!(c.isClosed || c.ended)) {
      c.socket.end();
      if (!(await c.waitClosed(3000))) f.problems.push('the server kept a half-closed connection open');
    }
  } finally {
    c.destroy();
  }
}

/** Runs `frames` fuzzed frames (the seed's plan) over PARALLEL lanes of connections; logs and returns what was seen. */
async function fuzz(addr: string, count: number, physical: number[], warnings: string[], secured: boolean, broker: Broker): Promise<Findings> {
  const rng = prng(SEED);
  // Build every connection's frames up front: the run is a function of the seed alone.
  let nextId = 1;
  const plan: Fuzzed[][] = [];
  let planned = 0;
  while (planned < count) {
    const shape = rng();
    const n = shape < 0.5 ? 1 : shape < 0.92 ? int(rng, 2, 5) : int(rng, 20, 60); // a few long pipelined connections
    // Long pipelines are mostly valid requests (a bad frame ends a connection: the rest would go unread).
    const frames = Array.from({ length: Math.min(n, count - planned) }, () => fuzzFrame(rng, physical, nextId++, n >= 20, secured));
    plan.push(frames);
    planned += frames.length;
  }
  const kinds = new Map<Kind, number>();
  for (const fr of plan.flat()) kinds.set(fr.kind, (kinds.get(fr.kind) ?? 0) + 1);

  const findings: Findings = { unauthenticatedConnections: 0, frames: 0, connections: 0, responses: 0, notices: 0, closedByServer: 0, byStatus: new Map(), problems: [], internalErrors: [] };
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async (_, w) => {
      const wrng = prng(SEED + 1 + w);
      while (next < plan.length && Date.now() - t0 < TIME_CAP_MS) {
        const frames = plan[next++]!;
        findings.frames += frames.length;
        await runConnection(addr, frames, wrng, findings, secured);
      }
    }),
  );
  const elapsed = Date.now() - t0;
  console.log(
    `[fuzz] ${findings.frames} frames (${JSON.stringify(Object.fromEntries(kinds))}) over ${findings.connections} connections in ${elapsed} ms; ` +
      `${findings.responses} responses ${JSON.stringify(Object.fromEntries(findings.byStatus))}; ${findings.notices} notices; ${findings.closedByServer} connections closed by the server; ` +
      `${findings.internalErrors.length} InternalError answers; ${warnings.length} broker warnings; ${findings.unauthenticatedConnections} unauthenticated connections, refusals ${JSON.stringify(broker.stats().refusals)}`,
  );
  if (findings.internalErrors.length > 0) console.log(`[fuzz] InternalError answers:\n  ${[...new Set(findings.internalErrors)].slice(0, 20).join('\n  ')}`);
  if (warnings.length > 0) console.log(`[fuzz] broker warnings:\n  ${[...new Set(warnings)].slice(0, 20).join('\n  ')}`);

  return findings;
}

interface FuzzSetup {
  namesrv: NameServer;
  broker: Broker;
  warnings: string[];
  /** Unhandled rejections and exceptions seen since the setup. */
  unhandled: unknown[];
  /** Physical offsets of real records (for SEND_BACK and QUERY_BY_ID). */
  physical: number[];
  /** Client options that authenticate as the named account on a secured broker (nothing on an open one). */
  as: (name: string) => { credential?: ReturnType<typeof credentialOf> };
}

/** A name server and a broker (with accounts when `secured`), 20 real messages, and a watch for unhandled errors; everything goes into `cleanup`. */
async function setUp(cleanup: (() => unknown)[], secured: boolean): Promise<FuzzSetup> {
  console.log(`[fuzz] seed ${SEED} (set METAQ_FUZZ_SEED to replay another)`);
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  cleanup.push(() => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  });
  const warnings: string[] = [];
  const dir = makeTempDir('fuzz');
  cleanup.push(() => removeDir(dir));
  const accountsFile = writeAccounts(dir, [
    { name: 'ops', role: 'admin' },
    { name: 'shop', role: 'producer' },
    { name: 'lottery', role: 'consumer' },
    { name: 'broker-acct', role: 'broker', brokerNames: ['broker-fuzz'] },
  ]);
  const security = secured ? { credentialsFile: accountsFile } : {};
  const as = (name: string): { credential?: ReturnType<typeof credentialOf> } => (secured ? { credential: credentialOf(name) } : {});
  const namesrv = await NameServer.start({ port: 0, brokerExpiryMs: 2000, ...security });
  cleanup.push(() => namesrv.close());
  const broker = await Broker.start(
    {
      brokerName: 'broker-fuzz',
      port: 0,
      namesrvAddrs: [namesrv.addr],
      topics: { [TOPIC]: 4, [AFTER_TOPIC]: 4 },
      maxFrameSize: MAX_FRAME,
      maxPollTimeoutMs: 300,
      ...FAST_BROKER,
      ...security,
      ...(secured ? { credential: credentialOf('broker-acct'), authTimeoutMs: SECURED_AUTH_TIMEOUT_MS } : {}),
      store: { dir: join(dir, 'store'), segmentSize: 8 * 1024 * 1024, maxMessageSize: 64 * 1024 },
    },
    { warn: (m, err) => warnings.push(`${m}${err instanceof Error ? `: ${err.message}` : ''}`) },
  );
  cleanup.push(() => broker.close());

  const physical: number[] = [];
  // Some real messages first, so that SEND_BACK and QUERY_BY_ID hit real records.
  const seedProducer = new Producer({ namesrv: namesrv.addr, ...as('shop') });
  cleanup.push(() => seedProducer.shutdown());
  for (let i = 0; i < 20; i++) {
    const r = await seedProducer.send(TOPIC, { body: `seed-${i}`, keys: `k${i}` });
    physical.push(Number(BigInt(`0x${r.messageId.slice(16)}`)));
  }
  return { namesrv, broker, warnings, unhandled, physical, as };
}

/** A normal workload on a clean topic: 1000 messages sent, every one consumed. */
async function normalWorkload(namesrv: NameServer, cleanup: (() => unknown)[], as: FuzzSetup['as']): Promise<void> {
  const producer = new Producer({ namesrv: namesrv.addr, ...as('shop') });
  cleanup.push(() => producer.shutdown());
  const consumer = new Consumer({ namesrv: namesrv.addr, group: 'fuzz_after', ...FAST_CLIENT, ...as('lottery') });
  cleanup.push(() => consumer.shutdown());
  const got = new Set<string>();
  consumer.subscribe(AFTER_TOPIC);
  await consumer.start((msgs) => {
    for (const m of msgs) got.add(m.body.toString());
  });
  const sent: string[] = [];
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, async (_, j) => {
        const body = `after-${i + j}`;
        await producer.send(AFTER_TOPIC, { body, keys: `a${i + j}` });
        sent.push(body);
      }),
    );
  }
  await waitUntil(() => sent.every((b) => got.has(b)), 'all 1000 messages consumed', 20_000, 10);
  expect(got.size).toBe(1000);
}

/** Request ids of the handshake on a raw connection: far above the fuzz frames' ids. */
let authRequestId = 0x7000_0000;

/** One request on a raw connection: its answer's body, or the typed error of its status. */
async function rawCall(c: RawConn, opcode: number, body: Buffer): Promise<Buffer> {
  const id = authRequestId++;
  c.request(opcode, id, body);
  if (!(await c.waitFor(() => c.frames.some((r) => r.requestId === id) || c.isClosed, 3000))) throw new Error(`no answer to ${opcode} during the handshake`);
  const r = c.frames.find((x) => x.requestId === id);
  if (r === undefined) throw new Error('closed during the handshake');
  if (r.status >= 20) throw errorForStatus(r.status, decodeErrorBody(r.body));
  return r.body;
}

/**
 * Fuzz before authenticating: nothing is served (only a well-formed
 * AUTH_HELLO is answered OK), everything else is refused with UNAUTHENTICATED
 * or a frame-level error, and the server closes the connection (at the
 * latest when the handshake times out).
 */
async function runUnauthenticated(c: RawConn, frames: Fuzzed[], f: Findings): Promise<void> {
  c.write(Buffer.concat(frames.map((x) => x.bytes)));
  const closed = await c.waitFor(() => c.isClosed || c.ended, SECURED_AUTH_TIMEOUT_MS + 2500);
  if (!closed) f.problems.push('the server kept an unauthenticated connection open past the handshake timeout');
  for (const r of c.frames) {
    f.responses++;
    const name = statusName(r.status);
    f.byStatus.set(name, (f.byStatus.get(name) ?? 0) + 1);
    if ((r.flags & FrameFlag.Response) === 0) f.problems.push(`unauthenticated: a frame without the Response flag: opcode ${r.opcode}`);
    if (r.status === Status.InternalError) f.internalErrors.push(`${r.opcode}: ${r.message}`);
    const refused = r.status === Status.Unauthenticated || r.status === Status.AccessDenied || r.status === Status.MalformedFrame || r.status === Status.FrameTooLarge;
    if (!refused && !(r.status === Status.Ok && r.opcode === Opcode.AuthHello)) f.problems.push(`unauthenticated: ${opcodeNameOf(r.opcode)} answered ${statusName(r.status)} (served without authentication)`);
  }
}

const opcodeNameOf = (op: number): string => Object.entries(Opcode).find(([, v]) => v === op)?.[0] ?? `opcode ${op}`;
/** Handshake timeout of the broker with accounts: an unauthenticated fuzz connection left waiting is closed by then. */
const SECURED_AUTH_TIMEOUT_MS = 500;

describe('wire fuzzing', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it.each([
    ['an open broker', false],
    ['a broker with accounts', true],
  ])(`%s survives ${FRAMES} fuzzed frames (seed ${SEED}) and then carries a normal workload`, async (_label, secured) => {
    const { namesrv, broker, warnings, unhandled, physical, as } = await setUp(cleanup, secured);
    const findings = await fuzz(broker.addr, FRAMES, physical, warnings, secured, broker);
    expect(findings.frames).toBeGreaterThanOrEqual(Math.min(FRAMES, 1000));
    expect(unhandled).toEqual([]);
    expect(findings.problems).toEqual([]);
    expect(findings.internalErrors).toEqual([]);
    // The broker still accounts for itself and has dropped every fuzz connection.
    await waitUntil(() => broker.stats().connections <= 3, 'the fuzz connections to be gone', 5000, 20);
    await normalWorkload(namesrv, cleanup, as);
    expect(unhandled).toEqual([]);
  });

  it(`survives ${FRAMES} fuzzed frames while ${STALLED_READERS} clients pipeline large pulls and never read; memory stays bounded, then a normal workload`, async () => {
    const { namesrv, broker, warnings, unhandled, physical, as } = await setUp(cleanup, false);
    // ~10 MB in queue 0: each of the stalled readers' pulls answers up to 8 MiB.
    const filler = new Producer({ namesrv: namesrv.addr });
    cleanup.push(() => filler.shutdown());
    const body = Buffer.alloc(32 * 1024, 0x66);
    for (let i = 0; i < 320; i += 16) {
      await filler.sendToQueue({ topic: TOPIC, brokerName: 'broker-fuzz', addr: broker.addr, queueId: 0 }, Array.from({ length: 16 }, () => ({ body })));
    }
    const before = process.memoryUsage().rss;
    let peak = before;
    const watch = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    cleanup.push(() => clearInterval(watch));
    // Each stalled reader: large pulls mixed with valid requests of every kind, all pipelined, never read.
    const rng = prng(SEED ^ 0x5eed);
    const stalled = await Promise.all(Array.from({ length: STALLED_READERS }, () => connectNeverReading(broker.addr)));
    cleanup.push(() => stalled.forEach((x) => x.destroy()));
    for (const x of stalled) {
      const frames: Buffer[] = [];
      for (let i = 0; i < STALLED_PULLS; i++) {
        frames.push(pullFrame(1_000_000 + i, { topic: TOPIC }));
        if (rng() < 0.5) {
          const v = validRequest(rng, physical);
          frames.push(encodeFrame({ opcode: v.opcode, flags: 0, requestId: 2_000_000 + i, status: 0 }, v.body));
        }
      }
      x.write(Buffer.concat(frames));
    }
    const findings = await fuzz(broker.addr, FRAMES, physical, warnings, false, broker);
    clearInterval(watch);
    const growth = peak - before;
    console.log(`[fuzz] ${STALLED_READERS} stalled readers x ${STALLED_PULLS} pulls of 8 MiB: process RSS +${(growth / 1024 / 1024).toFixed(0)} MB; refusals ${JSON.stringify(broker.stats().refusals)}`);
    expect(growth, 'memory growth with readers that never drain').toBeLessThan(300 * 1024 * 1024);
    expect(broker.stats().refusals?.outputBytes ?? 0).toBeGreaterThanOrEqual(1);
    expect(findings.frames).toBeGreaterThanOrEqual(Math.min(FRAMES, 1000));
    expect(unhandled).toEqual([]);
    expect(findings.problems).toEqual([]);
    expect(findings.internalErrors).toEqual([]);
    // The stalled readers still hold their connections; the rest are gone.
    expect(broker.stats().connections).toBeGreaterThanOrEqual(STALLED_READERS);
    await normalWorkload(namesrv, cleanup, as);
    expect(unhandled).toEqual([]);
  });
});
