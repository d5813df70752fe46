// The name server: brokers register their topics here, clients ask it where a
// topic lives. Stateless across restarts on purpose: brokers re-register
// within one registration interval.
import { InvalidConfigError, NoRouteError, RefusalCounters } from '../common/index.js';
import { checkConnectionLimits, checkMetricsListen, checkTlsServerOptions, CONNECTION_LIMIT_DEFAULTS, connectionLimitsOf, loadServerTls, MetricsServer, RequestServer, type ConnectionLimits, type Handler, type TlsServerOptions } from '../net/index.js';
import { Authenticator, checkSafeBinding, loadAccountsFile } from '../security/index.js';
import {
  decodeBrokerIdentity,
  decodeRegisterBroker,
  decodeTopic,
  DEFAULT_MAX_FRAME_SIZE,
  encodeRoute,
  FRAME_HEADER_SIZE,
  encodeText,
  Opcode,
  type NameServerStats,
} from '../protocol/index.js';
import { RouteTable } from './route-table.js';
import { checkRouteLimits, ROUTE_LIMIT_DEFAULTS, type RouteLimits } from './route-limits.js';
import { nameServerMetrics } from './namesrv-metrics.js';

/** Route limits (route-limits.ts) and connection limits (maxConnections, ...) are top-level keys too: docs/SECURITY.md, "Limits". */
export interface NameServerConfig extends Partial<RouteLimits>, Partial<ConnectionLimits> {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one. Default 9876. */
  port?: number;
  /** A broker silent for longer than this is dropped. Default 30000 ms. */
  brokerExpiryMs?: number;
  maxFrameSize?: number;
  /** TLS on the port (certificate and key files). Default: plain TCP. */
  tls?: TlsServerOptions;
  /**
   * JSON file of the accounts this name server takes (docs/SECURITY.md):
   * brokers register only the names their account holds. Without it the
   * name server is open: allowed on a loopback host, refused elsewhere
   * unless `allowUnauthenticated`.
   */
  credentialsFile?: string;
  /** Lets a name server bound to a non-loopback host run without accounts. Default false. */
  allowUnauthenticated?: boolean;
  /** A connection that has not authenticated within this is closed. Default 10000 ms. */
  authTimeoutMs?: number;
  /** Port of the HTTP listener answering GET /metrics (Prometheus text); 0 picks a free one. Default: no listener. */
  metricsPort?: number;
  /** Host of the metrics listener (no authentication on it). Default 127.0.0.1. */
  metricsHost?: string;
}

export const NAMESRV_DEFAULTS = {
  host: '127.0.0.1',
  port: 9876,
  brokerExpiryMs: 30_000,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  ...ROUTE_LIMIT_DEFAULTS,
  ...CONNECTION_LIMIT_DEFAULTS,
  credentialsFile: undefined as string | undefined,
  allowUnauthenticated: false,
  authTimeoutMs: 10_000,
  metricsHost: '127.0.0.1',
} as const;

/** Options with no default value: off unless given. */
const OPTIONAL_KEYS = ['tls', 'metricsPort'];
const KNOWN_KEYS = new Set([...Object.keys(NAMESRV_DEFAULTS), ...OPTIONAL_KEYS]);

export type ResolvedNameServerConfig = Required<Omit<NameServerConfig, 'tls' | 'credentialsFile' | 'metricsPort'>> & Pick<NameServerConfig, 'tls'> & { credentialsFile: string | undefined; metricsPort: number | undefined };

export function resolveNameServerConfig(config: NameServerConfig): ResolvedNameServerConfig {
  for (const k of Object.keys(config)) {
    if (!KNOWN_KEYS.has(k)) throw new InvalidConfigError(`unknown name server option ${JSON.stringify(k)} (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  const c = { ...NAMESRV_DEFAULTS, ...given } as ResolvedNameServerConfig;
  if (typeof c.host !== 'string' || c.host === '') throw new InvalidConfigError(`host must be a non-empty string, got ${JSON.stringify(c.host)}`);
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new InvalidConfigError(`port must be an integer 0..65535, got ${JSON.stringify(c.port)}`);
  if (typeof c.brokerExpiryMs !== 'number' || !Number.isInteger(c.brokerExpiryMs) || c.brokerExpiryMs <= 0) {
    throw new InvalidConfigError(`brokerExpiryMs must be a positive integer, got ${JSON.stringify(c.brokerExpiryMs)}`);
  }
  if (typeof c.maxFrameSize !== 'number' || !Number.isInteger(c.maxFrameSize) || c.maxFrameSize <= FRAME_HEADER_SIZE) {
    throw new InvalidConfigError(`maxFrameSize must be an integer > ${FRAME_HEADER_SIZE}, got ${JSON.stringify(c.maxFrameSize)}`);
  }
  checkRouteLimits(c);
  checkConnectionLimits(c);
  if (c.tls !== undefined) checkTlsServerOptions(c.tls, 'tls');
  if (c.credentialsFile !== undefined && (typeof c.credentialsFile !== 'string' || c.credentialsFile === '')) throw new InvalidConfigError('credentialsFile must be a path');
  if (typeof c.allowUnauthenticated !== 'boolean') throw new InvalidConfigError(`allowUnauthenticated must be true or false, got ${JSON.stringify(c.allowUnauthenticated)}`);
  if (!Number.isInteger(c.authTimeoutMs) || c.authTimeoutMs <= 0) throw new InvalidConfigError(`authTimeoutMs must be a positive integer, got ${JSON.stringify(c.authTimeoutMs)}`);
  checkSafeBinding('name server', c.host, c.credentialsFile !== undefined, c.allowUnauthenticated);
  checkMetricsListen(c.metricsHost, c.metricsPort);
  return c;
}

export class NameServer {
  readonly config: ResolvedNameServerConfig;
  readonly #routes: RouteTable;
  readonly #server: RequestServer;
  /** What this name server's limits (and security checks) refused, by name: its stats' refusals. */
  readonly #refusals: RefusalCounters;
  readonly #scan: NodeJS.Timeout;
  #metrics: MetricsServer | undefined;

  private constructor(config: ResolvedNameServerConfig, server: RequestServer, refusals: RefusalCounters) {
    this.config = config;
    this.#refusals = refusals;
    this.#routes = new RouteTable(config, refusals);
    this.#server = server;
    this.#scan = setInterval(() => this.#routes.expire(Date.now(), config.brokerExpiryMs), Math.max(10, Math.floor(config.brokerExpiryMs / 4)));
    this.#scan.unref();
  }

  static async start(config: NameServerConfig = {}): Promise<NameServer> {
    const c = resolveNameServerConfig(config);
    const tls = c.tls === undefined ? undefined : loadServerTls(c.tls, 'tls');
    const handlers = new Map<number, Handler>();
    const refusals = new RefusalCounters();
    let ns: NameServer | undefined;
    handlers.set(Opcode.GetRoute, (f) => {
      const topic = decodeTopic(f.body);
      const route = ns!.#routes.route(topic);
      if (route.length === 0) throw new NoRouteError(`no live broker serves topic ${JSON.stringify(topic)}`);
      return { body: encodeRoute(route) };
    });
    // With accounts, only a broker account holding the name registers it, and only the account that registered an entry refreshes or removes it.
    handlers.set(Opcode.RegisterBroker, (f, ctx) => {
      const req = decodeRegisterBroker(f.body);
      ctx.principal?.checkBrokerName(req.brokerName, 'register');
      ns!.#routes.register(req, Date.now(), ctx.principal);
      return {};
    });
    handlers.set(Opcode.UnregisterBroker, (f, ctx) => {
      const b = decodeBrokerIdentity(f.body);
      ctx.principal?.checkBrokerName(b.brokerName, 'unregister');
      ns!.#routes.unregister(b.brokerName, b.addr, ctx.principal);
      return {};
    });
    handlers.set(Opcode.BrokerStats, () => ({ body: encodeText(JSON.stringify(ns!.stats())) }));
    const accounts = c.credentialsFile === undefined ? undefined : loadAccountsFile(c.credentialsFile);
    const server = await RequestServer.listen({
      host: c.host,
      port: c.port,
      maxFrameSize: c.maxFrameSize,
      handlers,
      refusals,
      tls,
      limits: connectionLimitsOf(c),
      authenticator: accounts === undefined ? undefined : new Authenticator({ accounts, roles: ['admin', 'producer', 'consumer', 'broker'], what: 'name server' }),
      authTimeoutMs: c.authTimeoutMs,
    });
    ns = new NameServer(c, server, refusals);
    if (c.metricsPort !== undefined) {
      const started = ns;
      try {
        ns.#metrics = await MetricsServer.listen({ host: c.metricsHost, port: c.metricsPort, source: nameServerMetrics(() => started.stats()) });
      } catch (err) {
        await ns.close();
        throw err;
      }
    }
    return ns;
  }

  /** What BROKER_STATS answers (as JSON): the registered brokers and the refusals by limit name. */
  get port(): number {
    return this.#server.port;
  }

  get addr(): string {
    return `${this.config.host}:${this.port}`;
  }

  /** host:port of the /metrics listener, when metricsPort is set. */
  get metricsAddr(): string | undefined {
    return this.#metrics?.addr;
  }

  /** What BROKER_STATS on a name server answers (as JSON). */
  stats(): NameServerStats {
    return { brokers: this.#routes.brokers(), connections: this.#server.connectionCount, refusals: this.#refusals.snapshot() };
  }

  async close(): Promise<void> {
    clearInterval(this.#scan);
    await this.#metrics?.close();
    await this.#server.close();
  }
}
