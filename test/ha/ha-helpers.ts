// Shared pieces of the replication tests: brokers in child processes (killed
// with SIGKILL), a seeded load generator that records the outcome of every
// send, self-checking message bodies, whole-queue reads through a broker's
// wire protocol, and a byte-for-byte comparison of two CommitLogs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { Broker, type BrokerConfig } from '../../src/broker/index.js';
import { MalformedFrameError } from '../../src/common/index.js';
import { Admin, type BrokerStats, type Consumer, type MessageQueue, type Producer, type SendStatus } from '../../src/client/index.js';
import type { HaMasterStats, HaSlaveStats } from '../../src/ha/index.js';
import type { MessageStore, MessageStoreConfig } from '../../src/store/index.js';
import { spawnTs, type RunningChild } from '../helpers/child.js';
import { FAST_BROKER } from '../helpers/cluster.js';
import { startClosedLoop, type ClosedLoop } from '../../src/load/index.js';
import { bytesFor, randomInt, seedOf } from '../helpers/messages.js';
import { sleep } from '../helpers/wait.js';

const BROKER_PROCESS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'broker-process.ts');

/**
 * Store settings of every broker in these tests: small segments (a run of a
 * few seconds rolls over several, so replication crosses segment ends and
 * their blank markers) and a message size limit that small segments allow.
 */
export const HA_STORE = { segmentSize: 2 * 1024 * 1024, maxMessageSize: 64 * 1024 } as const satisfies Partial<MessageStoreConfig>;

/** A master's view of replication (for stats().ha of a master, in-process or from Admin.stats). */
export function masterHa(stats: Pick<BrokerStats, 'ha'>): HaMasterStats {
  const ha = stats.ha;
  if (ha === undefined || !('writtenOffset' in ha)) throw new Error(`not a master's replication stats: ${JSON.stringify(stats.ha)}`);
  return ha;
}

/** A slave's view of replication (for stats().ha of a slave, in-process or from Admin.stats). */
export function slaveHa(stats: Pick<BrokerStats, 'ha'>): HaSlaveStats {
  const ha = stats.ha;
  if (ha === undefined || !('truncations' in ha)) throw new Error(`not a slave's replication stats: ${JSON.stringify(stats.ha)}`);
  return ha;
}

/** Seed of a run: HA_SEED from the environment (to replay a failure), else random. */
export function runSeed(): number {
  const given = process.env.HA_SEED;
  return given !== undefined && given !== '' ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 31);
}

// ---- brokers in child processes ----

export interface BrokerProcess {
  addr: string;
  /** The master's replication listener (undefined for a slave). */
  haAddr: string | undefined;
  dir: string;
  running: RunningChild;
  /** Sends the signal (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Config of a broker of these tests (in a child or in this process): the shortened timings of useCluster, a free port, HA_STORE. */
export function haBrokerConfig(c: {
  ns: string;
  dir: string;
  brokerName: string;
  topics: Record<string, number>;
  role: 'master' | 'slave';
  replicationMode?: 'sync' | 'async';
  masterHaAddr?: string;
  slaveTimeoutMs?: number;
  flushMode?: 'sync' | 'async';
}): BrokerConfig {
  return {
    ...FAST_BROKER,
    brokerName: c.brokerName,
    port: 0,
    namesrvAddrs: [c.ns],
    topics: c.topics,
    role: c.role,
    replicationMode: c.replicationMode,
    masterHaAddr: c.masterHaAddr,
    slaveTimeoutMs: c.slaveTimeoutMs,
    store: { dir: c.dir, ...HA_STORE, flushMode: c.flushMode ?? 'async' },
  };
}

/**
 * Returns a starter of brokers in child processes; an afterEach kills
 * (SIGKILL) every one still running.
 */
export function useBrokerProcesses(): (config: BrokerConfig) => Promise<BrokerProcess> {
  const running: RunningChild[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
  });
  return async (config) => {
    let ready!: (line: string) => void;
    const first = new Promise<string>((resolve) => (ready = resolve));
    const r = spawnTs(BROKER_PROCESS, [JSON.stringify(config)], { onLine: (l) => ready(l) });
    running.push(r);
    const timeout = sleep(20_000).then(() => 'timeout' as const);
    const got = await Promise.race([first, r.exited.then(() => 'exited' as const), timeout]);
    if (got === 'exited' || got === 'timeout') {
      r.child.kill('SIGKILL');
      throw new Error(`broker process ${got === 'exited' ? 'exited' : 'did not start within 20 s'}:\n${r.stderr()}`);
    }
    const info = JSON.parse(got) as { addr: string; haAddr: string | null };
    return {
      addr: info.addr,
      haAddr: info.haAddr ?? undefined,
      dir: config.store.dir,
      running: r,
      async kill(signal = 'SIGKILL') {
        if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
        return r.exited;
      },
    };
  };
}

export interface LocalBroker {
  broker: Broker;
  /** What the broker logged (replication errors, reconnects, truncations). */
  warnings: string[];
}

/**
 * Returns a starter of brokers in this process that keeps what each logs; an
 * afterEach closes every one still open.
 */
export function useLocalBrokers(): (config: BrokerConfig) => Promise<LocalBroker> {
  const open: Broker[] = [];
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close().catch(() => undefined);
  });
  return async (config) => {
    const warnings: string[] = [];
    const broker = await Broker.start(config, { warn: (m, err) => warnings.push(`${m}${err instanceof Error ? `: ${err.message}` : ''}`) });
    open.push(broker);
    return { broker, warnings };
  };
}

// ---- message bodies ----

/**
 * The body of message `seq` of a run tagged `tag`: the tag and sequence number
 * (who sent it: producer and position) followed by filler bytes of a length
 * (0..299) and content derived from both, so any copy can be checked whole.
 */
export function bodyFor(tag: string, seq: number): string {
  const seed = seedOf(tag, seq);
  return `${tag}#${seq}#${bytesFor(seed, seed % 300).toString('base64')}`;
}

/** (tag, seq) of a body written by bodyFor, or undefined if it is not one or is damaged. */
export function parseBody(body: string): { tag: string; seq: number } | undefined {
  const m = /^([^#]+)#(\d+)#/.exec(body);
  if (m === null) return undefined;
  const tag = m[1]!;
  const seq = Number(m[2]);
  return bodyFor(tag, seq) === body ? { tag, seq } : undefined;
}

// ---- load ----

export interface SendRecord {
  /** Sequence number of the first message of the batch (the others follow). */
  first: number;
  count: number;
  startedAt: number;
  endedAt: number;
  status: SendStatus | 'ERROR';
  queueId: number;
  queueOffset: number;
  error?: string;
}

export interface LoadOptions {
  /** Sends in flight at once. */
  concurrency: number;
  /** Batches of 1..maxBatch messages. */
  maxBatch: number;
  /** Pause of each loop after each send (paces the load). Default 0. */
  pauseMs?: number;
}

/**
 * Sends batches of self-checking messages from a closed loop of `concurrency`
 * lanes (src/load) until stopped, recording the outcome of every send (a
 * failed send too).
 */
export class Load {
  readonly records: SendRecord[] = [];
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #tag: string;
  readonly #rng: () => number;
  readonly #o: LoadOptions;
  #next = 0;
  #stopped = false;
  #loop: ClosedLoop | undefined;
  #firstOk: Promise<void>;
  #onFirstOk!: () => void;

  constructor(producer: Producer, topic: string, tag: string, rng: () => number, o: LoadOptions) {
    this.#producer = producer;
    this.#topic = topic;
    this.#tag = tag;
    this.#rng = rng;
    this.#o = o;
    this.#firstOk = new Promise((resolve) => (this.#onFirstOk = resolve));
  }

  start(): this {
    this.#loop = startClosedLoop({ concurrency: this.#o.concurrency, send: () => this.#sendOne(), stopped: () => this.#stopped });
    return this;
  }

  /** Resolves at the first SEND_OK (fails after `timeoutMs`). */
  async firstOk(timeoutMs = 10_000): Promise<void> {
    const t = sleep(timeoutMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.#firstOk, t])) === 'timeout') {
      throw new Error(`no SEND_OK within ${timeoutMs} ms: ${JSON.stringify(this.countByStatus())}; last error: ${this.records.findLast((r) => r.error !== undefined)?.error}`);
    }
  }

  /** Stops sending and waits until every send in flight has its outcome. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop?.settled;
  }

  /** Sequence numbers handed out so far. */
  get sent(): number {
    return this.#next;
  }

  /** Messages per send outcome. */
  countByStatus(records: readonly SendRecord[] = this.records): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of records) out[r.status] = (out[r.status] ?? 0) + r.count;
    return out;
  }

  /** One send of the closed loop (then the lane's pause); its outcome, failure included, goes to records. */
  async #sendOne(): Promise<void> {
    const count = randomInt(this.#rng, 1, this.#o.maxBatch);
    const first = this.#next;
    this.#next += count;
    const batch = Array.from({ length: count }, (_, i) => ({ body: bodyFor(this.#tag, first + i) }));
    const startedAt = Date.now();
    try {
      const r = await this.#producer.send(this.#topic, batch);
      this.records.push({ first, count, startedAt, endedAt: Date.now(), status: r.status, queueId: r.queueId, queueOffset: r.queueOffset });
      if (r.status === 'SEND_OK') this.#onFirstOk();
      if (this.#o.pauseMs !== undefined && this.#o.pauseMs > 0) await sleep(this.#o.pauseMs);
    } catch (err) {
      this.records.push({ first, count, startedAt, endedAt: Date.now(), status: 'ERROR', queueId: -1, queueOffset: -1, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      await sleep(10);
    }
  }
}

// ---- reading a broker's queues through the wire ----

/** `queueId:queueOffset` of one message. */
export function posKey(queueId: number, queueOffset: number): string {
  return `${queueId}:${queueOffset}`;
}

/**
 * Runs `consumer` (not yet started) on `topic` until it has every message of
 * `acked`, then shuts it down: what it received, by queue position.
 */
export async function consumeAllAcked(
  consumer: Consumer,
  topic: string,
  acked: readonly Pick<SendRecord, 'queueId' | 'queueOffset' | 'count'>[],
  timeoutMs: number,
): Promise<{ want: Set<string>; got: Map<string, string> }> {
  const want = new Set<string>();
  for (const r of acked) for (let i = 0; i < r.count; i++) want.add(posKey(r.queueId, r.queueOffset + i));
  const got = new Map<string, string>();
  consumer.subscribe(topic);
  await consumer.start((messages) => {
    for (const m of messages) got.set(posKey(m.queueId, m.queueOffset), m.body.toString('utf8'));
  });
  await waitForAsync(() => [...want].every((k) => got.has(k)), `the consumer to get all ${want.size} acknowledged messages`, timeoutMs);
  await consumer.shutdown();
  return { want, got };
}

export interface QueueContents {
  /** Body per posKey. */
  bodies: Map<string, string>;
  /** Messages per queue (0..queueCount-1). */
  perQueue: number[];
  /** Physical (CommitLog) offset per posKey. */
  physical: Map<string, number>;
  /**
   * Pulls read again because the response arrived damaged (a malformed frame,
   * or a body that is not an intact message of the run) while a second read of
   * the same range was fine: damage on the way to this client, not in the
   * broker's store (see the frame reassembly test).
   */
  rereads: number;
}

/** Pulls are kept small: responses that span several socket reads can arrive damaged (see frame-reassembly.test.ts). */
const PULL_MAX_COUNT = 64;
const PULL_MAX_BYTES = 32 * 1024;

/**
 * Reads every queue of `topic` on the broker at `addr` with Admin.pull, from
 * offset 0 to its end, checking that offsets run 0, 1, 2, ... with no gap.
 * With `tag`, a pull whose bodies are not all intact messages of that run is
 * read once more (twice at most) before its result is taken as it is.
 */
export async function readAllQueues(admin: Admin, addr: string, brokerName: string, topic: string, queueCount: number, tag?: string): Promise<QueueContents> {
  const out: QueueContents = { bodies: new Map(), perQueue: [], physical: new Map(), rereads: 0 };
  for (let q = 0; q < queueCount; q++) {
    const mq: MessageQueue = { topic, brokerName, addr, queueId: q };
    let offset = 0;
    for (;;) {
      let r: Awaited<ReturnType<Admin['pull']>> | undefined;
      for (let attempt = 1; r === undefined; attempt++) {
        try {
          const got = await admin.pull(mq, offset, { maxCount: PULL_MAX_COUNT, maxBytes: PULL_MAX_BYTES });
          const intact = tag === undefined || got.messages.every((m) => parseBody(m.body.toString('utf8'))?.tag === tag);
          if (intact || attempt === 3) r = got;
          else out.rereads++;
        } catch (err) {
          if (!(err instanceof MalformedFrameError) || attempt === 3) throw err;
          out.rereads++;
        }
      }
      if (r.status === 'NO_NEW_MESSAGE') break;
      if (r.status !== 'FOUND') throw new Error(`${addr} ${topic}/${q}@${offset}: unexpected pull status ${r.status}`);
      for (const m of r.messages) {
        if (m.queueId !== q || m.queueOffset !== offset) throw new Error(`${addr} ${topic}/${q}: expected offset ${offset}, got ${m.queueId}@${m.queueOffset} (a gap)`);
        out.bodies.set(posKey(q, offset), m.body.toString('utf8'));
        out.physical.set(posKey(q, offset), m.physicalOffset);
        offset++;
      }
      expect(r.nextOffset).toBe(offset);
    }
    out.perQueue.push(offset);
  }
  return out;
}

export interface Presence {
  /** Messages of the records looked for. */
  expected: number;
  /** Found at their acknowledged position with the right body. */
  present: number;
  /** posKey -> seq of those not there (a few, for messages). */
  missing: string[];
  /** Present at the position but with another body. */
  wrong: string[];
}

/** Which messages of `records` the broker's queues hold where their sends said. */
export function presence(contents: QueueContents, tag: string, records: readonly SendRecord[]): Presence {
  const p: Presence = { expected: 0, present: 0, missing: [], wrong: [] };
  for (const r of records) {
    for (let i = 0; i < r.count; i++) {
      p.expected++;
      const k = posKey(r.queueId, r.queueOffset + i);
      const got = contents.bodies.get(k);
      if (got === undefined) p.missing.push(`${k}=#${r.first + i}`);
      else if (got !== bodyFor(tag, r.first + i)) p.wrong.push(`${k}: expected #${r.first + i}, got ${got.slice(0, 40)}`);
      else p.present++;
    }
  }
  return p;
}

/** Bodies on the broker that are not intact messages of this run. */
export function damaged(contents: QueueContents, tag: string): string[] {
  const out: string[] = [];
  for (const [k, body] of contents.bodies) {
    const parsed = parseBody(body);
    if (parsed === undefined || parsed.tag !== tag) out.push(`${k}: ${body.slice(0, 40)}`);
  }
  return out;
}

/** The queues of a topic as a fresh route lookup sees them now. */
export async function freshRoute(ns: string, topic: string): Promise<MessageQueue[]> {
  const admin = new Admin({ namesrv: ns });
  try {
    return await admin.queues(topic);
  } catch {
    return [];
  } finally {
    admin.close();
  }
}

/**
 * Waits until a slave (in this process) has dispatched all it may serve: what
 * it holds, capped at what its master said is durable there (a master that
 * died may have pushed more than it made durable; readers never see that).
 */
export async function waitSlaveDispatched(slave: Broker, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = slave.store.stats();
    const confirmed = s.flushMode === 'sync' ? s.flushedOffset : s.writtenOffset;
    const limit = Math.min(confirmed, slaveHa(slave.stats()).masterDurableOffset);
    if (s.dispatchedOffset >= limit) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the slave to dispatch up to ${limit} (at ${s.dispatchedOffset})`);
    await sleep(1);
  }
}

/** Polls an async condition until it holds. */
export async function waitForAsync(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Checks that `prefix`'s CommitLog is byte for byte the start of `full`'s,
 * record by record (blank markers included). Returns the bytes compared.
 */
export function expectLogPrefix(prefix: MessageStore, full: MessageStore, what: string): number {
  const end = prefix.writtenOffset;
  expect(full.writtenOffset, `${what}: the longer log ends before the shorter`).toBeGreaterThanOrEqual(end);
  let offset = prefix.stats().minOffset;
  while (offset < end) {
    const a = prefix.replicaLog.readLog(offset, 1 << 20);
    const b = full.replicaLog.readLog(offset, a?.bytes.length ?? 1);
    if (a === undefined || b === undefined) throw new Error(`${what}: nothing to read at log offset ${offset} (of ${end})`);
    if (a.nextOffset !== b.nextOffset || !a.bytes.equals(b.bytes)) {
      throw new Error(`${what}: logs differ in the chunk at ${offset} (${a.bytes.length} vs ${b.bytes.length} bytes, next ${a.nextOffset} vs ${b.nextOffset})`);
    }
    offset = a.nextOffset;
  }
  return end;
}

