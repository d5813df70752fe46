// The clients' one way to talk to brokers and name servers: one method per
// request, typed arguments in, a decoded result out, an error status thrown
// as its typed error. No other client file builds a request body or reads a
// response frame; the connections come from the client's ConnectionPool.
import { InternalServerError, MalformedFrameError, NotFoundError } from '../common/index.js';
import {
  decodeBrokerStats,
  decodeClientIds,
  decodeErrorBody,
  decodeOffset,
  decodePullResponse,
  decodeQueueList,
  decodeQueueOffsets,
  decodeQueueResets,
  decodeRecordList,
  decodeRoute,
  decodeSendResponse,
  decodeText,
  encodeClientGroup,
  encodeCommitOffsets,
  encodeCreateTopic,
  encodeGroup,
  encodeHeartbeat,
  encodeOffsetForTimestamp,
  encodePullRequest,
  encodeQueryById,
  encodeQueryByKey,
  encodeQueryOffset,
  encodeQueueLock,
  encodeQueueRef,
  encodeResetOffsets,
  encodeSendBack,
  encodeTopic,
  encodeTransactionHalf,
  encodeEndTransaction,
  encodeProducerRegistration,
  decodeEndTransactionResponse,
  type EndTransactionRequest,
  type EndTransactionResponse,
  type ProducerRegistration,
  type TransactionHalfRequest,
  errorForStatus,
  isErrorStatus,
  Opcode,
  Status,
  statusName,
  type BrokerRoute,
  type BrokerStats,
  type NameServerStats,
  type ClientGroupRequest,
  type CommitOffsetsRequest,
  type CreateTopicRequest,
  type HeartbeatRequest,
  type OffsetForTimestampRequest,
  type PullRequest,
  type PullResponse,
  type QueryByKeyRequest,
  type QueryOffsetRequest,
  type QueueLockRequest,
  type QueueOffsets,
  type QueueRef,
  type QueueReset,
  type ResetOffsetsRequest,
  type SendBackRequest,
  type SendRequestTemplate,
  type SendResponse,
} from '../protocol/index.js';
import type { ConnectionPool } from './connection-pool.js';

/**
 * SEND_OK: stored (and, under sync replication, held by the slave too).
 * SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE: stored on the master, but the slave did
 * not confirm in time / no slave was there to confirm: the message is not yet
 * safe from the master's loss. Not retried (it is stored: a retry would
 * duplicate it); count them.
 */
export type SendStatus = 'SEND_OK' | 'SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export type PullStatus = 'FOUND' | 'NO_NEW_MESSAGE' | 'NO_MATCHED_MESSAGE' | 'OFFSET_MOVED' | 'OFFSET_OVERFLOW';

export interface SentBatch extends SendResponse {
  status: SendStatus;
}

export interface PulledBatch extends PullResponse {
  status: PullStatus;
}

const SEND_STATUS: Record<number, SendStatus> = {
  [Status.Ok]: 'SEND_OK',
  [Status.SlaveTimeout]: 'SLAVE_TIMEOUT',
  [Status.SlaveNotAvailable]: 'SLAVE_NOT_AVAILABLE',
};

const PULL_STATUS: Record<number, PullStatus> = {
  [Status.Ok]: 'FOUND',
  [Status.NoNewMessage]: 'NO_NEW_MESSAGE',
  [Status.NoMatchedMessage]: 'NO_MATCHED_MESSAGE',
  [Status.OffsetMoved]: 'OFFSET_MOVED',
  [Status.OffsetOverflow]: 'OFFSET_OVERFLOW',
};

export class BrokerApi {
  readonly #pool: ConnectionPool;
  readonly #timeoutMs: number;

  /** `timeoutMs`: of every request but sends and pulls, which say their own. */
  constructor(pool: ConnectionPool, timeoutMs: number) {
    this.#pool = pool;
    this.#timeoutMs = timeoutMs;
  }

  /** SEND: one frame for the whole batch, to `queueId` of the broker at `addr`. */
  async send(addr: string, template: SendRequestTemplate, queueId: number, timeoutMs: number): Promise<SentBatch> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.Send, template.forQueue(queueId), timeoutMs);
    const status = SEND_STATUS[f.status];
    if (status === undefined) throw new InternalServerError(`${addr} answered a send with ${statusName(f.status)}`);
    const r = decodeSendResponse(f.body);
    return { status, queueId: r.queueId, queueOffset: r.queueOffset, count: r.count, storeTimestamp: r.storeTimestamp, physicalOffsets: r.physicalOffsets };
  }

  /** TRANSACTION_HALF: stores a half message (answered as a SEND: where it is, and the slave's confirmation). */
  async transactionHalf(addr: string, req: TransactionHalfRequest, timeoutMs: number): Promise<SentBatch> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.TransactionHalf, encodeTransactionHalf(req), timeoutMs);
    const status = SEND_STATUS[f.status];
    if (status === undefined) throw new InternalServerError(`${addr} answered a half message with ${statusName(f.status)}`);
    const r = decodeSendResponse(f.body);
    return { status, queueId: r.queueId, queueOffset: r.queueOffset, count: r.count, storeTimestamp: r.storeTimestamp, physicalOffsets: r.physicalOffsets };
  }

  /** END_TRANSACTION: commits or rolls back a half message; the status says whether the slave holds the outcome. */
  async endTransaction(addr: string, req: EndTransactionRequest, timeoutMs: number): Promise<EndTransactionResponse & { status: SendStatus }> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.EndTransaction, encodeEndTransaction(req), timeoutMs);
    const status = SEND_STATUS[f.status];
    if (status === undefined) throw new InternalServerError(`${addr} answered an end of transaction with ${statusName(f.status)}`);
    return { status, ...decodeEndTransactionResponse(f.body) };
  }

  /** REGISTER_PRODUCER on the pooled connection to `addr`: the broker checks transactions of the group back on it. */
  async registerProducer(addr: string, req: ProducerRegistration): Promise<void> {
    const c = await this.#pool.get(addr);
    await c.call(Opcode.RegisterProducer, encodeProducerRegistration(req), this.#timeoutMs);
  }

  /** Leaves the producer group on `addr` if a connection is open; never throws. */
  async unregisterProducer(addr: string, req: ProducerRegistration): Promise<void> {
    const c = this.#pool.current(addr);
    if (c !== undefined) await c.call(Opcode.UnregisterProducer, encodeProducerRegistration(req), this.#timeoutMs).catch(() => undefined);
  }

  /** PULL; `timeoutMs` must cover the time the broker may hold it. */
  async pull(addr: string, req: PullRequest, timeoutMs: number): Promise<PulledBatch> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.Pull, encodePullRequest(req), timeoutMs);
    const status = PULL_STATUS[f.status];
    if (status === undefined) throw new NotFoundError(`unexpected pull status ${statusName(f.status)}`);
    const r = decodePullResponse(f.body);
    return { status, nextOffset: r.nextOffset, minOffset: r.minOffset, maxOffset: r.maxOffset, count: r.count, records: r.records };
  }

  async commitOffsets(addr: string, req: CommitOffsetsRequest): Promise<void> {
    const c = await this.#pool.get(addr);
    await c.call(Opcode.CommitOffsets, encodeCommitOffsets(req), this.#timeoutMs);
  }

  /** The group's committed offset on a queue, or undefined if it never committed there. */
  async queryOffset(addr: string, req: QueryOffsetRequest): Promise<number | undefined> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.QueryOffset, encodeQueryOffset(req), this.#timeoutMs);
    return f.status === Status.NotFound ? undefined : decodeOffset(f.body);
  }

  async queueOffsets(addr: string, q: QueueRef): Promise<QueueOffsets> {
    const c = await this.#pool.get(addr);
    return decodeQueueOffsets((await c.call(Opcode.QueueOffsets, encodeQueueRef(q), this.#timeoutMs)).body);
  }

  async offsetForTimestamp(addr: string, req: OffsetForTimestampRequest): Promise<number> {
    const c = await this.#pool.get(addr);
    return decodeOffset((await c.call(Opcode.OffsetForTimestamp, encodeOffsetForTimestamp(req), this.#timeoutMs)).body);
  }

  /** RESET_OFFSETS: moves a group's committed offsets on one broker; what each queue's offset became. */
  async resetOffsets(addr: string, req: ResetOffsetsRequest): Promise<QueueReset[]> {
    const c = await this.#pool.get(addr);
    return decodeQueueResets((await c.call(Opcode.ResetOffsets, encodeResetOffsets(req), this.#timeoutMs)).body);
  }

  async heartbeat(addr: string, req: HeartbeatRequest): Promise<void> {
    const c = await this.#pool.get(addr);
    await c.call(Opcode.Heartbeat, encodeHeartbeat(req), this.#timeoutMs);
  }

  /** Leaves the group on `addr` if a connection to it is open (no point connecting just to leave); never throws. */
  async unregister(addr: string, req: ClientGroupRequest): Promise<void> {
    const c = this.#pool.current(addr);
    if (c !== undefined) await c.call(Opcode.UnregisterClient, encodeClientGroup(req), this.#timeoutMs).catch(() => undefined);
  }

  /** The group's live members as the broker knows them (sorted). */
  async consumers(addr: string, group: string): Promise<string[]> {
    const c = await this.#pool.get(addr);
    return decodeClientIds((await c.call(Opcode.GetConsumers, encodeGroup(group), this.#timeoutMs)).body);
  }

  /** Locks (or renews) queues for the client; returns those it holds now. */
  async lockQueues(addr: string, req: QueueLockRequest): Promise<QueueRef[]> {
    const c = await this.#pool.get(addr);
    return decodeQueueList((await c.call(Opcode.LockQueues, encodeQueueLock(req), this.#timeoutMs)).body);
  }

  async unlockQueues(addr: string, req: QueueLockRequest): Promise<void> {
    const c = await this.#pool.get(addr);
    await c.call(Opcode.UnlockQueues, encodeQueueLock(req), this.#timeoutMs);
  }

  /** SEND_BACK of each message (by physical offset) of a failed batch, all in flight at once. */
  async sendBack(addr: string, requests: readonly SendBackRequest[]): Promise<void> {
    const c = await this.#pool.get(addr);
    await Promise.all(requests.map((req) => c.call(Opcode.SendBack, encodeSendBack(req), this.#timeoutMs)));
  }

  async createTopic(addr: string, req: CreateTopicRequest): Promise<void> {
    const c = await this.#pool.get(addr);
    await c.call(Opcode.CreateTopic, encodeCreateTopic(req), this.#timeoutMs);
  }

  /** Raw records with the key. */
  /** Records carrying the key; `truncated`: the broker stopped at one of its bounds (status Truncated). */
  async queryByKey(addr: string, req: QueryByKeyRequest): Promise<{ records: Buffer[]; truncated: boolean }> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.QueryByKey, encodeQueryByKey(req), this.#timeoutMs);
    return { records: decodeRecordList(f.body), truncated: f.status === Status.Truncated };
  }

  /** The raw record at a physical offset, or undefined. */
  async queryById(addr: string, physicalOffset: number): Promise<Buffer | undefined> {
    const c = await this.#pool.get(addr);
    const f = await c.call(Opcode.QueryById, encodeQueryById(physicalOffset), this.#timeoutMs);
    if (f.status === Status.NotFound) return undefined;
    return decodeRecordList(f.body)[0];
  }

  async stats(addr: string): Promise<BrokerStats> {
    const c = await this.#pool.get(addr);
    return decodeBrokerStats((await c.call(Opcode.BrokerStats, undefined, this.#timeoutMs)).body);
  }

  /** BROKER_STATS asked of a name server: its JSON answer (the live brokers, connections, refusals). */
  async nameServerStats(addr: string): Promise<NameServerStats> {
    const c = await this.#pool.get(addr);
    const text = decodeText((await c.call(Opcode.BrokerStats, undefined, this.#timeoutMs)).body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new MalformedFrameError(`name server ${addr} answered BROKER_STATS with invalid JSON`, { cause: err });
    }
    const brokers = (parsed as { brokers?: unknown }).brokers;
    if (!Array.isArray(brokers)) throw new MalformedFrameError(`name server ${addr} answered BROKER_STATS without a brokers list (is it a broker?)`);
    return parsed as NameServerStats;
  }

  /** GET_ROUTE from a name server: the topic's brokers, or undefined when none serves it. */
  async route(namesrvAddr: string, topic: string): Promise<BrokerRoute[] | undefined> {
    const c = await this.#pool.get(namesrvAddr);
    const f = await c.request(Opcode.GetRoute, encodeTopic(topic), this.#timeoutMs);
    if (f.status === Status.NoRoute) return undefined;
    if (isErrorStatus(f.status)) throw errorForStatus(f.status, decodeErrorBody(f.body));
    return decodeRoute(f.body);
  }
}
