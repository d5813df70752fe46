// Broker configuration: defaults, validation (a typo is an error, not a
// silently ignored key) and the nested store configuration.
import { checkInteger, InvalidConfigError } from '../common/index.js';
import { DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_SIZE } from '../protocol/index.js';
import { checkConnectionLimits, checkTlsClientOptions, checkTlsServerOptions, CONNECTION_LIMIT_DEFAULTS, parseAddress, type ConnectionLimits, type TlsClientOptions, type TlsServerOptions } from '../net/index.js';
import { checkHeldPullLimits, HELD_PULL_DEFAULTS, type HeldPullLimits } from './long-poll.js';
import { resolveStoreConfig, type MessageStoreConfig } from '../store/index.js';
import { validateQueueCount, validateTopicName } from '../store/index.js';
import { checkResourceLimits, RESOURCE_LIMIT_DEFAULTS, type ResourceLimitsConfig } from './resource-limits.js';
import { checkCredential, checkSafeBinding, type Credential } from '../security/index.js';
import { checkMetricsListen } from '../net/index.js';
import { checkAlertRules, type AlertRule, type ResolvedAlertRule } from './metrics/index.js';

/** Resource limits (resource-limits.ts), connection limits (maxConnections, ...) and held-pull limits are top-level keys too: docs/SECURITY.md, "Limits". */
export interface BrokerConfig extends ResourceLimitsConfig, Partial<ConnectionLimits>, Partial<HeldPullLimits> {
  /** Broker name: registered with the name server, shown to clients. Default 'broker-a'. */
  brokerName?: string;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one. Default 10911. */
  port?: number;
  /** Name servers (host:port) to register with; empty runs standalone. */
  namesrvAddrs?: readonly string[];
  /** How often the broker re-registers its topics. Default 5000 ms. */
  registerIntervalMs?: number;
  /** The store (dir is required). */
  store: MessageStoreConfig;
  /** Topics (name to queue count) created at start when missing. */
  topics?: Readonly<Record<string, number>>;
  maxFrameSize?: number;
  /** The longest a pull may be held at the end of a queue. Default 30000 ms. */
  maxPollTimeoutMs?: number;
  /** A consumer silent for longer than this leaves its group. Default 20000 ms. */
  consumerTimeoutMs?: number;
  /** An ordered consumer's queue lock lapses after this without renewal. Default 30000 ms. */
  queueLockTimeoutMs?: number;
  /**
   * Delayed messages (README, "Delayed messages"): the longest delay a send
   * may ask for, and so the span of the timer wheel (8 bytes x 3 per second
   * of it in memory). Default 2 days. At most store.retentionMs (72 h by
   * default): a waiting message is a CommitLog record, which retention deletes.
   */
  maxDelayMs?: number;
  /** Re-deliveries before a failed message moves to the dead-letter topic. Default 5. */
  maxReconsumeTimes?: number;
  /** Delay before the n-th re-delivery (the last repeats). Default 1s 5s 10s 30s 1m 2m. */
  retryDelaysMs?: readonly number[];
  /** How often changed consumer offsets are written to disk. Default 1000 ms. */
  offsetPersistIntervalMs?: number;
  /** Queues of the retry and dead-letter topics the broker creates. Default 1. */
  retryQueueCount?: number;
  /** 'master' (default) takes sends and serves a slave; 'slave' copies its master's log and serves reads. */
  role?: 'master' | 'slave';
  /** Master: port of the replication listener; default port + 1 (0 when port is 0: a free one). */
  haPort?: number;
  /** Slave: host:port of the master's replication listener. Required for a slave. */
  masterHaAddr?: string;
  /** Master: 'sync' acknowledges a send once the slave holds it too; 'async' (default) at once. */
  replicationMode?: 'sync' | 'async';
  /** Master, sync replication: how long a send waits for the slave. Default 3000 ms. */
  slaveTimeoutMs?: number;
  /** Master, sync replication: a slave further behind than this is not waited for. Default 256 MiB. */
  maxSlaveLagBytes?: number;
  /** TLS on the client port (certificate and key files). Default: plain TCP. */
  tls?: TlsServerOptions;
  /** Master: TLS on the replication port. Default: plain TCP. */
  haTls?: TlsServerOptions;
  /** Slave: connect to the master's replication port over TLS (what to trust). Default: plain TCP. */
  masterTls?: TlsClientOptions;
  /** Register with the name servers over TLS (what to trust). Default: plain TCP. */
  namesrvTls?: TlsClientOptions;
  /**
   * JSON file of the accounts this broker takes (docs/SECURITY.md), on its
   * client port and its replication port (replica accounts only there).
   * Without it the broker is open: allowed on a loopback host, refused
   * elsewhere unless `allowUnauthenticated`.
   */
  credentialsFile?: string;
  /** The broker account this broker presents to name servers. */
  credential?: Credential;
  /** Slave: the replica account it presents to its master's replication port. */
  replicaCredential?: Credential;
  /** Lets a broker bound to a non-loopback host run without accounts (a network you trust). Default false. */
  allowUnauthenticated?: boolean;
  /** A connection that has not authenticated within this is closed. Default 10000 ms. */
  authTimeoutMs?: number;
  /** Transactional messages: a half message with no END is first checked back this long after it was stored. Default 6000 ms. */
  transactionTimeoutMs?: number;
  /** Transactional messages: then checked again at this interval. Default 30000 ms. */
  transactionCheckIntervalMs?: number;
  /** Transactional messages: checks before an unanswered half message is discarded (to TRANS_CHECK_MAX_TIME_TOPIC). Default 15. */
  transactionCheckMax?: number;
  // ---- monitoring (README "Monitoring and alerts") ----
  /** Port of the HTTP listener answering GET /metrics (Prometheus text); 0 picks a free one. Default: no listener. */
  metricsPort?: number;
  /** Host of the metrics listener (no authentication on it). Default 127.0.0.1. */
  metricsHost?: string;
  /** How often the broker reads its figures (rates, group lag) and evaluates its alert rules. Default 1000 ms. */
  monitorIntervalMs?: number;
  /** Alert rules, evaluated every monitorIntervalMs. Default none. */
  alerts?: readonly AlertRule[];
}

type TlsKeys = 'tls' | 'haTls' | 'masterTls' | 'namesrvTls';

export type ResolvedBrokerConfig = Required<Omit<BrokerConfig, 'store' | 'topics' | 'namesrvAddrs' | 'retryDelaysMs' | 'haPort' | 'masterHaAddr' | TlsKeys | 'credentialsFile' | 'credential' | 'replicaCredential' | 'metricsPort' | 'alerts'>> & Pick<BrokerConfig, TlsKeys> & {
  metricsPort: number | undefined;
  alerts: readonly ResolvedAlertRule[];
  credentialsFile: string | undefined;
  credential: Credential | undefined;
  replicaCredential: Credential | undefined;
  haPort: number;
  masterHaAddr: string | undefined;
  store: MessageStoreConfig;
  topics: Readonly<Record<string, number>>;
  namesrvAddrs: readonly string[];
  retryDelaysMs: readonly number[];
};

export const BROKER_DEFAULTS = {
  brokerName: 'broker-a',
  host: '127.0.0.1',
  port: 10911,
  namesrvAddrs: [] as readonly string[],
  registerIntervalMs: 5000,
  topics: {} as Readonly<Record<string, number>>,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxPollTimeoutMs: 30_000,
  consumerTimeoutMs: 20_000,
  queueLockTimeoutMs: 30_000,
  // Delayed messages
  maxDelayMs: 2 * 24 * 3600 * 1000,
  maxReconsumeTimes: 5,
  retryDelaysMs: [1000, 5000, 10_000, 30_000, 60_000, 120_000] as readonly number[],
  offsetPersistIntervalMs: 1000,
  retryQueueCount: 1,
  role: 'master' as 'master' | 'slave',
  haPort: undefined as number | undefined,
  masterHaAddr: undefined as string | undefined,
  replicationMode: 'async' as 'sync' | 'async',
  slaveTimeoutMs: 3000,
  maxSlaveLagBytes: 256 * 1024 * 1024,
  ...RESOURCE_LIMIT_DEFAULTS,
  tls: undefined as TlsServerOptions | undefined,
  haTls: undefined as TlsServerOptions | undefined,
  masterTls: undefined as TlsClientOptions | undefined,
  namesrvTls: undefined as TlsClientOptions | undefined,
  ...CONNECTION_LIMIT_DEFAULTS,
  ...HELD_PULL_DEFAULTS,
  credentialsFile: undefined as string | undefined,
  credential: undefined as Credential | undefined,
  replicaCredential: undefined as Credential | undefined,
  allowUnauthenticated: false,
  authTimeoutMs: 10_000,
  transactionTimeoutMs: 6000,
  transactionCheckIntervalMs: 30_000,
  transactionCheckMax: 15,
  metricsPort: undefined as number | undefined,
  metricsHost: '127.0.0.1',
  monitorIntervalMs: 1000,
  alerts: [] as readonly ResolvedAlertRule[],
};

/** maxDelayMs at most a year: the timer wheel holds one slot per second of it. */
const MAX_DELAY_LIMIT_MS = 366 * 24 * 3600 * 1000;

/** The largest TCP port number. */
const MAX_PORT = 65535;

const KNOWN = new Set(['store', ...Object.keys(BROKER_DEFAULTS)]);
/** Room for the send request's own fields around the largest message. */
const SEND_FRAME_SLACK = 64 * 1024;

export function resolveBrokerConfig(config: BrokerConfig): ResolvedBrokerConfig {
  if (config === null || typeof config !== 'object') throw new InvalidConfigError('broker config must be an object');
  for (const k of Object.keys(config)) {
    if (!KNOWN.has(k)) throw new InvalidConfigError(`unknown broker option ${JSON.stringify(k)} (known: ${[...KNOWN].sort().join(', ')})`);
  }
  if (config.store === undefined) throw new InvalidConfigError('broker config needs store.dir');
  // An explicit `undefined` means "not set", not "set to undefined".
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const c = { ...BROKER_DEFAULTS, ...given } as ResolvedBrokerConfig;
  if (typeof c.host !== 'string' || c.host === '') throw new InvalidConfigError(`host must be a non-empty string, got ${JSON.stringify(c.host)}`);
  if (typeof c.brokerName !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(c.brokerName)) throw new InvalidConfigError(`brokerName must be 1-64 of [A-Za-z0-9_.-], got ${JSON.stringify(c.brokerName)}`);
  checkInteger('port', c.port, 0, MAX_PORT);
  if (c.port > 65535) throw new InvalidConfigError(`port must be <= 65535, got ${c.port}`);
  if (!Array.isArray(c.namesrvAddrs) || !c.namesrvAddrs.every((a) => typeof a === 'string')) throw new InvalidConfigError('namesrvAddrs must be a list of host:port strings');
  for (const a of c.namesrvAddrs) parseAddress(a);
  checkInteger('registerIntervalMs', c.registerIntervalMs);
  checkInteger('maxFrameSize', c.maxFrameSize, FRAME_HEADER_SIZE + 1);
  checkInteger('maxPollTimeoutMs', c.maxPollTimeoutMs, 0);
  checkInteger('consumerTimeoutMs', c.consumerTimeoutMs);
  checkInteger('queueLockTimeoutMs', c.queueLockTimeoutMs);
  checkInteger('maxReconsumeTimes', c.maxReconsumeTimes, 0);
  checkInteger('offsetPersistIntervalMs', c.offsetPersistIntervalMs);
  checkInteger('retryQueueCount', c.retryQueueCount);
  if (!Array.isArray(c.retryDelaysMs) || c.retryDelaysMs.length === 0 || !c.retryDelaysMs.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InvalidConfigError('retryDelaysMs must be a non-empty list of delays in ms');
  }
  checkInteger('maxDelayMs', c.maxDelayMs, 1000, MAX_DELAY_LIMIT_MS);
  if (c.retryDelaysMs.some((d) => d > c.maxDelayMs)) throw new InvalidConfigError(`retryDelaysMs go through the timer: none may exceed maxDelayMs ${c.maxDelayMs}`);
  if (c.topics === null || typeof c.topics !== 'object') throw new InvalidConfigError('topics must map topic names to queue counts');
  checkResourceLimits(c, c.maxFrameSize - FRAME_HEADER_SIZE, given.maxTopics !== undefined);
  for (const [name, queues] of Object.entries(c.topics)) {
    validateTopicName(name);
    validateQueueCount(queues);
    if (queues > c.maxQueuesPerTopic) throw new InvalidConfigError(`topics: ${name} has ${queues} queues, more than maxQueuesPerTopic ${c.maxQueuesPerTopic}`);
  }
  if (Object.keys(c.topics).length > c.maxTopics) throw new InvalidConfigError(`topics lists ${Object.keys(c.topics).length} topics, more than maxTopics ${c.maxTopics}`);
  if (c.role !== 'master' && c.role !== 'slave') throw new InvalidConfigError(`role must be master or slave, got ${JSON.stringify(c.role)}`);
  if (c.replicationMode !== 'sync' && c.replicationMode !== 'async') throw new InvalidConfigError(`replicationMode must be sync or async, got ${JSON.stringify(c.replicationMode)}`);
  checkInteger('slaveTimeoutMs', c.slaveTimeoutMs);
  checkInteger('maxSlaveLagBytes', c.maxSlaveLagBytes);
  checkConnectionLimits(c);
  checkHeldPullLimits(c);
  if (c.haPort === undefined) c.haPort = c.port === 0 ? 0 : c.port + 1;
  checkInteger('haPort', c.haPort, 0, MAX_PORT);
  if (c.role === 'slave') {
    if (typeof c.masterHaAddr !== 'string') throw new InvalidConfigError('a slave needs masterHaAddr (host:port of its master\'s replication port)');
    parseAddress(c.masterHaAddr);
  } else if (c.masterHaAddr !== undefined) {
    throw new InvalidConfigError('masterHaAddr is for slaves; this broker is a master');
  }
  // Shapes only: the files are read at start (loadBrokerTls).
  if (c.tls !== undefined) checkTlsServerOptions(c.tls, 'tls');
  if (c.haTls !== undefined) checkTlsServerOptions(c.haTls, 'haTls');
  if (c.masterTls !== undefined) checkTlsClientOptions(c.masterTls, 'masterTls');
  if (c.namesrvTls !== undefined) checkTlsClientOptions(c.namesrvTls, 'namesrvTls');
  if (c.role === 'slave' && c.haTls !== undefined) throw new InvalidConfigError('haTls is for masters (their replication port); a slave connects with masterTls');
  if (c.role === 'master' && c.masterTls !== undefined) throw new InvalidConfigError('masterTls is for slaves; this broker is a master (its replication port takes haTls)');
  if (c.credentialsFile !== undefined && (typeof c.credentialsFile !== 'string' || c.credentialsFile === '')) throw new InvalidConfigError('credentialsFile must be a path');
  if (c.credential !== undefined) c.credential = checkCredential(c.credential, 'credential');
  if (c.replicaCredential !== undefined) c.replicaCredential = checkCredential(c.replicaCredential, 'replicaCredential');
  if (c.replicaCredential !== undefined && c.role !== 'slave') throw new InvalidConfigError('replicaCredential is for slaves; this broker is a master');
  if (typeof c.allowUnauthenticated !== 'boolean') throw new InvalidConfigError(`allowUnauthenticated must be true or false, got ${JSON.stringify(c.allowUnauthenticated)}`);
  checkInteger('authTimeoutMs', c.authTimeoutMs);
  checkInteger('transactionTimeoutMs', c.transactionTimeoutMs);
  checkInteger('transactionCheckIntervalMs', c.transactionCheckIntervalMs);
  checkInteger('transactionCheckMax', c.transactionCheckMax, 0, 65535);
  checkSafeBinding(`broker ${c.brokerName}`, c.host, c.credentialsFile !== undefined, c.allowUnauthenticated);
  checkMetricsListen(c.metricsHost, c.metricsPort);
  checkInteger('monitorIntervalMs', c.monitorIntervalMs, 100);
  c.alerts = checkAlertRules(c.alerts);
  const store = resolveStoreConfig(c.store);
  if (given.maxDelayMs !== undefined && c.maxDelayMs > store.retentionMs) {
    throw new InvalidConfigError(`maxDelayMs ${c.maxDelayMs} is longer than store.retentionMs ${store.retentionMs}: retention would delete messages still waiting`);
  }
  if (c.maxFrameSize < store.maxMessageSize + SEND_FRAME_SLACK) {
    throw new InvalidConfigError(`maxFrameSize ${c.maxFrameSize} cannot carry a message of store.maxMessageSize ${store.maxMessageSize}`);
  }
  return c;
}
