// The broker: the message store behind the wire protocol. It answers sends
// and pulls (holding pulls at the end of a queue until messages arrive),
// keeps consumer groups, their offsets and queue locks, re-delivers failed
// messages, and registers its topics with the name servers.
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { GcPauses } from './gc-pauses.js';
import { GROUP_NAME_PATTERN, RefusalCounters, retryTopic, SCHEDULE_GROUP, SCHEDULE_TOPIC, TIMER_TOPIC, InvalidRequestError, NotFoundError, ServiceUnavailableError, UnknownQueueError, UnknownTopicError } from '../common/index.js';
import { connectionLimitsOf, RequestServer, type Handler, type RequestContext } from '../net/index.js';
import {
  ConsumeMode,
  decodeClientGroup,
  decodeCommitOffsets,
  decodeCreateTopic,
  decodeGroup,
  decodeHeartbeat,
  decodeOffsetForTimestamp,
  decodePullRequest,
  decodeQueryById,
  decodeQueryByKey,
  decodeQueryOffset,
  decodeQueueLock,
  decodeQueueRef,
  decodeResetOffsets,
  decodeSendBack,
  decodeSendRequest,
  decodeTransactionHalf,
  decodeEndTransaction,
  decodeProducerRegistration,
  encodeEndTransactionResponse,
  SendRequestView,
  encodeClientIds,
  encodeOffset,
  encodePullResponseHead,
  encodeQueueList,
  encodeQueueOffsets,
  encodeQueueResets,
  encodeRecordList,
  encodeSendResponse,
  encodeBrokerStats,
  BrokerRole,
  Opcode,
  Status,
  type BrokerStats,
  type BrokerRuntimeView,
  type Frame,
  type PullRequest,
  type TopicInfo,
} from '../protocol/index.js';
import { HaMaster, HaSlave } from '../ha/index.js';
import { Authenticator, loadAccountsFile, type Accounts } from '../security/index.js';
import { MessageStore, type GetResult } from '../store/index.js';
import { resolveBrokerConfig, type BrokerConfig, type ResolvedBrokerConfig } from './broker-config.js';
import { ConsumerGroups } from './consumer-groups.js';
import { ConsumerOffsets } from './consumer-offsets.js';
import { checkClientGroup, GroupOffsets } from './group-offsets.js';
import { LongPolls } from './long-poll.js';
import { QueueLocks } from './queue-locks.js';
import { loadBrokerTls, type BrokerTls } from './broker-tls.js';
import { Registrar } from './registrar.js';
import { RetryService } from './retry-service.js';
import { TimerService, type TimerStats } from './timer/index.js';
import { queryKeyBounded } from './key-query.js';
import { groupsOfTopics, ResourceLimits } from './resource-limits.js';
import { isTransactionTopic, TransactionService } from './transaction/index.js';
import { BrokerMonitor, brokerMetrics } from './metrics/index.js';
import { MetricsServer } from '../net/index.js';

/** A pull never returns more than this many messages, whatever it asks. */
const MAX_PULL_COUNT = 4096;
const MAX_PULL_BYTES = 8 * 1024 * 1024;
const MAINTENANCE_INTERVAL_MS = 1000;

const PULL_STATUS: Record<GetResult['status'], number> = {
  FOUND: Status.Ok,
  NO_NEW_MESSAGE: Status.NoNewMessage,
  NO_MATCHED_MESSAGE: Status.NoMatchedMessage,
  OFFSET_MOVED: Status.OffsetMoved,
  OFFSET_OVERFLOW: Status.OffsetOverflow,
  NO_SUCH_QUEUE: Status.NoNewMessage, // never sent: NO_SUCH_QUEUE becomes a typed error first
};

export interface BrokerLogger {
  warn(message: string, err?: unknown): void;
}

const consoleLogger: BrokerLogger = {
  warn: (message, err) => console.error(`metaq broker: ${message}${err instanceof Error ? `: ${err.message}` : ''}`),
};

/** What stats() reports, in-process and over the wire (BROKER_STATS): the protocol's type. */
export type { BrokerStats };

/** How the slave replicates: report and reconnect timings. */
const SLAVE_REPORT_INTERVAL_MS = 1000;
const SLAVE_RECONNECT_DELAY_MS = 500;
const OFFSETS_REPLICATION_INTERVAL_MS = 1000;
/** A slave not heard from for this long (three missed reports) is taken for dead when another handshakes. */
const SLAVE_SILENCE_MS = 3 * SLAVE_REPORT_INTERVAL_MS;
const SEND_STATUS = { confirmed: Status.Ok, timeout: Status.SlaveTimeout, 'no-slave': Status.SlaveNotAvailable } as const;

/** A SEND's topic: never one of the transaction service's or the timer's own, and within the sender's scope. */
function checkSendTopic(topic: string, ctx: RequestContext): void {
  if (isTransactionTopic(topic)) throw new InvalidRequestError(`topic ${topic} is the broker's own`);
  ctx.principal?.checkTopic(topic);
  TimerService.checkSendTopic(topic);
}

export class Broker {
  readonly config: ResolvedBrokerConfig;
  readonly #server: RequestServer;
  readonly #store: MessageStore;
  readonly #offsets: ConsumerOffsets;
  /** The rules for writing #offsets: range checks, internal groups, resets. */
  readonly #groupOffsets: GroupOffsets;
  readonly #groups = new ConsumerGroups();
  readonly #locks = new QueueLocks();
  readonly #polls: LongPolls;
  /** SEND requests read in place, one at a time (the store reads it before put returns). */
  readonly #sendView = new SendRequestView();
  /** Masters only: a slave's log is a copy, so it schedules no re-deliveries of its own. */
  readonly #retry: RetryService | undefined;
  /** Masters only: half messages, their ends and checks (transaction/). */
  readonly #tx: TransactionService | undefined;
  /** Masters only: delayed messages and re-deliveries (a slave holds the records, its master delivers them). */
  readonly #timer: TimerService | undefined;
  readonly #registrar: Registrar;
  readonly #maintenance: NodeJS.Timeout;
  readonly #log: BrokerLogger;
  /** GC pauses of this broker's isolate, for BROKER_STATS. */
  readonly #gc = new GcPauses();
  /** What this broker's limits and security checks refused, by limit name (BROKER_STATS refusals block). */
  readonly #refusals: RefusalCounters;
  /** Topics, queues, groups and key lookups clients may cost this broker. */
  readonly #limits: ResourceLimits;
  readonly #tls: BrokerTls;
  /** Rates, group lag and alert rules (BROKER_STATS monitor block, /metrics). */
  readonly #monitor: BrokerMonitor;
  #metrics: MetricsServer | undefined;
  #haMaster: HaMaster | undefined;
  #haSlave: HaSlave | undefined;
  #closing: Promise<void> | undefined;
  /** The accounts this broker takes (undefined: open). */
  #accounts: Accounts | undefined;

  private constructor(config: ResolvedBrokerConfig, server: RequestServer, store: MessageStore, log: BrokerLogger, refusals: RefusalCounters, tls: BrokerTls) {
    this.config = config;
    this.#tls = tls;
    this.#refusals = refusals;
    this.#polls = new LongPolls(config, refusals);
    this.#server = server;
    this.#store = store;
    this.#log = log;
    this.#offsets = new ConsumerOffsets(join(config.store.dir, 'config'));
    // A live member is told of a reset by its next pull: within a poll timeout, unless it is gone.
    this.#groupOffsets = new GroupOffsets({ store, offsets: this.#offsets, brokerName: config.brokerName, fenceMs: config.maxPollTimeoutMs + config.consumerTimeoutMs });
    for (const [topic, queues] of Object.entries(config.topics)) store.createTopic(topic, queues);
    this.#limits = new ResourceLimits(config, store, refusals, groupsOfTopics(store.topicNames()));
    this.#timer = config.role === 'slave' ? undefined : new TimerService({
      store,
      dir: join(config.store.dir, 'timer'),
      maxDelayMs: config.maxDelayMs,
      retentionMs: store.config.retentionMs,
      storeHost: config.host,
      storePort: server.port,
      onError: (err) => log.warn('delayed delivery', err),
      legacy: {
        delaysMs: config.retryDelaysMs,
        committed: (level) => this.#offsets.get(SCHEDULE_GROUP, SCHEDULE_TOPIC, level),
        commit: (level, offset) => this.#offsets.commit(SCHEDULE_GROUP, SCHEDULE_TOPIC, level, offset),
      },
    });
    this.#retry = this.#timer === undefined ? undefined : new RetryService({
      store,
      timer: this.#timer,
      delaysMs: config.retryDelaysMs,
      maxReconsumeTimes: config.maxReconsumeTimes,
      queueCount: config.retryQueueCount,
      storeHost: config.host,
      storePort: server.port,
      // A group's retry and dead-letter topics are made for groups within maxGroups only.
      createTopic: (topic, queueCount, group) => {
        this.#limits.admitGroups([group], false);
        return this.createTopic(topic, queueCount);
      },
    });
    this.#tx = config.role === 'slave' ? undefined : new TransactionService({
      store,
      offsets: this.#offsets,
      brokerName: config.brokerName,
      transactionTimeoutMs: config.transactionTimeoutMs,
      transactionCheckIntervalMs: config.transactionCheckIntervalMs,
      transactionCheckMax: config.transactionCheckMax,
      producerTimeoutMs: config.consumerTimeoutMs,
      waitForSlave: (end) => this.#haMaster!.waitForSlave(end),
      onError: (message, err) => log.warn(message, err),
    });
    this.#groups.onLeave = (group, clientId) => this.#locks.releaseAll(group, clientId);
    store.onArrival((topic, queueId, maxOffset) => this.#polls.arrived(topic, queueId, maxOffset));
    this.#registrar = new Registrar({
      brokerName: config.brokerName,
      addr: this.addr,
      role: config.role === 'master' ? BrokerRole.Master : BrokerRole.Slave,
      namesrvAddrs: config.namesrvAddrs,
      intervalMs: config.registerIntervalMs,
      tls: tls.namesrv,
      topics: () => this.#topicInfos(),
      maxFrameSize: config.maxFrameSize,
      onError: (err, ns) => log.warn(`registration with name server ${ns} failed`, err),
      credential: config.credential,
    });
    this.#maintenance = setInterval(() => this.#maintain(), Math.min(MAINTENANCE_INTERVAL_MS, config.offsetPersistIntervalMs));
    this.#maintenance.unref();
    this.#monitor = new BrokerMonitor(config.brokerName, {
      store,
      offsets: () => this.#offsets.snapshot(),
      ha: () => this.#haMaster?.stats() ?? this.#haSlave?.stats(),
      rules: config.alerts,
      intervalMs: config.monitorIntervalMs,
      log: (line) => log.warn(line),
    });
  }

  /** Opens the store, listens, registers with the name servers. */
  static async start(config: BrokerConfig, log: BrokerLogger = consoleLogger): Promise<Broker> {
    const c = resolveBrokerConfig(config);
    const tls = loadBrokerTls(c);
    // Listen first: the store stamps message ids with the real port (which may be ephemeral).
    let broker: Broker | undefined;
    const handlers = new Map<number, Handler>();
    const refusals = new RefusalCounters();
    const accounts = c.credentialsFile === undefined ? undefined : loadAccountsFile(c.credentialsFile);
    const server = await RequestServer.listen({
      refusals,
      tls: tls.server,
      limits: connectionLimitsOf(c),
      authenticator: accounts === undefined ? undefined : new Authenticator({ accounts, roles: ['admin', 'producer', 'consumer'], what: `broker ${c.brokerName}` }),
      authTimeoutMs: c.authTimeoutMs,
      host: c.host,
      port: c.port,
      maxFrameSize: c.maxFrameSize,
      handlers,
      onInternalError: (err, f) => log.warn(`request ${f.opcode} failed`, err),
    });
    let store: MessageStore;
    try {
      store = await MessageStore.open({ ...c.store, storeHost: c.host, storePort: server.port });
    } catch (err) {
      await server.close();
      throw err;
    }
    try {
      broker = new Broker(c, server, store, log, refusals, tls);
    } catch (err) {
      await store.close();
      await server.close();
      throw err;
    }
    broker.#accounts = accounts;
    try {
      await broker.#startReplication();
    } catch (err) {
      await broker.close();
      throw err;
    }
    broker.#monitor.start();
    if (c.metricsPort !== undefined) {
      try {
        broker.#metrics = await MetricsServer.listen({ host: c.metricsHost, port: c.metricsPort, source: brokerMetrics(() => broker.stats()), onError: (err) => log.warn('rendering /metrics failed', err) });
      } catch (err) {
        await broker.close();
        throw err;
      }
    }
    broker.#installHandlers(handlers);
    await broker.#registrar.registerAll();
    return broker;
  }

  get port(): number {
    return this.#server.port;
  }

  /** host:port of the replication listener (masters), for slaves' masterHaAddr. */
  /** host:port of the /metrics listener, when metricsPort is set. */
  get metricsAddr(): string | undefined {
    return this.#metrics?.addr;
  }

  /** Reads the monitor's figures and evaluates the alert rules now (tests; the timer does it every monitorIntervalMs). */
  refreshMonitor(): Promise<void> {
    return this.#monitor.tick();
  }

  get haAddr(): string | undefined {
    return this.#haMaster === undefined ? undefined : `${this.config.host}:${this.#haMaster.port}`;
  }

  async #startReplication(): Promise<void> {
    const c = this.config;
    if (c.role === 'master') {
      this.#haMaster = await HaMaster.start({
        log: this.#store.replicaLog,
        host: c.host,
        port: c.haPort,
        tls: this.#tls.ha,
        refusals: this.#refusals,
        maxFrameSize: c.maxFrameSize,
        mode: c.replicationMode,
        slaveTimeoutMs: c.slaveTimeoutMs,
        maxLagBytes: c.maxSlaveLagBytes,
        offsets: () => this.#offsets.snapshot(),
        offsetsIntervalMs: OFFSETS_REPLICATION_INTERVAL_MS,
        onError: (err) => this.#log.warn('replication', err),
        onOffsets: (snapshot) => this.#offsets.apply(snapshot),
        slaveSilenceMs: SLAVE_SILENCE_MS,
        limits: connectionLimitsOf(c),
        authenticator: this.#accounts === undefined ? undefined : new Authenticator({ accounts: this.#accounts, roles: ['replica'], what: `replication port of broker ${c.brokerName}` }),
        authTimeoutMs: c.authTimeoutMs,
      });
    } else {
      this.#haSlave = new HaSlave({
        log: this.#store.replicaLog,
        masterHaAddr: c.masterHaAddr!,
        tls: this.#tls.master,
        onOffsets: (snapshot) => this.#offsets.apply(snapshot),
        offsets: () => this.#offsets.snapshot(),
        onError: (err) => this.#log.warn('replication', err),
        reportIntervalMs: SLAVE_REPORT_INTERVAL_MS,
        reconnectDelayMs: SLAVE_RECONNECT_DELAY_MS,
        credential: c.replicaCredential,
      });
    }
  }

  /** host:port that clients use. */
  get addr(): string {
    return `${this.config.host}:${this.#server.port}`;
  }

  /** The store, for tools and tests in the same process. */
  get store(): MessageStore {
    return this.#store;
  }

  stats(): BrokerStats {
    return {
      brokerName: this.config.brokerName,
      addr: this.addr,
      connections: this.#server.connectionCount,
      heldPulls: this.#polls.held,
      retried: this.#retry?.retried ?? 0,
      deadLettered: this.#retry?.deadLettered ?? 0,
      groups: this.#groups.summary(),
      store: this.#store.stats(),
      role: this.config.role,
      ha: this.#haMaster?.stats() ?? this.#haSlave?.stats(),
      runtime: this.#runtime(),
      refusals: this.#refusals.snapshot(),
      monitor: this.#monitor.view(),
    };
  }

  /** Transactional messages: pending half messages and what became of the others since start (masters; undefined on a slave). */
  transactionStats(): ReturnType<TransactionService['stats']> | undefined {
    return this.#tx?.stats();
  }

  /** The delayed-message timer's counters (undefined on a slave, which delivers nothing). */
  timerStats(): TimerStats | undefined {
    return this.#timer?.stats();
  }

  /** Memory, GC pauses and the CommitLog's fdatasync cycles so far (counters: a poller diffs two readings). */
  #runtime(): BrokerRuntimeView {
    const sync = this.#store.syncLatency();
    return {
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: getHeapStatistics().used_heap_size,
      gcCount: this.#gc.count,
      gcPauseUs: this.#gc.pauseUs,
      syncCycles: sync.cycles,
      syncTotalUs: sync.totalUs,
      syncBytes: sync.bytes,
      syncLatencyBuckets: sync.buckets,
    };
  }

  /**
   * Creates a topic (or grows its queue count) within the broker's limits
   * (LimitExceededError otherwise), and tells the name servers. The topic
   * exists at once; the promise settles once topics.json durably holds it.
   */
  async createTopic(topic: string, queueCount: number): Promise<void> {
    this.#limits.admitTopics([topic], queueCount);
    await this.#store.createTopicDurably(topic, queueCount);
    this.#registrar.registerSoon();
  }

  /** Unregisters, answers held pulls, closes connections, persists offsets, closes the store. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#maintenance);
    this.#monitor.close();
    await this.#metrics?.close();
    this.#gc.stop();
    this.#tx?.close();
    await this.#timer?.close();
    this.#haSlave?.close();
    await this.#haMaster?.close();
    await this.#registrar.close();
    this.#polls.releaseAll();
    await this.#server.close();
    try {
      await this.#offsets.persist();
    } finally {
      await this.#store.close();
    }
  }

  #topicInfos(): TopicInfo[] {
    const out: TopicInfo[] = [];
    for (const topic of this.#store.topicNames()) {
      if (topic === SCHEDULE_TOPIC || topic === TIMER_TOPIC || isTransactionTopic(topic)) continue;
      out.push({ topic, queueCount: this.#store.queueCount(topic)! });
    }
    return out;
  }

  #maintain(): void {
    const changed = this.#groups.expire(Date.now(), this.config.consumerTimeoutMs);
    if (changed.length > 0) this.#log.warn(`consumers timed out in groups ${changed.join(', ')}`);
    this.#offsets.persist().catch((err: unknown) => this.#log.warn('writing consumer offsets failed', err));
  }

  /** A slave's log is a copy of its master's: it takes no writes of its own. */
  #checkMaster(what: string): void {
    if (this.config.role === 'slave') throw new ServiceUnavailableError(`broker ${this.config.brokerName} at ${this.addr} is a slave and does not ${what}: use its master`);
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new ServiceUnavailableError(`broker ${this.config.brokerName} is shutting down`);
  }

  #installHandlers(h: Map<number, Handler>): void {
    const store = this.#store;
    h.set(Opcode.Send, async (f, ctx) => {
      this.#checkOpen();
      this.#checkMaster('send');
      // Plain requests (the common case) are read in place; the view is used up before the await.
      const view = this.#sendView;
      let r;
      if (view.parse(f.body)) {
        checkSendTopic(view.topic, ctx);
        r = await store.putPlain(view.topic, view.queueId, view);
      } else {
        const req = decodeSendRequest(f.body);
        checkSendTopic(req.topic, ctx);
        // Delayed messages wait in the timer (timer/); anything else is stored as it is.
        r = await (this.#timer!.send(req.topic, req.queueId, req.messages) ?? store.put(req.topic, req.queueId, req.messages));
      }
      // Sync replication: the acknowledgement waits for the slave (pipelined: one report releases many).
      const waited = this.#haMaster!.waitForSlave(r.endOffset);
      const outcome = typeof waited === 'string' ? waited : await waited;
      return {
        status: SEND_STATUS[outcome],
        body: encodeSendResponse({ queueId: r.queueId, queueOffset: r.queueOffset, count: r.count, storeTimestamp: r.storeTimestamp, physicalOffsets: r.physicalOffsets }),
      };
    });
    h.set(Opcode.Pull, (f, ctx) => this.#pull(f, ctx));
    h.set(Opcode.CommitOffsets, (f, ctx) => {
      const req = decodeCommitOffsets(f.body);
      ctx.principal?.checkGroup(req.group, 'commit offsets');
      this.#groupOffsets.commit(req.group, req.entries, Date.now());
      return {};
    });
    h.set(Opcode.QueryOffset, (f) => {
      const req = decodeQueryOffset(f.body);
      const offset = this.#offsets.get(req.group, req.topic, req.queueId);
      return offset === undefined ? { status: Status.NotFound } : { body: encodeOffset(offset) };
    });
    h.set(Opcode.Heartbeat, (f, ctx) => {
      const req = decodeHeartbeat(f.body);
      const retryTopics: string[] = [];
      for (const g of req.groups) ctx.principal?.checkGroup(g.group, 'heartbeat');
      for (const g of req.groups) {
        checkClientGroup(g.group, 'HEARTBEAT');
        if (!GROUP_NAME_PATTERN.test(g.group)) throw new InvalidRequestError(`invalid group name ${JSON.stringify(g.group)}`);
        if (g.mode === ConsumeMode.Clustering && this.config.role === 'master' && store.queueCount(retryTopic(g.group)) === undefined) {
          retryTopics.push(retryTopic(g.group));
        }
      }
      // All or nothing: within the limits, or refused with nothing applied.
      this.#limits.admitTopics(retryTopics, this.config.retryQueueCount);
      this.#limits.admitGroups(req.groups.map((g) => g.group));
      if (retryTopics.length === 0) {
        this.#groups.heartbeat(req.clientId, req.groups, ctx, Date.now());
        return {};
      }
      return Promise.all(retryTopics.map((t) => this.createTopic(t, this.config.retryQueueCount))).then(() => {
        if (!ctx.closed) this.#groups.heartbeat(req.clientId, req.groups, ctx, Date.now());
        return {};
      });
    });
    h.set(Opcode.UnregisterClient, (f, ctx) => {
      const req = decodeClientGroup(f.body);
      ctx.principal?.checkGroup(req.group, 'unregister');
      this.#groups.unregister(req.clientId, req.group);
      return {};
    });
    h.set(Opcode.GetConsumers, (f) => ({ body: encodeClientIds(this.#groups.members(decodeGroup(f.body))) }));
    h.set(Opcode.LockQueues, (f, ctx) => {
      const req = decodeQueueLock(f.body);
      ctx.principal?.checkGroup(req.group, 'lock queues');
      const held = this.#groups.isMember(req.group, req.clientId)
        ? this.#locks.lock(req.group, req.clientId, req.queues, Date.now(), this.config.queueLockTimeoutMs)
        : [];
      return { body: encodeQueueList(held) };
    });
    h.set(Opcode.UnlockQueues, (f, ctx) => {
      const req = decodeQueueLock(f.body);
      ctx.principal?.checkGroup(req.group, 'unlock queues');
      this.#locks.unlock(req.group, req.clientId, req.queues);
      return {};
    });
    h.set(Opcode.SendBack, async (f, ctx) => {
      this.#checkOpen();
      this.#checkMaster('take messages back for retry');
      const req = decodeSendBack(f.body);
      ctx.principal?.checkGroup(req.group, 'send back messages');
      await this.#retry!.sendBack(req);
      return {};
    });
    h.set(Opcode.CreateTopic, async (f) => {
      this.#checkMaster('create topics');
      const req = decodeCreateTopic(f.body);
      await this.createTopic(req.topic, req.queueCount);
      return {};
    });
    h.set(Opcode.QueryByKey, (f) => {
      const req = decodeQueryByKey(f.body);
      const q = queryKeyBounded(store, req, this.#limits, this.config.maxFrameSize);
      return { status: q.truncated ? Status.Truncated : Status.Ok, body: encodeRecordList(q.records) };
    });
    h.set(Opcode.QueryById, (f) => {
      const offset = decodeQueryById(f.body);
      const rec = store.readRecord(offset);
      if (rec === undefined) throw new NotFoundError(`no message at physical offset ${offset}`);
      return { body: encodeRecordList([rec]) };
    });
    h.set(Opcode.OffsetForTimestamp, (f) => {
      const req = decodeOffsetForTimestamp(f.body);
      this.#requireQueue(req.topic, req.queueId);
      return { body: encodeOffset(store.offsetForTimestamp(req.topic, req.queueId, req.timestamp)) };
    });
    h.set(Opcode.QueueOffsets, (f) => {
      const q = decodeQueueRef(f.body);
      this.#requireQueue(q.topic, q.queueId);
      return { body: encodeQueueOffsets({ minOffset: store.minOffset(q.topic, q.queueId), maxOffset: store.maxOffset(q.topic, q.queueId) }) };
    });
    h.set(Opcode.ResetOffsets, (f) => {
      const req = decodeResetOffsets(f.body);
      const resets = this.#groupOffsets.reset(req, this.#groups.members(req.group).length > 0, Date.now());
      // Pulls held at the end of a reset queue answer now: a member of the group among them is redirected.
      for (const r of resets) this.#polls.arrived(req.topic, r.queueId, Number.MAX_SAFE_INTEGER);
      return { body: encodeQueueResets(resets) };
    });
    this.#installTransactionHandlers(h);
    h.set(Opcode.BrokerStats, () => ({ body: encodeBrokerStats(this.stats()) }));
  }

  /** Transactional messages (docs/PROTOCOL.md): the logic is the TransactionService's. */
  #installTransactionHandlers(h: Map<number, Handler>): void {
    h.set(Opcode.TransactionHalf, async (f, ctx) => {
      this.#checkOpen();
      this.#checkMaster('take transactional messages');
      const req = decodeTransactionHalf(f.body);
      ctx.principal?.checkTopic(req.send.topic);
      const r = await this.#tx!.putHalf(req);
      const waited = this.#haMaster!.waitForSlave(r.endOffset);
      const outcome = typeof waited === 'string' ? waited : await waited;
      return { status: SEND_STATUS[outcome], body: encodeSendResponse({ queueId: r.queueId, queueOffset: r.queueOffset, count: r.count, storeTimestamp: r.storeTimestamp, physicalOffsets: r.physicalOffsets }) };
    });
    h.set(Opcode.EndTransaction, async (f, ctx) => {
      this.#checkOpen();
      this.#checkMaster('end transactions');
      const req = decodeEndTransaction(f.body);
      const r = await this.#tx!.end(req, (topic) => ctx.principal?.checkTopic(topic));
      return { status: SEND_STATUS[r.replica], body: encodeEndTransactionResponse({ outcome: r.outcome, duplicate: r.duplicate, ...r.at }) };
    });
    h.set(Opcode.RegisterProducer, (f, ctx) => {
      this.#checkMaster('check transactions');
      const req = decodeProducerRegistration(f.body);
      if (!GROUP_NAME_PATTERN.test(req.group)) throw new InvalidRequestError(`invalid producer group name ${JSON.stringify(req.group)}`);
      this.#tx!.producers.register(req.clientId, req.group, ctx, Date.now());
      return {};
    });
    h.set(Opcode.UnregisterProducer, (f) => {
      const req = decodeProducerRegistration(f.body);
      this.#tx?.producers.unregister(req.clientId, req.group);
      return {};
    });
  }

  #requireQueue(topic: string, queueId: number): void {
    const n = this.#store.queueCount(topic);
    if (n === undefined) throw new UnknownTopicError(`topic ${JSON.stringify(topic)} does not exist on broker ${this.config.brokerName}`);
    if (!(queueId < n)) throw new UnknownQueueError(`topic ${JSON.stringify(topic)} has ${n} queues; there is no queue ${queueId}`);
  }

  #pull(f: Frame, ctx: RequestContext): Promise<{ status: number; body: Buffer[] }> | { status: number; body: Buffer[] } {
    this.#checkOpen();
    const req = decodePullRequest(f.body);
    this.#requireQueue(req.topic, req.queueId);
    const moved = this.#resetRedirect(req);
    if (moved !== undefined) return moved;
    if (req.commitOffset !== undefined) ctx.principal?.checkGroup(req.group, 'commit offsets');
    if (req.commitOffset !== undefined) this.#groupOffsets.commitOnPull(req.group, req.topic, req.queueId, req.commitOffset, Date.now());
    const first = this.#read(req);
    const timeout = Math.min(req.pollTimeoutMs, this.config.maxPollTimeoutMs);
    if (first.status !== 'NO_NEW_MESSAGE' || timeout === 0) return this.#pullReply(first);
    return new Promise((resolve) => {
      this.#polls.hold(
        {
          topic: req.topic,
          queueId: req.queueId,
          offset: req.offset,
          ctx,
          // Read only when the consumer has room for the answer: woken pulls of a peer that does not read stop at its high-water mark.
          wake: () =>
            ctx.whenWritable(() => {
              const reply = this.#resetRedirect(req) ?? this.#pullReply(this.#read(req));
              resolve(reply);
              let bytes = 0;
              for (const b of reply.body) bytes += b.length;
              return bytes;
            }),
        },
        timeout,
      );
    });
  }

  /** After an admin reset of the group's offset on this queue: OFFSET_MOVED to the reset offset, once. */
  #resetRedirect(req: PullRequest): { status: number; body: Buffer[] } | undefined {
    const to = this.#groupOffsets.redirect(req.group, req.topic, req.queueId, req.offset, Date.now());
    if (to === undefined) return undefined;
    const head = encodePullResponseHead({ nextOffset: to, minOffset: this.#store.minOffset(req.topic, req.queueId), maxOffset: this.#store.maxOffset(req.topic, req.queueId), count: 0 });
    return { status: Status.OffsetMoved, body: [head] };
  }

  #read(req: PullRequest): GetResult {
    const maxCount = Math.min(Math.max(req.maxCount, 1), MAX_PULL_COUNT);
    const maxBytes = Math.min(Math.max(req.maxBytes, 1), MAX_PULL_BYTES);
    const tags = req.tags.length === 0 ? undefined : req.tags;
    return this.#store.getMessages(req.topic, req.queueId, req.offset, maxCount, maxBytes, tags);
  }

  #pullReply(r: GetResult): { status: number; body: Buffer[] } {
    const head = encodePullResponseHead({ nextOffset: r.nextOffset, minOffset: r.minOffset, maxOffset: r.maxOffset, count: r.count });
    if (r.count > 0) this.#monitor.pulled(r.count, r.records.length);
    return { status: PULL_STATUS[r.status], body: r.count > 0 ? [head, r.records] : [head] };
  }
}
