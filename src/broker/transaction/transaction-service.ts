// Transactional messages, RocketMQ's design: a half message is stored in the
// half topic (no consumer reads it); END_TRANSACTION commits it (the message
// is written to its real queue) or rolls it back; either way an op record in
// the op topic says so. Half messages with no op record after
// transactionTimeoutMs are checked back with a live producer of their group,
// every transactionCheckIntervalMs, at most transactionCheckMax times (each
// check is an op record too), then copied to the discard topic.
//
// Everything is in the CommitLog, so it replicates and survives a restart:
// at open the service replays the half topic from its progress offset and
// the op topic from the first op that may concern a half message still
// pending. A half message ends once: concurrent ENDs (a duplicate, a check's
// answer racing a late END) share the first one's write, and after a crash
// between the committed message and its op record, the committed message's
// key (commitKey) says it was committed.
import { GROUP_NAME_PATTERN, InvalidMessageError, LimitExceededError, InvalidRequestError, ServiceUnavailableError, UnknownQueueError, UnknownTopicError } from '../../common/index.js';
import { encodeCheckTransactionState, Opcode, TransactionAction, TransactionOutcome, type DecodedTransactionHalf, type EndTransactionRequest } from '../../protocol/index.js';
import { decodeRecords, type DecodedMessage, type MessageStore, type PutResult, type StoreMessage } from '../../store/index.js';
import type { ConsumerOffsets } from '../consumer-offsets.js';
import { encodeOpBody, OpKind, parseOpRecord, type CommittedAt, type OpRecord } from './op-record.js';
import { ProducerGroups } from './producer-groups.js';
import { CHECK_GROUP, commitKey, DISCARD_TOPIC, HALF_TOPIC, isTransactionTopic, OP_TOPIC, PROPERTY_PRODUCER_GROUP, PROPERTY_TRANSACTION_QUEUE_ID, PROPERTY_TRANSACTION_TOPIC, RESERVED_PROPERTIES } from './transaction-topics.js';

const SCAN_BATCH = 256;
const SCAN_BYTES = 4 * 1024 * 1024;
/** How a duplicate END is answered is remembered for this many recent ends (older ones answer ENDED). */
const REMEMBERED_ENDS = 65_536;
/** The check loop wakes at most this often, and at least this often (bounds of its tick). */
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1000;
/** Key index entries examined when looking for a committed message after a restart. */
const COMMIT_KEY_CANDIDATES = 64;
/**
 * Pending half messages are held in memory (a few hundred bytes each): past
 * this many, new half messages are refused until some end, so a producer
 * group that never answers cannot grow the heap without bound.
 */
export const MAX_PENDING_TRANSACTIONS = 262_144;
const EMPTY_AT: CommittedAt = { queueId: 0, queueOffset: 0, physicalOffset: 0 };

export type ReplicaOutcome = 'confirmed' | 'timeout' | 'no-slave';

export interface TransactionTimings {
  /** A half message is first checked this long after it was stored. RocketMQ: 6 s. */
  transactionTimeoutMs: number;
  /** Then again at this interval. RocketMQ: 30 s. */
  transactionCheckIntervalMs: number;
  /** Checks before the half message is discarded. RocketMQ: 15. */
  transactionCheckMax: number;
}

export interface TransactionServiceOptions extends TransactionTimings {
  store: MessageStore;
  offsets: ConsumerOffsets;
  /** Named in checks: with the half message's physical offset, the transaction's id. */
  brokerName: string;
  /** A producer silent for longer than this is no longer checked with. */
  producerTimeoutMs: number;
  /** Sync replication: resolves once the slave holds the log up to `endOffset` (as a SEND waits). */
  waitForSlave: (endOffset: number) => ReplicaOutcome | Promise<ReplicaOutcome>;
  onError: (message: string, err?: unknown) => void;
  /** Pending half messages at most (default MAX_PENDING_TRANSACTIONS; tests lower it). */
  maxPending?: number;
}

export interface EndResult {
  outcome: TransactionOutcome;
  duplicate: boolean;
  at: CommittedAt;
  replica: ReplicaOutcome;
}

/** Counters since start (in-process stats and tests). */
export interface TransactionStats {
  pending: number;
  committed: number;
  rolledBack: number;
  discarded: number;
  checks: number;
  /** Checks due while no producer of the group was online (counted towards transactionCheckMax). */
  checksWithoutProducer: number;
  duplicateEnds: number;
}

interface Pending {
  halfQueueOffset: number;
  halfPhysicalOffset: number;
  group: string;
  topic: string;
  checks: number;
  nextCheckAt: number;
  /** Stored before this open: it may have been committed just before a crash (commitKey tells). */
  beforeOpen: boolean;
  /** Set while it ends: every other END shares this one's result. */
  ending: Promise<EndResult> | undefined;
  checking: boolean;
  /** The committed message once written (a retry after a failed op write writes only the op). */
  committed: CommittedAt | undefined;
}

export class TransactionService {
  readonly producers = new ProducerGroups();
  readonly #o: TransactionServiceOptions;
  /** Half messages with no final op record, in half-queue order. */
  readonly #pending = new Map<number, Pending>();
  /** Recent ends by half queue offset, oldest first (bounded). */
  readonly #ended = new Map<number, { outcome: TransactionOutcome; at: CommittedAt }>();
  /** Op records read since the op progress offset: (op queue offset, half queue offset), for the progress. */
  #opWindow: { index: number; halfQueueOffset: number }[] = [];
  #opWindowHead = 0;
  #halfRead: number;
  #opRead: number;
  /** The log's end when the store opened: below it, a pending half message may have been committed before a crash. */
  readonly #openEnd: number;
  #caughtUp = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #stats = { committed: 0, rolledBack: 0, discarded: 0, checks: 0, checksWithoutProducer: 0, duplicateEnds: 0 };

  constructor(o: TransactionServiceOptions) {
    this.#o = o;
    const { store } = o;
    for (const t of [HALF_TOPIC, OP_TOPIC, DISCARD_TOPIC]) if (store.queueCount(t) === undefined) store.createTopic(t, 1);
    this.#openEnd = store.writtenOffset;
    this.#halfRead = o.offsets.get(CHECK_GROUP, HALF_TOPIC, 0) ?? store.minOffset(HALF_TOPIC, 0);
    this.#opRead = o.offsets.get(CHECK_GROUP, OP_TOPIC, 0) ?? store.minOffset(OP_TOPIC, 0);
    this.#catchUp();
    this.#schedule();
  }

  /** Counters, and the pending half messages as readers see them now. */
  stats(): TransactionStats {
    if (!this.#closed) this.#catchUp();
    return { pending: this.#pending.size, ...this.#stats };
  }

  /** Stops the checks; records the progress (the broker persists offsets after this). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      this.#catchUp();
      this.#saveProgress();
    } catch (err) {
      this.#o.onError('recording the transaction check progress failed', err);
    }
  }

  /** TRANSACTION_HALF: stores the half message; the caller waits for the slave as for a SEND. */
  putHalf(req: DecodedTransactionHalf): Promise<PutResult> {
    const { store } = this.#o;
    if (!GROUP_NAME_PATTERN.test(req.group)) throw new InvalidRequestError(`invalid producer group name ${JSON.stringify(req.group)}`);
    const { topic, queueId } = req.send;
    if (isTransactionTopic(topic)) throw new InvalidRequestError(`topic ${topic} is the broker's own`);
    const n = store.queueCount(topic);
    if (n === undefined) throw new UnknownTopicError(`topic ${JSON.stringify(topic)} does not exist`);
    if (!(Number.isInteger(queueId) && queueId >= 0 && queueId < n)) throw new UnknownQueueError(`topic ${JSON.stringify(topic)} has ${n} queues; there is no queue ${queueId}`);
    const m = req.send.messages[0]!;
    for (const k of RESERVED_PROPERTIES) {
      if (m.properties?.[k] !== undefined) throw new InvalidMessageError(`property ${k} is reserved for transactional messages`);
    }
    this.#catchUp();
    if (this.#pending.size >= (this.#o.maxPending ?? MAX_PENDING_TRANSACTIONS)) {
      throw new LimitExceededError('pendingTransactions', `limit pendingTransactions: ${this.#pending.size} half messages wait for their END or check; end some first`);
    }
    const properties = { ...m.properties, [PROPERTY_TRANSACTION_TOPIC]: topic, [PROPERTY_TRANSACTION_QUEUE_ID]: String(queueId), [PROPERTY_PRODUCER_GROUP]: req.group };
    return store.put(HALF_TOPIC, 0, [{ body: m.body, tags: m.tags, keys: m.keys, properties, flag: m.flag, bornTimestamp: m.bornTimestamp }]);
  }

  /**
   * END_TRANSACTION (the producer's, or its answer to a check). `checkTopic`:
   * the caller's permission check on the real topic.
   */
  async end(req: EndTransactionRequest, checkTopic: (topic: string) => void): Promise<EndResult> {
    this.#catchUp();
    const p = this.#pending.get(req.halfQueueOffset);
    if (p === undefined) {
      const half = this.#halfAt(req);
      checkTopic(half.properties[PROPERTY_TRANSACTION_TOPIC] ?? '');
      if (req.halfQueueOffset >= this.#halfRead) throw new ServiceUnavailableError(`half message ${req.halfQueueOffset} is not readable yet; try again`);
      this.#stats.duplicateEnds++;
      const known = this.#ended.get(req.halfQueueOffset);
      return { outcome: known?.outcome ?? TransactionOutcome.Ended, duplicate: true, at: known?.at ?? EMPTY_AT, replica: 'confirmed' };
    }
    if (p.group !== req.group || p.halfPhysicalOffset !== req.halfPhysicalOffset) throw new InvalidRequestError(`half message ${req.halfQueueOffset} is at ${p.halfPhysicalOffset} and belongs to producer group ${p.group}`);
    checkTopic(p.topic);
    if (p.ending !== undefined) {
      this.#stats.duplicateEnds++;
      return { ...(await p.ending), duplicate: true };
    }
    if (p.beforeOpen && !this.#isCaughtUp()) throw new ServiceUnavailableError('the broker is still recovering its transactions; try again');
    return this.#startEnd(p, req.action === TransactionAction.Commit ? OpKind.Commit : OpKind.Rollback);
  }

  /** The half message an END names, checked to be one of the group's. */
  #halfAt(req: EndTransactionRequest): DecodedMessage {
    const m = this.#o.store.getMessageByOffset(req.halfPhysicalOffset);
    if (m === undefined || m.topic !== HALF_TOPIC || m.queueOffset !== req.halfQueueOffset) {
      throw new InvalidRequestError(`no half message at physical offset ${req.halfPhysicalOffset}, half queue offset ${req.halfQueueOffset}`);
    }
    if (m.properties[PROPERTY_PRODUCER_GROUP] !== req.group) throw new InvalidRequestError(`half message ${req.halfQueueOffset} belongs to another producer group`);
    return m;
  }

  #startEnd(p: Pending, kind: OpKind): Promise<EndResult> {
    const ending = this.#finish(p, kind);
    p.ending = ending;
    ending.catch(() => {
      // Still pending: a later END or check ends it.
      if (p.ending === ending) p.ending = undefined;
    });
    return ending;
  }

  /** Writes the committed message (commit), the discard copy (discard), then the op record. */
  async #finish(p: Pending, wanted: OpKind): Promise<EndResult> {
    const { store } = this.#o;
    let kind = wanted;
    const half = store.getMessageByOffset(p.halfPhysicalOffset);
    if (p.beforeOpen && p.committed === undefined && half !== undefined) p.committed = this.#findCommitted(p);
    // Committed before a crash: whatever was asked now, it stays committed.
    if (p.committed !== undefined) kind = OpKind.Commit;
    if (half === undefined) {
      // Gone by retention before it ended: nothing to commit or keep.
      this.#o.onError(`half message ${p.halfQueueOffset} of group ${p.group} was deleted by retention before its transaction ended`);
      kind = OpKind.Discard;
    } else if (kind === OpKind.Commit && p.committed === undefined) {
      const queues = store.queueCount(p.topic);
      if (queues === undefined) {
        this.#o.onError(`topic ${p.topic} is gone: transaction ${p.halfQueueOffset} of group ${p.group} cannot commit; discarded`);
        kind = OpKind.Discard;
      } else {
        const r = await store.put(p.topic, Number(half.properties[PROPERTY_TRANSACTION_QUEUE_ID] ?? 0) % queues, [this.#realMessage(half, p)]);
        p.committed = { queueId: r.queueId, queueOffset: r.queueOffset, physicalOffset: r.physicalOffsets[0]! };
      }
    }
    if (kind === OpKind.Discard && half !== undefined) await store.put(DISCARD_TOPIC, 0, [copyOf(half, half.properties)]);
    const op = await store.put(OP_TOPIC, 0, [{ body: encodeOpBody(p.halfQueueOffset, kind === OpKind.Commit ? p.committed : undefined), tags: kind }]);
    const outcome = kind === OpKind.Commit ? TransactionOutcome.Committed : kind === OpKind.Rollback ? TransactionOutcome.RolledBack : TransactionOutcome.Discarded;
    const at = kind === OpKind.Commit ? p.committed! : EMPTY_AT;
    this.#resolved(p.halfQueueOffset, outcome, at);
    if (outcome === TransactionOutcome.Committed) this.#stats.committed++;
    else if (outcome === TransactionOutcome.RolledBack) this.#stats.rolledBack++;
    else {
      this.#stats.discarded++;
      this.#o.onError(`transaction ${p.halfQueueOffset} of producer group ${p.group} (topic ${p.topic}) discarded after ${p.checks} checks without an answer`);
    }
    // The op record is after the committed message: once the slave holds it, it holds both.
    const waited = this.#o.waitForSlave(op.endOffset);
    const replica = typeof waited === 'string' ? waited : await waited;
    return { outcome, duplicate: false, at, replica };
  }

  /** The message as committed: the half's, its transaction properties dropped, the commit key added. */
  #realMessage(half: DecodedMessage, p: Pending): StoreMessage {
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(half.properties)) if (k !== 'TAGS' && k !== 'KEYS' && !RESERVED_PROPERTIES.includes(k)) props[k] = v;
    const keys = [...(half.keys ?? []), commitKey(p.halfPhysicalOffset)];
    return { body: half.body, tags: half.tags, keys, properties: props, flag: half.flag, bornTimestamp: half.bornTimestamp };
  }

  /** Looks up the commit key: the message committed before a crash, if it was. */
  #findCommitted(p: Pending): CommittedAt | undefined {
    const found = this.#o.store.queryKey(p.topic, commitKey(p.halfPhysicalOffset), 1, COMMIT_KEY_CANDIDATES).messages[0];
    return found === undefined ? undefined : { queueId: found.queueId, queueOffset: found.queueOffset, physicalOffset: found.physicalOffset };
  }

  #resolved(halfQueueOffset: number, outcome: TransactionOutcome, at: CommittedAt): void {
    this.#pending.delete(halfQueueOffset);
    this.#ended.set(halfQueueOffset, { outcome, at });
    if (this.#ended.size > REMEMBERED_ENDS) this.#ended.delete(this.#ended.keys().next().value!);
  }

  /** Whether the dispatcher has indexed the log as it was at open (commit keys of that time are findable). */
  #isCaughtUp(): boolean {
    if (!this.#caughtUp) this.#caughtUp = this.#o.store.stats().dispatchedOffset >= this.#openEnd;
    return this.#caughtUp;
  }

  /** Reads half messages and op records made visible since the last call. */
  #catchUp(): void {
    this.#halfRead = this.#scan(HALF_TOPIC, this.#halfRead, (m) => this.#loadHalf(m));
    this.#opRead = this.#scan(OP_TOPIC, this.#opRead, (m) => {
      const op = parseOpRecord(m.tags, m.body);
      if (op !== undefined) this.#applyOp(op, m);
    });
  }

  #scan(topic: string, from: number, each: (m: DecodedMessage) => void): number {
    let offset = from;
    for (;;) {
      const got = this.#o.store.getMessages(topic, 0, offset, SCAN_BATCH, SCAN_BYTES);
      // Below retention's minimum: go to it. Past the end: readers may not see the whole log yet (a sync
      // master's dispatch waits for its slave) so wait; once they do, the progress outran what a crash kept.
      const moved = got.status === 'OFFSET_MOVED' || (got.status === 'OFFSET_OVERFLOW' && this.#isCaughtUp());
      if (moved && got.nextOffset !== offset) {
        offset = got.nextOffset;
        continue;
      }
      if (got.status !== 'FOUND') return offset;
      for (const m of decodeRecords(got.records)) each(m);
      offset = got.nextOffset;
    }
  }

  #loadHalf(m: DecodedMessage): void {
    const group = m.properties[PROPERTY_PRODUCER_GROUP];
    const topic = m.properties[PROPERTY_TRANSACTION_TOPIC];
    if (group === undefined || topic === undefined) return;
    this.#pending.set(m.queueOffset, {
      halfQueueOffset: m.queueOffset,
      halfPhysicalOffset: m.physicalOffset,
      group,
      topic,
      checks: 0,
      nextCheckAt: m.storeTimestamp + this.#o.transactionTimeoutMs,
      beforeOpen: m.physicalOffset < this.#openEnd,
      ending: undefined,
      checking: false,
      committed: undefined,
    });
  }

  #applyOp(op: OpRecord, m: DecodedMessage): void {
    this.#opWindow.push({ index: m.queueOffset, halfQueueOffset: op.halfQueueOffset });
    const p = this.#pending.get(op.halfQueueOffset);
    if (op.kind === OpKind.Check) {
      // Checks written since this open were counted when sent.
      if (p !== undefined && m.physicalOffset < this.#openEnd) {
        p.checks++;
        p.nextCheckAt = Math.max(p.nextCheckAt, m.storeTimestamp + this.#o.transactionCheckIntervalMs);
      }
      return;
    }
    // A final op of a half message still in memory as pending: an end replayed at open.
    if (p !== undefined && p.ending === undefined) {
      const outcome = op.kind === OpKind.Commit ? TransactionOutcome.Committed : op.kind === OpKind.Rollback ? TransactionOutcome.RolledBack : TransactionOutcome.Discarded;
      this.#resolved(op.halfQueueOffset, outcome, op.committed ?? EMPTY_AT);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    const tick = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, Math.floor(Math.min(this.#o.transactionTimeoutMs, this.#o.transactionCheckIntervalMs) / 4)));
    this.#timer = setTimeout(() => this.#tick(), tick);
    this.#timer.unref();
  }

  #tick(): void {
    try {
      const now = Date.now();
      this.producers.expire(now, this.#o.producerTimeoutMs);
      this.#catchUp();
      if (this.#isCaughtUp()) {
        for (const p of this.#pending.values()) {
          if (p.ending !== undefined || p.checking || now < p.nextCheckAt) continue;
          if (p.checks >= this.#o.transactionCheckMax) this.#startEnd(p, OpKind.Discard).catch((err: unknown) => this.#o.onError('discarding a half message failed; will try again', err));
          else this.#check(p, now);
        }
      }
      this.#saveProgress();
    } catch (err) {
      this.#o.onError('transaction check failed; will try again', err);
    }
    this.#schedule();
  }

  /** Records the check (its count survives a restart), then asks a live producer of the group. */
  #check(p: Pending, now: number): void {
    p.checking = true;
    p.nextCheckAt = now + this.#o.transactionCheckIntervalMs;
    const { store } = this.#o;
    store.put(OP_TOPIC, 0, [{ body: encodeOpBody(p.halfQueueOffset), tags: OpKind.Check }]).then(
      () => {
        p.checking = false;
        const checkTimes = p.checks;
        p.checks++;
        this.#stats.checks++;
        if (p.ending !== undefined) return;
        const ctx = this.producers.pick(p.group);
        const record = store.readRecord(p.halfPhysicalOffset);
        if (ctx === undefined || record === undefined) {
          this.#stats.checksWithoutProducer++;
          return;
        }
        ctx.notify(Opcode.CheckTransactionState, encodeCheckTransactionState({ brokerName: this.#o.brokerName, group: p.group, halfPhysicalOffset: p.halfPhysicalOffset, halfQueueOffset: p.halfQueueOffset, checkTimes, record }));
      },
      (err: unknown) => {
        p.checking = false;
        this.#o.onError('recording a transaction check failed; will try again', err);
      },
    );
  }

  /** The half topic's progress: its first pending message; the op topic's: its first op that may concern one at or after it. */
  #saveProgress(): void {
    let half = this.#halfRead;
    for (const p of this.#pending.values()) {
      half = p.halfQueueOffset;
      break;
    }
    const w = this.#opWindow;
    while (this.#opWindowHead < w.length && w[this.#opWindowHead]!.halfQueueOffset < half) this.#opWindowHead++;
    if (this.#opWindowHead > 1024 && this.#opWindowHead * 2 > w.length) {
      this.#opWindow = w.slice(this.#opWindowHead);
      this.#opWindowHead = 0;
    }
    const op = this.#opWindowHead < this.#opWindow.length ? this.#opWindow[this.#opWindowHead]!.index : this.#opRead;
    this.#o.offsets.commit(CHECK_GROUP, HALF_TOPIC, 0, half);
    this.#o.offsets.commit(CHECK_GROUP, OP_TOPIC, 0, op);
  }
}

function copyOf(m: DecodedMessage, properties: Record<string, string>): StoreMessage {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(properties)) if (k !== 'TAGS' && k !== 'KEYS') props[k] = v;
  return { body: m.body, tags: m.tags, keys: m.keys, properties: props, flag: m.flag, bornTimestamp: m.bornTimestamp };
}
