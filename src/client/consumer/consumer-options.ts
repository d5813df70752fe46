// The consumer's options: what a user may set, the defaults in one place
// (CONSUMER_DEFAULTS), and their resolution and validation.
import { GROUP_NAME_PATTERN, InvalidConfigError } from '../../common/index.js';
import { ConsumeMode } from '../../protocol/index.js';
import type { ClientTls } from '../../net/index.js';
import type { Credential } from '../../security/index.js';
import { CLIENT_DEFAULTS, clientTls, credentialOption, defaultClientId, namesrvList, positiveOption, type ClientOptions } from '../client-options.js';

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

export const CONSUMER_DEFAULTS = {
  ...CLIENT_DEFAULTS,
  mode: 'clustering',
  ordered: false,
  consumeFrom: 'first',
  batchSize: 32,
  concurrency: 4,
  pullBatchSize: 256,
  pollTimeoutMs: 5000,
  maxBufferedPerQueue: 2048,
  heartbeatIntervalMs: 2000,
  rebalanceIntervalMs: 5000,
  commitIntervalMs: 1000,
  maxReconsumeTimes: 5,
  localRetryDelayMs: 1000,
  readFromSlave: 'fallback',
} as const;

/** Most bytes the broker may answer one pull with. */
export const PULL_MAX_BYTES = 4 * 1024 * 1024;

/** Every option with its value, the mode as the wire says it. */
export interface ResolvedConsumerOptions extends Required<Omit<ConsumerOptions, 'namesrv' | 'clientId' | 'mode' | 'tls' | 'credential'>> {
  /** Loaded TLS material; undefined: plain TCP. */
  tls: ClientTls | undefined;
  credential: Credential | undefined;
  namesrv: string[];
  clientId: string;
  mode: ConsumeMode;
  /** Where the group's progress is kept: broadcasting members each keep their own. */
  offsetGroup: string;
}

const READ_FROM_SLAVE = ['fallback', 'prefer', 'never'] as const;

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  if (typeof options.group !== 'string' || !GROUP_NAME_PATTERN.test(options.group)) {
    throw new InvalidConfigError(`group must be 1-100 of [A-Za-z0-9_-], got ${JSON.stringify(options.group)}`);
  }
  const mode = options.mode ?? CONSUMER_DEFAULTS.mode;
  if (mode !== 'clustering' && mode !== 'broadcasting') throw new InvalidConfigError(`mode must be clustering or broadcasting, got ${JSON.stringify(mode)}`);
  const consumeFrom = options.consumeFrom ?? CONSUMER_DEFAULTS.consumeFrom;
  if (consumeFrom !== 'first' && consumeFrom !== 'last') throw new InvalidConfigError(`consumeFrom must be first or last, got ${JSON.stringify(consumeFrom)}`);
  const clientId = options.clientId ?? defaultClientId();
  const d = CONSUMER_DEFAULTS;
  const resolved: ResolvedConsumerOptions = {
    group: options.group,
    clientId,
    mode: mode === 'clustering' ? ConsumeMode.Clustering : ConsumeMode.Broadcasting,
    ordered: options.ordered ?? d.ordered,
    offsetGroup: mode === 'broadcasting' ? `${options.group}@${clientId}` : options.group,
    requestTimeoutMs: positiveOption('requestTimeoutMs', options.requestTimeoutMs, d.requestTimeoutMs),
    routeRefreshMs: positiveOption('routeRefreshMs', options.routeRefreshMs, d.routeRefreshMs),
    consumeFrom,
    batchSize: positiveOption('batchSize', options.batchSize, d.batchSize),
    concurrency: positiveOption('concurrency', options.concurrency, d.concurrency),
    pullBatchSize: positiveOption('pullBatchSize', options.pullBatchSize, d.pullBatchSize),
    pollTimeoutMs: positiveOption('pollTimeoutMs', options.pollTimeoutMs, d.pollTimeoutMs, 0),
    maxBufferedPerQueue: positiveOption('maxBufferedPerQueue', options.maxBufferedPerQueue, d.maxBufferedPerQueue),
    heartbeatIntervalMs: positiveOption('heartbeatIntervalMs', options.heartbeatIntervalMs, d.heartbeatIntervalMs),
    rebalanceIntervalMs: positiveOption('rebalanceIntervalMs', options.rebalanceIntervalMs, d.rebalanceIntervalMs),
    commitIntervalMs: positiveOption('commitIntervalMs', options.commitIntervalMs, d.commitIntervalMs),
    maxReconsumeTimes: positiveOption('maxReconsumeTimes', options.maxReconsumeTimes, d.maxReconsumeTimes, 0),
    localRetryDelayMs: positiveOption('localRetryDelayMs', options.localRetryDelayMs, d.localRetryDelayMs, 0),
    readFromSlave: options.readFromSlave ?? d.readFromSlave,
    tls: clientTls(options.tls),
    namesrv: [],
    credential: credentialOption(options.credential),
  };
  if (!READ_FROM_SLAVE.includes(resolved.readFromSlave)) {
    throw new InvalidConfigError(`readFromSlave must be fallback, prefer or never, got ${JSON.stringify(resolved.readFromSlave)}`);
  }
  // Last, as before: a bad option above is reported before a missing name server.
  resolved.namesrv = namesrvList(options.namesrv);
  return resolved;
}
