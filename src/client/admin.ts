// Admin and tool client: topics, message lookups, queue offsets, stats, and
// a plain pull API (no group bookkeeping) for tools and benchmarks.
import { checkInteger, ClientStateError, decodeMessageId, InvalidConfigError } from '../common/index.js';
import type { BrokerStats, NameServerStats, QueueReset, ResetTarget } from '../protocol/index.js';
import { BrokerApi, type PullStatus } from './broker-api.js';
import { CLIENT_DEFAULTS, clientTls, credentialOption, namesrvList, positiveOption, type ClientOptions } from './client-options.js';
import { ConnectionPool } from './connection-pool.js';
import { ReceivedMessage, splitRecords } from './received-message.js';
import { TopicRoutes, type MessageQueue } from './topic-routes.js';

export type { PullStatus, BrokerStats, NameServerStats, ResetTarget };

/** Defaults of a plain pull: a small batch, answered at once. */
const PULL_DEFAULTS = { maxCount: 32, maxBytes: 4 * 1024 * 1024, pollTimeoutMs: 0 } as const;

export interface PullResult {
  status: PullStatus;
  messages: ReceivedMessage[];
  nextOffset: number;
  minOffset: number;
  maxOffset: number;
}

export interface PullOptions {
  maxCount?: number;
  maxBytes?: number;
  /** Hold at the end of the queue up to this long. Default 0 (answer at once). */
  pollTimeoutMs?: number;
  tags?: readonly string[];
  /** Group to commit `commitOffset` for on the way. */
  group?: string;
  commitOffset?: number;
}

/** Where a reset applies: by default every queue of the topic on every broker the name server routes it to. */
export interface ResetOptions {
  /** Only this queue id (on each broker). */
  queueId?: number;
  /** These brokers (host:port) instead of the topic's route: a broker's own view, no name server needed. */
  brokerAddrs?: readonly string[];
}

/** What one queue's committed offset became. */
export interface OffsetReset extends QueueReset {
  /** From the route; with ResetOptions.brokerAddrs, the address. */
  brokerName: string;
  addr: string;
}

/** An Admin may work without a name server when every call names its broker. */
export type AdminOptions = Omit<ClientOptions, 'namesrv'> & { namesrv?: ClientOptions['namesrv'] };

/** What lookupKey found, and which brokers cut their answer short (older matches may exist there). */
export interface KeyLookup {
  messages: ReceivedMessage[];
  truncatedBy: string[];
}

export class Admin {
  readonly #pool: ConnectionPool;
  readonly #brokers: BrokerApi;
  readonly #routes: TopicRoutes;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: AdminOptions) {
    this.#timeoutMs = positiveOption('requestTimeoutMs', options.requestTimeoutMs, CLIENT_DEFAULTS.requestTimeoutMs);
    this.#pool = new ConnectionPool(undefined, clientTls(options.tls), credentialOption(options.credential));
    this.#brokers = new BrokerApi(this.#pool, this.#timeoutMs);
    this.#routes = new TopicRoutes(this.#brokers, options.namesrv === undefined ? [] : namesrvList(options.namesrv), positiveOption('routeRefreshMs', options.routeRefreshMs, CLIENT_DEFAULTS.routeRefreshMs));
  }

  /** Creates (or grows) a topic on the given brokers (host:port). */
  async createTopic(topic: string, queueCount: number, brokerAddrs: readonly string[]): Promise<void> {
    await Promise.all(brokerAddrs.map(async (addr) => this.#api().createTopic(addr, { topic, queueCount })));
  }

  /** Waits until the name server routes the topic (a new topic shows up after the broker's registration). */
  async waitForRoute(topic: string, timeoutMs = 10_000): Promise<MessageQueue[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.#routes.queues(topic);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  queues(topic: string): Promise<MessageQueue[]> {
    return this.#routes.queues(topic);
  }

  async pull(mq: MessageQueue, offset: number, options: PullOptions = {}): Promise<PullResult> {
    const poll = options.pollTimeoutMs ?? PULL_DEFAULTS.pollTimeoutMs;
    const req = {
      group: options.group ?? '',
      topic: mq.topic,
      queueId: mq.queueId,
      offset,
      maxCount: options.maxCount ?? PULL_DEFAULTS.maxCount,
      maxBytes: options.maxBytes ?? PULL_DEFAULTS.maxBytes,
      pollTimeoutMs: poll,
      commitOffset: options.group !== undefined ? options.commitOffset : undefined,
      tags: options.tags ?? [],
    };
    const r = await this.#api().pull(mq.addr, req, poll + this.#timeoutMs);
    return { status: r.status, messages: splitRecords(r.records, r.count, mq.brokerName, mq.addr), nextOffset: r.nextOffset, minOffset: r.minOffset, maxOffset: r.maxOffset };
  }

  async queueOffsets(mq: MessageQueue): Promise<{ minOffset: number; maxOffset: number }> {
    return this.#api().queueOffsets(mq.addr, mq);
  }

  async offsetForTimestamp(mq: MessageQueue, timestamp: number): Promise<number> {
    return this.#api().offsetForTimestamp(mq.addr, { topic: mq.topic, queueId: mq.queueId, timestamp });
  }

  /** The group's committed offset on a queue, or undefined if it never committed. */
  async committedOffset(group: string, mq: MessageQueue): Promise<number | undefined> {
    return this.#api().queryOffset(mq.addr, { group, topic: mq.topic, queueId: mq.queueId });
  }

  /**
   * Commits a group's progress (forward only). Refused past the queue's
   * maxOffset (OffsetOutOfRangeError) and for the broker's own '%' groups
   * (InternalGroupError); below minOffset the broker stores minOffset.
   */
  async commitOffset(group: string, mq: MessageQueue, offset: number): Promise<void> {
    await this.#api().commitOffsets(mq.addr, { group, entries: [{ topic: mq.topic, queueId: mq.queueId, offset }] });
  }

  /**
   * Moves a group's committed offsets on a topic, backwards or forwards
   * (re-consume from a point in time, or skip a backlog): to `{offset}`
   * (clamped into each queue's [minOffset, maxOffset]; the answer says so) or
   * to `{timestamp}` (ms since the epoch: the first message stored at or
   * after it). Live consumers of the group are redirected by their next pull.
   * Goes to each broker's master (its slave when the master is down).
   */
  async resetOffsets(group: string, topic: string, target: ResetTarget, options: ResetOptions = {}): Promise<OffsetReset[]> {
    if (typeof group !== 'string' || group === '') throw new InvalidConfigError('resetOffsets needs a group');
    const value = 'offset' in target ? target.offset : 'timestamp' in target ? target.timestamp : undefined;
    checkInteger('offset' in target ? 'reset offset' : 'reset timestamp', value, 0);
    if (options.queueId !== undefined) checkInteger('queueId', options.queueId, 0, 0xfffffffe);
    const req = { group, topic, queueId: options.queueId, target };
    const brokers =
      options.brokerAddrs !== undefined
        ? options.brokerAddrs.map((addr) => ({ brokerName: addr, addr }))
        : [...new Map((await this.#routes.queues(topic)).map((q) => [q.brokerName, { brokerName: q.brokerName, addr: q.addr }])).values()];
    const answers = await Promise.all(
      brokers.map(async (b) => (await this.#api().resetOffsets(b.addr, req)).map((r) => ({ brokerName: b.brokerName, addr: b.addr, ...r }))),
    );
    return answers.flat();
  }

  /** Messages with the key, from every broker serving the topic (see lookupKey for whether a broker cut its answer short). */
  async queryByKey(topic: string, key: string, maxCount = 32): Promise<ReceivedMessage[]> {
    return (await this.lookupKey(topic, key, maxCount)).messages;
  }

  /**
   * queryByKey, saying also whether a broker stopped at one of its bounds
   * (index entries examined, answer size): then older matches may exist on it.
   */
  async lookupKey(topic: string, key: string, maxCount = 32): Promise<KeyLookup> {
    const brokers = await this.#routes.brokers(topic);
    const found = await Promise.all(
      brokers.map(async (b) => {
        const answer = await this.#api().queryByKey(b.addr, { topic, key, maxCount });
        return { messages: answer.records.map((r) => new ReceivedMessage(r, b.brokerName, b.addr)), truncated: answer.truncated ? [b.brokerName] : [] };
      }),
    );
    return { messages: found.flatMap((f) => f.messages), truncatedBy: found.flatMap((f) => f.truncated) };
  }

  /** The message with this id (the id names the broker), or undefined. */
  async queryById(id: string): Promise<ReceivedMessage | undefined> {
    const { host, port, offset } = decodeMessageId(id);
    const addr = `${host}:${port}`;
    const record = await this.#api().queryById(addr, offset);
    return record === undefined ? undefined : new ReceivedMessage(record, '', addr);
  }

  /** A broker's stats: its counters, its store's, its consumer groups' and its replication's. */
  async stats(addr: string): Promise<BrokerStats> {
    return this.#api().stats(addr);
  }

  /** A name server's view: the live brokers it routes to (each master and slave), its connections and refusals. */
  async nameServerStats(namesrvAddr: string): Promise<NameServerStats> {
    return this.#api().nameServerStats(namesrvAddr);
  }

  close(): void {
    this.#closed = true;
    this.#routes.close();
    this.#pool.close();
  }

  #api(): BrokerApi {
    if (this.#closed) throw new ClientStateError('admin client is closed');
    return this.#brokers;
  }
}
