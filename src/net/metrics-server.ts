// The opt-in HTTP listener of a broker or name server that answers
// GET /metrics with Prometheus text (whatever `render` produces, prom-client
// in practice). Nothing else is served: other paths are 404, other methods
// 405. It carries no authentication, so it binds to loopback unless the
// operator names another host (docs/SECURITY.md: keep it off open networks).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { InvalidConfigError } from '../common/index.js';

export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  source: MetricsSource;
  /** Where a failed render is reported (the scrape gets a 500). */
  onError?: (err: unknown) => void;
}

/** A scrape that has not sent its request within this is dropped. */
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_PORT = 65535;

/** The metricsHost / metricsPort keys of a server config: metricsPort undefined leaves the listener off. */
export function checkMetricsListen(host: unknown, port: unknown): void {
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > MAX_PORT)) {
    throw new InvalidConfigError(`metricsPort must be an integer 0..${MAX_PORT} (0: a free port), got ${JSON.stringify(port)}`);
  }
  if (typeof host !== 'string' || host === '') throw new InvalidConfigError(`metricsHost must be a non-empty string, got ${JSON.stringify(host)}`);
}

export class MetricsServer {
  readonly #server: http.Server;
  readonly #host: string;

  private constructor(server: http.Server, host: string) {
    this.#server = server;
    this.#host = host;
  }

  static async listen(o: MetricsServerOptions): Promise<MetricsServer> {
    const server = http.createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => void MetricsServer.#answer(o, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsServer(server, o.host);
  }

  static async #answer(o: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      const text = await o.source.render();
      res.writeHead(200, { 'content-type': o.source.contentType }).end(req.method === 'HEAD' ? undefined : text);
    } catch (err) {
      o.onError?.(err);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
    }
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** host:port of the listener. */
  get addr(): string {
    return `${this.#host}:${this.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
