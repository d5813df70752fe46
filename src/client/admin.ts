// Admin and tool client: topics, message lookups, queue offsets, stats, and
// a plain pull API (no group bookkeeping) for tools and benchmarks.
import { ClientStateError, NotFoundError, decodeMessageId } from '../common/index.js';
import {
  decodeErrorBody,
  decodeOffset,
  decodePullResponse,
  decodeQueueOffsets,
  decodeRecordList,
  decodeText,
  encodeCommitOffsets,
  encodeCreateTopic,
  encodeOffsetForTimestamp,
  encodePullRequest,
  encodeQueryById,
  encodeQueryByKey,
  encodeQueryOffset,
  encodeQueueRef,
  errorForStatus,
  isErrorStatus,
  Opcode,
  Status,
  statusName,
} from '../protocol/index.js';
import { CLIENT_DEFAULTS, namesrvList, positiveOption, type ClientOptions } from './client-options.js';
import { ConnectionPool } from './connection-pool.js';
import { ReceivedMessage, splitRecords } from './received-message.js';
import { TopicRoutes, type MessageQueue } from './topic-routes.js';

export type PullStatus = 'FOUND' | 'NO_NEW_MESSAGE' | 'NO_MATCHED_MESSAGE' | 'OFFSET_MOVED' | 'OFFSET_OVERFLOW';

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

const PULL_STATUS: Record<number, PullStatus> = {
  [Status.Ok]: 'FOUND',
  [Status.NoNewMessage]: 'NO_NEW_MESSAGE',
  [Status.NoMatchedMessage]: 'NO_MATCHED_MESSAGE',
  [Status.OffsetMoved]: 'OFFSET_MOVED',
  [Status.OffsetOverflow]: 'OFFSET_OVERFLOW',
};

export class Admin {
  readonly #pool = new ConnectionPool();
  readonly #routes: TopicRoutes;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: ClientOptions) {
    this.#timeoutMs = positiveOption('requestTimeoutMs', options.requestTimeoutMs, CLIENT_DEFAULTS.requestTimeoutMs);
    this.#routes = new TopicRoutes(this.#pool, namesrvList(options.namesrv), this.#timeoutMs, positiveOption('routeRefreshMs', options.routeRefreshMs, CLIENT_DEFAULTS.routeRefreshMs));
  }

  /** Creates (or grows) a topic on the given brokers (host:port). */
  async createTopic(topic: string, queueCount: number, brokerAddrs: readonly string[]): Promise<void> {
    await Promise.all(brokerAddrs.map(async (addr) => (await this.#conn(addr)).call(Opcode.CreateTopic, encodeCreateTopic({ topic, queueCount }), this.#timeoutMs)));
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
    const c = await this.#conn(mq.addr);
    const poll = options.pollTimeoutMs ?? 0;
    const body = encodePullRequest({
      group: options.group ?? '',
      topic: mq.topic,
      queueId: mq.queueId,
      offset,
      maxCount: options.maxCount ?? 32,
      maxBytes: options.maxBytes ?? 4 * 1024 * 1024,
      pollTimeoutMs: poll,
      commitOffset: options.group !== undefined ? options.commitOffset : undefined,
      tags: options.tags ?? [],
    });
    const f = await c.call(Opcode.Pull, body, poll + this.#timeoutMs);
    const status = PULL_STATUS[f.status];
    if (status === undefined) throw new NotFoundError(`unexpected pull status ${statusName(f.status)}`);
    const r = decodePullResponse(f.body);
    return { status, messages: splitRecords(r.records, r.count, mq.brokerName, mq.addr), nextOffset: r.nextOffset, minOffset: r.minOffset, maxOffset: r.maxOffset };
  }

  async queueOffsets(mq: MessageQueue): Promise<{ minOffset: number; maxOffset: number }> {
    const c = await this.#conn(mq.addr);
    return decodeQueueOffsets((await c.call(Opcode.QueueOffsets, encodeQueueRef(mq), this.#timeoutMs)).body);
  }

  async offsetForTimestamp(mq: MessageQueue, timestamp: number): Promise<number> {
    const c = await this.#conn(mq.addr);
    return decodeOffset((await c.call(Opcode.OffsetForTimestamp, encodeOffsetForTimestamp({ topic: mq.topic, queueId: mq.queueId, timestamp }), this.#timeoutMs)).body);
  }

  /** The group's committed offset on a queue, or undefined if it never committed. */
  async committedOffset(group: string, mq: MessageQueue): Promise<number | undefined> {
    const c = await this.#conn(mq.addr);
    const f = await c.call(Opcode.QueryOffset, encodeQueryOffset({ group, topic: mq.topic, queueId: mq.queueId }), this.#timeoutMs);
    return f.status === Status.NotFound ? undefined : decodeOffset(f.body);
  }

  async commitOffset(group: string, mq: MessageQueue, offset: number): Promise<void> {
    const c = await this.#conn(mq.addr);
    await c.call(Opcode.CommitOffsets, encodeCommitOffsets({ group, entries: [{ topic: mq.topic, queueId: mq.queueId, offset }] }), this.#timeoutMs);
  }

  /** Messages with the key, from every broker serving the topic. */
  async queryByKey(topic: string, key: string, maxCount = 32): Promise<ReceivedMessage[]> {
    const brokers = await this.#routes.brokers(topic);
    const found = await Promise.all(
      brokers.map(async (b) => {
        const c = await this.#conn(b.addr);
        const f = await c.call(Opcode.QueryByKey, encodeQueryByKey({ topic, key, maxCount }), this.#timeoutMs);
        return decodeRecordList(f.body).map((r) => new ReceivedMessage(r, b.brokerName, b.addr));
      }),
    );
    return found.flat();
  }

  /** The message with this id (the id names the broker), or undefined. */
  async queryById(id: string): Promise<ReceivedMessage | undefined> {
    const { host, port, offset } = decodeMessageId(id);
    const addr = `${host}:${port}`;
    const c = await this.#conn(addr);
    const f = await c.request(Opcode.QueryById, encodeQueryById(offset), this.#timeoutMs);
    if (f.status === Status.NotFound) return undefined;
    if (isErrorStatus(f.status)) throw errorForStatus(f.status, `${addr}: ${decodeErrorBody(f.body)}`);
    const records = decodeRecordList(f.body);
    return records.length === 0 ? undefined : new ReceivedMessage(records[0]!, '', addr);
  }

  /** A broker's (or name server's) stats as JSON. */
  async stats(addr: string): Promise<unknown> {
    const c = await this.#conn(addr);
    return JSON.parse(decodeText((await c.call(Opcode.BrokerStats, undefined, this.#timeoutMs)).body));
  }

  close(): void {
    this.#closed = true;
    this.#routes.close();
    this.#pool.close();
  }

  #conn(addr: string) {
    if (this.#closed) throw new ClientStateError('admin client is closed');
    return this.#pool.get(addr);
  }
}
