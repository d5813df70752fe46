// Transactional messages, the producer's side (RocketMQ's
// TransactionMQProducer): sendTransactional stores a half message on a
// broker, runs the caller's local transaction, then commits or rolls back.
// When the outcome stays unknown (the local transaction said so or threw,
// the END was lost, the producer died), the broker asks a live producer of
// the same group later: this producer registers its group with the brokers
// of its topics, and answers their checks with the group's checker.
import { ClientStateError, InvalidConfigError, InvalidMessageError, InvalidRequestError, MetaqError, NoRouteError, ServiceUnavailableError, GROUP_NAME_PATTERN } from '../common/index.js';
import { decodeCheckTransactionState, Opcode, TransactionAction, TransactionOutcome, type CheckTransactionState, type Frame } from '../protocol/index.js';
import { BrokerApi, type SendStatus } from './broker-api.js';
import { CLIENT_DEFAULTS, clientTls, credentialOption, defaultClientId, namesrvList, positiveOption, type ClientOptions } from './client-options.js';
import { ConnectionPool } from './connection-pool.js';
import { isRetryableSendError, type Message } from './producer.js';
import { ReceivedMessage } from './received-message.js';
import { TopicRoutes, type MessageQueue } from './topic-routes.js';

/** What the local transaction (or the checker) says: commit the message, roll it back, or not known yet (the broker asks again). */
export type LocalTransactionState = 'commit' | 'rollback' | 'unknown';

/** How the transaction ended, as far as this call knows. */
export type TransactionSendOutcome = 'COMMITTED' | 'ROLLED_BACK' | 'DISCARDED' | 'UNKNOWN';

/** Names a transaction: the broker and the half message's CommitLog offset (the same in executeLocal and in a check). */
export interface TransactionInfo {
  transactionId: string;
  topic: string;
  brokerName: string;
  queueId: number;
}

export interface TransactionCheck {
  transactionId: string;
  /** The half message as stored (body, tags, keys, properties: what the checker looks its transaction up by). */
  message: ReceivedMessage;
  /** Checks of this transaction before this one. */
  checkTimes: number;
}

export type LocalTransaction = (info: TransactionInfo) => LocalTransactionState | Promise<LocalTransactionState>;
export type TransactionChecker = (check: TransactionCheck) => LocalTransactionState | Promise<LocalTransactionState>;

export interface TransactionProducerOptions extends ClientOptions {
  /** The producer group: any live producer of it may answer the broker's checks of the group's transactions. */
  group: string;
  /** Answers the broker's checks of transactions whose outcome is unknown (a throw counts as unknown). */
  checker: TransactionChecker;
  /** Topics this producer sends to: it registers with their brokers at once, to answer checks another producer of the group left. */
  topics?: readonly string[];
  /** How often the producer re-registers with its brokers; keep it under the brokers' consumerTimeoutMs. Default 5000 ms. */
  heartbeatIntervalMs?: number;
  /** Extra attempts of the half message on another queue after a retryable failure. Default 2. */
  retries?: number;
}

export interface TransactionSendResult extends TransactionInfo {
  /** What the local transaction said ('unknown' if it threw). */
  localState: LocalTransactionState;
  /** How the transaction ended: UNKNOWN when it is left to the broker's checks (localState unknown, or the END failed: see endError). */
  outcome: TransactionSendOutcome;
  /** The half message's acknowledgement, then the END's (SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE: the slave did not confirm). */
  status: SendStatus;
  /** Where the committed message is (outcome COMMITTED). */
  queueOffset: number | undefined;
  /** The END answered that the transaction had already ended (a check's answer came first). */
  duplicate: boolean;
  /** Why the END failed (the broker will check back). */
  endError: MetaqError | undefined;
  /** The local transaction's own error, if it threw. */
  localError: unknown;
}

const OPTION_KEYS = new Set(['namesrv', 'requestTimeoutMs', 'routeRefreshMs', 'clientId', 'tls', 'credential', 'group', 'checker', 'topics', 'heartbeatIntervalMs', 'retries']);
const DEFAULT_HEARTBEAT_MS = 5000;
/** An END that fails retryably (connection lost, broker busy recovering) is sent this many times in all, this far apart; then the broker's check settles it. */
const END_ATTEMPTS = 3;
const END_RETRY_DELAY_MS = 200;
const OUTCOMES: Record<TransactionOutcome, TransactionSendOutcome> = {
  [TransactionOutcome.Committed]: 'COMMITTED',
  [TransactionOutcome.RolledBack]: 'ROLLED_BACK',
  [TransactionOutcome.Discarded]: 'DISCARDED',
  [TransactionOutcome.Ended]: 'UNKNOWN',
};
const STATES = new Set<string>(['commit', 'rollback', 'unknown']);

export class TransactionProducer {
  readonly group: string;
  readonly clientId: string;
  readonly #pool: ConnectionPool;
  readonly #api: BrokerApi;
  readonly #routes: TopicRoutes;
  readonly #checker: TransactionChecker;
  readonly #timeoutMs: number;
  readonly #retries: number;
  /** Topics used: their brokers are re-registered with at every heartbeat. */
  readonly #topics = new Set<string>();
  /** Connections this producer's group is registered on (a new connection registers again). */
  readonly #registered = new WeakSet<object>();
  readonly #heartbeat: NodeJS.Timeout;
  #counter = 0;
  #closed = false;

  constructor(options: TransactionProducerOptions) {
    for (const k of Object.keys(options)) {
      if (!OPTION_KEYS.has(k)) throw new InvalidConfigError(`unknown transaction producer option ${JSON.stringify(k)} (known: ${[...OPTION_KEYS].join(', ')})`);
    }
    if (typeof options.group !== 'string' || !GROUP_NAME_PATTERN.test(options.group)) throw new InvalidConfigError(`group must be 1-100 of [A-Za-z0-9_-], got ${JSON.stringify(options.group)}`);
    if (typeof options.checker !== 'function') throw new InvalidConfigError('checker must be a function answering the broker\'s checks');
    this.group = options.group;
    this.#checker = options.checker;
    this.clientId = options.clientId ?? defaultClientId();
    const namesrv = namesrvList(options.namesrv);
    this.#timeoutMs = positiveOption('requestTimeoutMs', options.requestTimeoutMs, CLIENT_DEFAULTS.requestTimeoutMs);
    this.#retries = positiveOption('retries', options.retries, 2, 0);
    const heartbeatMs = positiveOption('heartbeatIntervalMs', options.heartbeatIntervalMs, DEFAULT_HEARTBEAT_MS);
    this.#pool = new ConnectionPool((addr, f) => this.#onNotify(addr, f), clientTls(options.tls), credentialOption(options.credential));
    this.#api = new BrokerApi(this.#pool, this.#timeoutMs);
    this.#routes = new TopicRoutes(this.#api, namesrv, positiveOption('routeRefreshMs', options.routeRefreshMs, CLIENT_DEFAULTS.routeRefreshMs));
    for (const t of options.topics ?? []) this.#topics.add(t);
    this.#heartbeat = setInterval(() => void this.#registerAll(), heartbeatMs);
    this.#heartbeat.unref();
    if (this.#topics.size > 0) void this.#registerAll();
  }

  /**
   * Registers with the brokers of the given topics (and those used so far)
   * now; resolves once each answered or failed. A producer meant to answer
   * checks before it sends anything awaits this after construction.
   */
  async register(): Promise<void> {
    await this.#registerAll();
  }

  /**
   * Stores `message` as a half message on a queue of `topic`, runs
   * `executeLocal`, then commits or rolls back. Throws only when the half
   * message could not be stored (executeLocal then never ran); afterwards
   * the result says how the transaction ended, UNKNOWN meaning the broker
   * will check back with a producer of the group.
   */
  async sendTransactional(topic: string, message: Message, executeLocal: LocalTransaction): Promise<TransactionSendResult> {
    if (this.#closed) throw new ClientStateError('transaction producer is shut down');
    if (message === null || typeof message !== 'object') throw new InvalidMessageError('a message must be an object with a body');
    if (typeof executeLocal !== 'function') throw new InvalidRequestError('executeLocal must be a function running the local transaction');
    const body = typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body;
    if (!(body instanceof Uint8Array)) throw new InvalidMessageError('message body must be a string or a Uint8Array');
    this.#topics.add(topic);
    const wire = { body, tags: message.tags, keys: message.keys, properties: message.properties, flag: message.flag, bornTimestamp: Date.now() };
    let lastError: unknown;
    let half: { mq: MessageQueue; r: Awaited<ReturnType<BrokerApi['transactionHalf']>> } | undefined;
    let avoid: string | undefined;
    for (let attempt = 0; attempt <= this.#retries && half === undefined; attempt++) {
      const queues = (await this.#routes.queues(topic)).filter((q) => q.writable !== false);
      if (queues.length === 0) throw new NoRouteError(`no queue of topic ${JSON.stringify(topic)} is served`);
      let mq = queues[this.#counter++ % queues.length]!;
      for (let i = 0; i < queues.length && mq.brokerName === avoid; i++) mq = queues[this.#counter++ % queues.length]!;
      try {
        await this.#ensureRegistered(mq.addr);
        half = { mq, r: await this.#api.transactionHalf(mq.addr, { group: this.group, send: { topic, queueId: mq.queueId, messages: [wire] } }, this.#timeoutMs) };
      } catch (err) {
        lastError = err;
        if (!isRetryableSendError(err)) throw err;
        avoid = mq.brokerName;
        this.#routes.refreshSoon(topic);
      }
    }
    if (half === undefined) throw lastError instanceof MetaqError ? lastError : new ServiceUnavailableError('half message not stored', { cause: lastError });
    const { mq, r } = half;
    const ref = { group: this.group, halfPhysicalOffset: r.physicalOffsets[0]!, halfQueueOffset: r.queueOffset };
    const info: TransactionInfo = { transactionId: transactionIdOf(mq.brokerName, ref.halfPhysicalOffset), topic, brokerName: mq.brokerName, queueId: mq.queueId };
    let localState: LocalTransactionState = 'unknown';
    let localError: unknown;
    try {
      const s = await executeLocal(info);
      localState = STATES.has(s) ? s : 'unknown';
    } catch (err) {
      localError = err;
    }
    const result: TransactionSendResult = { ...info, localState, outcome: 'UNKNOWN', status: r.status, queueOffset: undefined, duplicate: false, endError: undefined, localError };
    if (localState === 'unknown') return result;
    const action = localState === 'commit' ? TransactionAction.Commit : TransactionAction.Rollback;
    // An END is idempotent (the broker ends a transaction once): a lost or refused-for-now one is simply sent again.
    for (let attempt = 1; ; attempt++) {
      try {
        const end = await this.#api.endTransaction(mq.addr, { ...ref, action, fromCheck: false }, this.#timeoutMs);
        result.outcome = OUTCOMES[end.outcome];
        result.status = end.status;
        result.duplicate = end.duplicate;
        if (end.outcome === TransactionOutcome.Committed && end.physicalOffset > 0) result.queueOffset = end.queueOffset;
        result.endError = undefined;
        return result;
      } catch (err) {
        result.endError = err instanceof MetaqError ? err : new ServiceUnavailableError('end of transaction failed', { cause: err });
        if (attempt >= END_ATTEMPTS || this.#closed || !isRetryableSendError(err)) return result;
        await new Promise((resolve) => setTimeout(resolve, END_RETRY_DELAY_MS));
      }
    }
  }

  /** Leaves the group on every broker, closes the connections; transactions left open are checked with the group's other producers. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    const addrs = await this.#brokerAddrs().catch(() => []);
    await Promise.all(addrs.map((a) => this.#api.unregisterProducer(a, { clientId: this.clientId, group: this.group })));
    this.#routes.close();
    this.#pool.close();
  }

  /** Stops at once, as a crash would: no unregistration (tests; the brokers notice the closed connections). */
  kill(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#routes.close();
    this.#pool.close();
  }

  async #ensureRegistered(addr: string): Promise<void> {
    const c = await this.#pool.get(addr);
    if (this.#registered.has(c)) return;
    await this.#api.registerProducer(addr, { clientId: this.clientId, group: this.group });
    this.#registered.add(c);
  }

  async #brokerAddrs(): Promise<string[]> {
    const addrs = new Set<string>();
    for (const t of this.#topics) {
      for (const q of await this.#routes.queues(t).catch(() => [] as MessageQueue[])) if (q.writable !== false) addrs.add(q.addr);
    }
    return [...addrs];
  }

  async #registerAll(): Promise<void> {
    if (this.#closed) return;
    const addrs = await this.#brokerAddrs();
    await Promise.all(
      addrs.map(async (a) => {
        try {
          const c = await this.#pool.get(a);
          await this.#api.registerProducer(a, { clientId: this.clientId, group: this.group });
          this.#registered.add(c);
        } catch {
          // The next heartbeat tries again; a send registers first anyway.
        }
      }),
    );
  }

  #onNotify(addr: string, f: Frame): void {
    if (f.opcode !== Opcode.CheckTransactionState || this.#closed) return;
    let check: CheckTransactionState;
    try {
      check = decodeCheckTransactionState(f.body);
    } catch {
      return; // a broker we do not understand: its next check may be better
    }
    if (check.group !== this.group) return;
    void this.#answer(addr, check);
  }

  async #answer(addr: string, check: CheckTransactionState): Promise<void> {
    let state: LocalTransactionState = 'unknown';
    try {
      const s = await this.#checker({ transactionId: transactionIdOf(check.brokerName, check.halfPhysicalOffset), message: new ReceivedMessage(check.record, check.brokerName, addr), checkTimes: check.checkTimes });
      if (STATES.has(s)) state = s;
    } catch {
      state = 'unknown';
    }
    if (state === 'unknown' || this.#closed) return;
    const action = state === 'commit' ? TransactionAction.Commit : TransactionAction.Rollback;
    // A lost answer is asked again at the next check.
    await this.#api.endTransaction(addr, { group: check.group, halfPhysicalOffset: check.halfPhysicalOffset, halfQueueOffset: check.halfQueueOffset, action, fromCheck: true }, this.#timeoutMs).catch(() => undefined);
  }
}

function transactionIdOf(brokerName: string, halfPhysicalOffset: number): string {
  return `${brokerName}:${halfPhysicalOffset}`;
}
