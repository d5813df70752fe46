// The Consumer (listener style): subscribe to topics, get batches in a
// handler, return success or retry-later. Built on long-polling pulls; it
// commits an offset only after every message below it was handled
// (at-least-once). Clustering mode splits a topic's queues among the group's
// live members and rebalances when members come and go; broadcasting mode
// reads every queue. Ordered mode processes each queue one batch at a time,
// under a broker lock, so a queue is never in two consumers' hands.
import { ClientStateError, ConnectError, ConnectionClosedError, InvalidConfigError, MetaqError, RequestTimeoutError, GROUP_NAME_PATTERN, retryTopic } from '../common/index.js';
import type { RequestClient } from '../net/index.js';
import {
  ConsumeMode,
  decodeClientIds,
  decodeOffset,
  decodePullResponse,
  decodeQueueList,
  decodeQueueOffsets,
  encodeClientGroup,
  encodeCommitOffsets,
  encodeGroup,
  encodeHeartbeat,
  encodePullRequest,
  encodeQueryOffset,
  encodeQueueLock,
  encodeQueueRef,
  encodeSendBack,
  Opcode,
  Status,
  type Frame,
  type GroupMembership,
} from '../protocol/index.js';
import { allocateAveragely } from './allocate.js';
import { CLIENT_DEFAULTS, defaultClientId, namesrvList, positiveOption, type ClientOptions } from './client-options.js';
import { ConnectionPool } from './connection-pool.js';
import { ProcessQueue, type Batch } from './process-queue.js';
import { splitRecords, type ReceivedMessage } from './received-message.js';
import { TopicRoutes, type MessageQueue } from './topic-routes.js';

export type ConsumeResult = 'success' | 'retry';

export interface ConsumeContext {
  queue: MessageQueue;
}

/** Returns 'retry' (or throws) to have the batch re-delivered later; anything else is success. */
export type MessageHandler = (messages: ReceivedMessage[], ctx: ConsumeContext) => ConsumeResult | void | Promise<ConsumeResult | void>;

export interface ConsumerOptions extends ClientOptions {
  group: string;
  /** Default 'clustering'. */
  mode?: 'clustering' | 'broadcasting';
  /** One batch at a time per queue, in queue order, under a broker lock. Default false. */
  ordered?: boolean;
  /** Where a queue starts when the group never committed on it. Default 'first'. */
  consumeFrom?: 'first' | 'last';
  /** Most messages per handler call. Default 32. */
  batchSize?: number;
  /** Handler calls in flight at once. Default 4. */
  concurrency?: number;
  /** Most messages per pull. Default 256. */
  pullBatchSize?: number;
  /** How long the broker may hold a pull at the end of a queue. Default 5000 ms. */
  pollTimeoutMs?: number;
  /** Pulled-but-unhandled messages per queue before pulling pauses (bounds memory). Default 2048. */
  maxBufferedPerQueue?: number;
  /** Default 2000 ms; must stay well under the broker's consumerTimeoutMs. */
  heartbeatIntervalMs?: number;
  /** Periodic rebalance (besides the broker's change notices). Default 5000 ms. */
  rebalanceIntervalMs?: number;
  /** How often progress is committed. Default 1000 ms. */
  commitIntervalMs?: number;
  /** Re-deliveries before a message goes to the dead-letter topic. Default 5. */
  maxReconsumeTimes?: number;
  /** Pause before an ordered (or broadcasting) consumer retries a failed batch in place. Default 1000 ms. */
  localRetryDelayMs?: number;
  /**
   * Reading from a master's slave: 'fallback' (default) when the master is
   * unreachable, 'prefer' always when there is one (offloads a busy master),
   * 'never'.
   */
  readFromSlave?: 'fallback' | 'prefer' | 'never';
}

interface Subscribed {
  topic: string;
  tags: string[];
  /** Exact client-side filter (the broker filters by tag hash). */
  accepts: (tags: string | undefined) => boolean;
}

const PULL_ERROR_BACKOFF_MS = 1000;
/** After a master failed a read, its slave serves reads this long before the master is tried again. */
const MASTER_RETRY_AFTER_MS = 5000;
const LOCK_RETRY_MS = 500;

function parseTags(tags: string | readonly string[] | undefined): string[] {
  if (tags === undefined) return [];
  const list = typeof tags === 'string' ? tags.split('||') : [...tags];
  const clean = list.map((t) => t.trim()).filter((t) => t !== '');
  return clean.includes('*') ? [] : clean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Consumer {
  readonly group: string;
  readonly clientId: string;
  readonly #mode: ConsumeMode;
  readonly #ordered: boolean;
  readonly #o: Required<Omit<ConsumerOptions, 'namesrv' | 'clientId' | 'mode' | 'ordered' | 'group'>>;
  /** Per broker name: until when reads go to its slave because the master failed. */
  readonly #masterDownUntil = new Map<string, number>();
  readonly #pool: ConnectionPool;
  readonly #routes: TopicRoutes;
  readonly #subs = new Map<string, Subscribed>();
  readonly #queues = new Map<string, ProcessQueue>();
  #handler: MessageHandler | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #timers: NodeJS.Timeout[] = [];
  #active = 0;
  #rr = 0;
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;
  /** Errors the consumer recovered from (for tools and tests); the last few. */
  readonly errors: Error[] = [];

  constructor(options: ConsumerOptions) {
    if (typeof options.group !== 'string' || !GROUP_NAME_PATTERN.test(options.group)) {
      throw new InvalidConfigError(`group must be 1-100 of [A-Za-z0-9_-], got ${JSON.stringify(options.group)}`);
    }
    const mode = options.mode ?? 'clustering';
    if (mode !== 'clustering' && mode !== 'broadcasting') throw new InvalidConfigError(`mode must be clustering or broadcasting, got ${JSON.stringify(mode)}`);
    const consumeFrom = options.consumeFrom ?? 'first';
    if (consumeFrom !== 'first' && consumeFrom !== 'last') throw new InvalidConfigError(`consumeFrom must be first or last, got ${JSON.stringify(consumeFrom)}`);
    this.group = options.group;
    this.clientId = options.clientId ?? defaultClientId();
    this.#mode = mode === 'clustering' ? ConsumeMode.Clustering : ConsumeMode.Broadcasting;
    this.#ordered = options.ordered ?? false;
    const requestTimeoutMs = positiveOption('requestTimeoutMs', options.requestTimeoutMs, CLIENT_DEFAULTS.requestTimeoutMs);
    this.#o = {
      requestTimeoutMs,
      routeRefreshMs: positiveOption('routeRefreshMs', options.routeRefreshMs, CLIENT_DEFAULTS.routeRefreshMs),
      consumeFrom,
      batchSize: positiveOption('batchSize', options.batchSize, 32),
      concurrency: positiveOption('concurrency', options.concurrency, 4),
      pullBatchSize: positiveOption('pullBatchSize', options.pullBatchSize, 256),
      pollTimeoutMs: positiveOption('pollTimeoutMs', options.pollTimeoutMs, 5000, 0),
      maxBufferedPerQueue: positiveOption('maxBufferedPerQueue', options.maxBufferedPerQueue, 2048),
      heartbeatIntervalMs: positiveOption('heartbeatIntervalMs', options.heartbeatIntervalMs, 2000),
      rebalanceIntervalMs: positiveOption('rebalanceIntervalMs', options.rebalanceIntervalMs, 5000),
      commitIntervalMs: positiveOption('commitIntervalMs', options.commitIntervalMs, 1000),
      maxReconsumeTimes: positiveOption('maxReconsumeTimes', options.maxReconsumeTimes, 5, 0),
      localRetryDelayMs: positiveOption('localRetryDelayMs', options.localRetryDelayMs, 1000, 0),
      readFromSlave: options.readFromSlave ?? 'fallback',
    };
    if (!['fallback', 'prefer', 'never'].includes(this.#o.readFromSlave)) {
      throw new InvalidConfigError(`readFromSlave must be fallback, prefer or never, got ${JSON.stringify(this.#o.readFromSlave)}`);
    }
    this.#pool = new ConnectionPool((_addr, f) => this.#onNotify(f));
    this.#routes = new TopicRoutes(this.#pool, namesrvList(options.namesrv), requestTimeoutMs, this.#o.routeRefreshMs);
    this.#routes.onChange = () => this.#requestRebalance();
  }

  /** Subscribes to a topic; `tags` is '*' (default), 'a || b', or a list. Call before start. */
  subscribe(topic: string, tags: string | readonly string[] = '*'): this {
    if (this.#state !== 'new') throw new ClientStateError('subscribe before start()');
    const list = parseTags(tags);
    const set = new Set(list);
    this.#subs.set(topic, { topic, tags: list, accepts: set.size === 0 ? () => true : (t) => t !== undefined && set.has(t) });
    return this;
  }

  /** Starts consuming; resolves once the first rebalance is done. */
  async start(handler: MessageHandler): Promise<void> {
    if (this.#state !== 'new') throw new ClientStateError(`consumer is ${this.#state}`);
    if (this.#subs.size === 0) throw new ClientStateError('subscribe to at least one topic before start()');
    this.#handler = handler;
    this.#state = 'running';
    // Re-deliveries come back through the group's retry topic (clustering only).
    if (this.#mode === ConsumeMode.Clustering && !this.#ordered) {
      this.#subs.set(retryTopic(this.group), { topic: retryTopic(this.group), tags: [], accepts: () => true });
    }
    await Promise.all([...this.#subs.keys()].map((t) => this.#routes.queues(t).catch(() => undefined)));
    await this.#heartbeat();
    await this.#rebalance();
    this.#every(this.#o.heartbeatIntervalMs, () => void this.#heartbeat());
    this.#every(this.#o.rebalanceIntervalMs, () => this.#requestRebalance());
    this.#every(this.#o.commitIntervalMs, () => void this.#commitAll());
    if (this.#ordered) this.#every(Math.max(LOCK_RETRY_MS, Math.floor(this.#o.rebalanceIntervalMs / 2)), () => void this.#renewLocks());
  }

  /** Queues this consumer owns now (and, for ordered consumers, holds the lock of). */
  assignment(): MessageQueue[] {
    return [...this.#queues.values()].filter((pq) => !pq.dropped && (!this.#ordered || pq.locked)).map((pq) => pq.mq);
  }

  /** Stops pulling, lets in-flight handler calls finish, commits, leaves the group. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (wasRunning) {
      await this.#rebalancing?.catch(() => undefined);
      const queues = [...this.#queues.values()];
      for (const pq of queues) pq.drop();
      await Promise.all(queues.map((pq) => pq.idle()));
      await this.#commitAll().catch(() => undefined);
      if (this.#ordered) await Promise.all(queues.map((pq) => this.#unlock(pq).catch(() => undefined)));
      await this.#unregister();
    }
    this.#queues.clear();
    this.#routes.close();
    this.#pool.close();
    this.#state = 'stopped';
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #note(err: unknown): void {
    this.errors.push(err instanceof Error ? err : new Error(String(err)));
    if (this.errors.length > 20) this.errors.shift();
  }

  #offsetGroup(): string {
    // Broadcasting members each keep their own progress.
    return this.#mode === ConsumeMode.Broadcasting ? `${this.group}@${this.clientId}` : this.group;
  }

  #membership(): GroupMembership[] {
    return [
      {
        group: this.group,
        mode: this.#mode,
        ordered: this.#ordered,
        subscriptions: [...this.#subs.values()].map((s) => ({ topic: s.topic, tags: s.tags })),
      },
    ];
  }

  /** Brokers serving the subscribed topics, as last routed. */
  #brokerAddrs(): string[] {
    const addrs = new Set<string>();
    for (const topic of this.#subs.keys()) {
      const queues = this.#routes.cachedQueues(topic) ?? [];
      for (const q of queues) addrs.add(q.addr);
    }
    return [...addrs];
  }

  async #heartbeat(): Promise<void> {
    const body = encodeHeartbeat({ clientId: this.clientId, groups: this.#membership() });
    await Promise.all(
      this.#brokerAddrs().map(async (addr) => {
        try {
          const c = await this.#pool.get(addr);
          await c.call(Opcode.Heartbeat, body, this.#o.requestTimeoutMs);
        } catch (err) {
          this.#note(err);
        }
      }),
    );
  }

  async #unregister(): Promise<void> {
    const body = encodeClientGroup({ clientId: this.clientId, group: this.group });
    await Promise.all(
      this.#brokerAddrs().map(async (addr) => {
        const c = this.#pool.current(addr);
        if (c !== undefined) await c.call(Opcode.UnregisterClient, body, this.#o.requestTimeoutMs).catch(() => undefined);
      }),
    );
  }

  #onNotify(f: Frame): void {
    if (f.opcode === Opcode.NotifyConsumersChanged) this.#requestRebalance();
  }

  #requestRebalance(): void {
    if (this.#state !== 'running') return;
    void this.#rebalance();
  }

  /** Runs a rebalance, or (if one is running) makes it go round once more and returns it. */
  #rebalance(): Promise<void> {
    if (this.#rebalancing !== undefined) {
      this.#rebalanceAgain = true;
      return this.#rebalancing;
    }
    const run = async (): Promise<void> => {
      do {
        this.#rebalanceAgain = false;
        for (const topic of this.#subs.keys()) {
          try {
            await this.#rebalanceTopic(topic);
          } catch (err) {
            this.#note(err);
          }
        }
      } while (this.#rebalanceAgain && this.#state === 'running');
    };
    this.#rebalancing = run().finally(() => {
      this.#rebalancing = undefined;
    });
    return this.#rebalancing;
  }

  async #rebalanceTopic(topic: string): Promise<void> {
    const all = await this.#routes.queues(topic).catch(() => [] as MessageQueue[]);
    let mine: MessageQueue[];
    if (this.#mode === ConsumeMode.Broadcasting) {
      mine = all;
    } else {
      const members = all.length === 0 ? [] : await this.#members(all[0]!.addr);
      mine = allocateAveragely(all, members, this.clientId);
    }
    const wanted = new Set(mine.map(queueKey));
    // Let go of queues no longer ours first, so that their next owner can lock them.
    for (const [k, pq] of this.#queues) {
      if (pq.mq.topic === topic && !wanted.has(k)) {
        this.#queues.delete(k);
        await this.#release(pq);
      }
    }
    for (const mq of mine) {
      const k = queueKey(mq);
      if (this.#state !== 'running') return;
      if (this.#queues.has(k)) continue;
      if (this.#ordered && !(await this.#lock(mq))) continue; // still held by its previous owner: next round
      const start = await this.#startOffset(mq);
      if (this.#state !== 'running') return;
      const pq = new ProcessQueue(mq, start);
      pq.locked = this.#ordered;
      pq.committed = start;
      this.#queues.set(k, pq);
      void this.#pullLoop(pq);
    }
    if (this.#ordered && mine.some((mq) => !this.#queues.has(queueKey(mq)))) {
      setTimeout(() => this.#requestRebalance(), LOCK_RETRY_MS).unref();
    }
  }

  async #members(addr: string): Promise<string[]> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.GetConsumers, encodeGroup(this.group), this.#o.requestTimeoutMs);
    return decodeClientIds(f.body);
  }

  /** Stops a queue: no more pulls, wait for its handler calls, commit its offset, unlock it. */
  async #release(pq: ProcessQueue): Promise<void> {
    pq.drop();
    await pq.idle();
    await this.#commit([pq]).catch((err: unknown) => this.#note(err));
    if (this.#ordered) await this.#unlock(pq).catch((err: unknown) => this.#note(err));
  }

  async #lock(mq: MessageQueue): Promise<boolean> {
    const c = await this.#pool.get(mq.addr);
    const f = await c.call(Opcode.LockQueues, encodeQueueLock({ group: this.group, clientId: this.clientId, queues: [{ topic: mq.topic, queueId: mq.queueId }] }), this.#o.requestTimeoutMs);
    return decodeQueueList(f.body).length === 1;
  }

  async #unlock(pq: ProcessQueue): Promise<void> {
    pq.locked = false;
    const c = await this.#pool.get(pq.mq.addr);
    await c.call(Opcode.UnlockQueues, encodeQueueLock({ group: this.group, clientId: this.clientId, queues: [{ topic: pq.mq.topic, queueId: pq.mq.queueId }] }), this.#o.requestTimeoutMs);
  }

  /** Renews the locks of owned ordered queues; a queue whose lock was lost stops at once. */
  async #renewLocks(): Promise<void> {
    const byAddr = new Map<string, ProcessQueue[]>();
    for (const pq of this.#queues.values()) {
      if (pq.dropped) continue;
      const list = byAddr.get(pq.mq.addr) ?? [];
      list.push(pq);
      byAddr.set(pq.mq.addr, list);
    }
    for (const [addr, list] of byAddr) {
      try {
        const c = await this.#pool.get(addr);
        const f = await c.call(Opcode.LockQueues, encodeQueueLock({ group: this.group, clientId: this.clientId, queues: list.map((pq) => ({ topic: pq.mq.topic, queueId: pq.mq.queueId })) }), this.#o.requestTimeoutMs);
        // The broker answers (topic, queueId) pairs: all of this broker.
        const held = new Set(decodeQueueList(f.body).map((q) => `${q.topic}/${q.queueId}`));
        for (const pq of list) {
          if (!held.has(`${pq.mq.topic}/${pq.mq.queueId}`)) {
            this.#queues.delete(queueKey(pq.mq));
            pq.drop();
            pq.locked = false;
          }
        }
      } catch (err) {
        this.#note(err);
      }
    }
  }

  /** Where reads (pulls, offset queries, commits) of a queue go now: its master or its slave. */
  #readAddr(mq: MessageQueue): string {
    const slave = mq.slaveAddr;
    if (slave === undefined || this.#o.readFromSlave === 'never') return mq.addr;
    if (this.#o.readFromSlave === 'prefer') return slave;
    return (this.#masterDownUntil.get(mq.brokerName) ?? 0) > Date.now() ? slave : mq.addr;
  }

  /** A read from `addr` failed with a connection-level error: if it was a master with a slave, read from the slave for a while. */
  #readFailed(mq: MessageQueue, addr: string, err: unknown): void {
    if (mq.slaveAddr === undefined || addr !== mq.addr || this.#o.readFromSlave === 'never') return;
    if (err instanceof ConnectError || err instanceof ConnectionClosedError || err instanceof RequestTimeoutError) {
      this.#masterDownUntil.set(mq.brokerName, Date.now() + MASTER_RETRY_AFTER_MS);
    }
  }

  async #startOffset(mq: MessageQueue): Promise<number> {
    const addr = this.#readAddr(mq);
    let c: RequestClient;
    try {
      c = await this.#pool.get(addr);
    } catch (err) {
      this.#readFailed(mq, addr, err);
      throw err;
    }
    const f = await c.call(Opcode.QueryOffset, encodeQueryOffset({ group: this.#offsetGroup(), topic: mq.topic, queueId: mq.queueId }), this.#o.requestTimeoutMs);
    if (f.status === Status.Ok) return decodeOffset(f.body);
    const o = decodeQueueOffsets((await c.call(Opcode.QueueOffsets, encodeQueueRef(mq), this.#o.requestTimeoutMs)).body);
    return this.#o.consumeFrom === 'last' && !mq.topic.startsWith('%') ? o.maxOffset : o.minOffset;
  }

  async #pullLoop(pq: ProcessQueue): Promise<void> {
    const sub = this.#subs.get(pq.mq.topic)!;
    let client: RequestClient | undefined;
    while (!pq.dropped && this.#state === 'running') {
      const room = pq.waitForRoom(this.#o.maxBufferedPerQueue);
      if (room !== undefined) {
        await room;
        continue;
      }
      const addr = this.#readAddr(pq.mq);
      pq.readAddr = addr;
      try {
        client = await this.#pool.get(addr);
        const consumed = pq.consumedOffset();
        const body = encodePullRequest({
          group: this.#offsetGroup(),
          topic: pq.mq.topic,
          queueId: pq.mq.queueId,
          offset: pq.nextPullOffset,
          maxCount: this.#o.pullBatchSize,
          maxBytes: 4 * 1024 * 1024,
          pollTimeoutMs: this.#o.pollTimeoutMs,
          commitOffset: consumed > pq.committed ? consumed : undefined,
          tags: sub.tags,
        });
        const f = await client.call(Opcode.Pull, body, this.#o.pollTimeoutMs + this.#o.requestTimeoutMs);
        if (consumed > pq.committed) pq.committed = consumed;
        if (pq.dropped) break;
        const res = decodePullResponse(f.body);
        if (f.status === Status.Ok) {
          const all = splitRecords(res.records, res.count, pq.mq.brokerName, addr);
          const kept = sub.tags.length === 0 ? all : all.filter((m) => sub.accepts(m.tags));
          pq.add(kept, res.nextOffset);
          this.#pump();
        } else {
          if (f.status === Status.OffsetMoved || f.status === Status.OffsetOverflow) {
            this.#note(new MetaqError(`${pq.mq.topic}:${pq.mq.queueId} offset ${pq.nextPullOffset} is out of range; moving to ${res.nextOffset}`));
          }
          pq.nextPullOffset = res.nextOffset;
        }
      } catch (err) {
        if (pq.dropped || this.#state !== 'running') break;
        this.#note(err);
        this.#readFailed(pq.mq, addr, err);
        // Straight to the slave when there is one to fall back to; otherwise back off.
        if (this.#readAddr(pq.mq) === addr) await sleep(PULL_ERROR_BACKOFF_MS);
      }
    }
  }

  /** Hands buffered batches to the handler while concurrency allows, round-robin over queues. */
  #pump(): void {
    if (this.#state !== 'running') return;
    const queues = [...this.#queues.values()];
    if (queues.length === 0) return;
    let idleRounds = 0;
    while (this.#active < this.#o.concurrency && idleRounds < queues.length) {
      const pq = queues[this.#rr++ % queues.length]!;
      if (pq.dropped || (this.#ordered && (pq.inFlight > 0 || Date.now() < pq.suspendedUntil))) {
        idleRounds++;
        continue;
      }
      const batch = pq.take(this.#o.batchSize);
      if (batch === undefined) {
        idleRounds++;
        continue;
      }
      idleRounds = 0;
      this.#active++;
      void this.#run(batch);
    }
  }

  async #run(batch: Batch): Promise<void> {
    const pq = batch.pq;
    let result: ConsumeResult;
    try {
      const r = await this.#handler!(batch.messages, { queue: pq.mq });
      result = r === 'retry' ? 'retry' : 'success';
    } catch (err) {
      this.#note(err);
      result = 'retry';
    }
    if (result === 'success') {
      pq.done(batch);
    } else if (this.#ordered || this.#mode === ConsumeMode.Broadcasting) {
      await this.#retryInPlace(batch);
    } else {
      await this.#sendBack(batch);
    }
    this.#active--;
    this.#pump();
  }

  /** Ordered and broadcasting consumers retry a failed batch themselves, keeping its place. */
  async #retryInPlace(batch: Batch): Promise<void> {
    const pq = batch.pq;
    if (batch.attempts >= this.#o.maxReconsumeTimes) {
      // Gave up: ordered messages go to the dead-letter topic; broadcasting ones are dropped.
      if (this.#mode === ConsumeMode.Clustering) await this.#sendBack(batch, true);
      else pq.done(batch);
      return;
    }
    pq.suspendedUntil = Date.now() + this.#o.localRetryDelayMs;
    pq.retryLater(batch);
    setTimeout(() => this.#pump(), this.#o.localRetryDelayMs).unref();
  }

  /** Hands failed messages to the broker's retry; if that fails, runs the batch again locally. */
  async #sendBack(batch: Batch, toDeadLetter = false): Promise<void> {
    const pq = batch.pq;
    try {
      const c = await this.#pool.get(pq.mq.addr);
      await Promise.all(
        batch.messages.map((m) =>
          c.call(
            Opcode.SendBack,
            encodeSendBack({ group: this.group, physicalOffset: m.physicalOffset, maxReconsumeTimes: this.#o.maxReconsumeTimes, toDeadLetter }),
            this.#o.requestTimeoutMs,
          ),
        ),
      );
      pq.done(batch);
    } catch (err) {
      this.#note(err);
      pq.suspendedUntil = Date.now() + this.#o.localRetryDelayMs;
      pq.retryLater(batch);
      setTimeout(() => this.#pump(), this.#o.localRetryDelayMs).unref();
    }
  }

  #commitAll(): Promise<void> {
    return this.#commit([...this.#queues.values()]);
  }

  /** Commits the consumed offset of each queue that moved, one request per broker. */
  async #commit(queues: readonly ProcessQueue[]): Promise<void> {
    const byAddr = new Map<string, { pq: ProcessQueue; offset: number }[]>();
    for (const pq of queues) {
      const offset = pq.consumedOffset();
      if (offset <= pq.committed) continue;
      // Where the queue is read from now: a slave takes commits while its master is down.
      const addr = pq.readAddr ?? pq.mq.addr;
      const list = byAddr.get(addr) ?? [];
      list.push({ pq, offset });
      byAddr.set(addr, list);
    }
    await Promise.all(
      [...byAddr].map(async ([addr, list]) => {
        const c = await this.#pool.get(addr);
        const body = encodeCommitOffsets({ group: this.#offsetGroup(), entries: list.map((e) => ({ topic: e.pq.mq.topic, queueId: e.pq.mq.queueId, offset: e.offset })) });
        await c.call(Opcode.CommitOffsets, body, this.#o.requestTimeoutMs);
        for (const e of list) if (e.offset > e.pq.committed) e.pq.committed = e.offset;
      }),
    );
  }
}

function queueKey(mq: { topic: string; queueId: number; brokerName?: string }): string {
  return `${mq.brokerName ?? ''}/${mq.topic}/${mq.queueId}`;
}
