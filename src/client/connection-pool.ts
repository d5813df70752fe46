// One connection per broker or name server address, shared by everything a
// client does there; reconnected on next use after it closed.
import { ClientStateError } from '../common/index.js';
import { RequestClient, type ClientTls } from '../net/index.js';
import type { Frame } from '../protocol/index.js';
import type { Credential } from '../security/index.js';

export class ConnectionPool {
  readonly #live = new Map<string, RequestClient>();
  readonly #connecting = new Map<string, Promise<RequestClient>>();
  readonly #onNotify: ((addr: string, f: Frame) => void) | undefined;
  readonly #tls: ClientTls | undefined;
  readonly #credential: Credential | undefined;
  #closed = false;

  /** `tls`: every connection of the pool is TLS (default plain TCP); `credential`: presented on every connection (each authenticates once, when it opens). */
  constructor(onNotify?: (addr: string, f: Frame) => void, tls?: ClientTls, credential?: Credential) {
    this.#onNotify = onNotify;
    this.#tls = tls;
    this.#credential = credential;
  }

  /** The open connection to `addr`, without connecting (undefined if none). */
  current(addr: string): RequestClient | undefined {
    const c = this.#live.get(addr);
    return c !== undefined && !c.closed ? c : undefined;
  }

  get(addr: string): Promise<RequestClient> {
    if (this.#closed) return Promise.reject(new ClientStateError('the client is shut down'));
    const c = this.current(addr);
    if (c !== undefined) return Promise.resolve(c);
    const pending = this.#connecting.get(addr);
    if (pending !== undefined) return pending;
    const p = RequestClient.connect(addr, { onNotify: (f) => this.#onNotify?.(addr, f), tls: this.#tls, credential: this.#credential }).then(
      (client) => {
        this.#connecting.delete(addr);
        if (this.#closed) {
          client.close();
          throw new ClientStateError('the client is shut down');
        }
        this.#live.set(addr, client);
        return client;
      },
      (err: unknown) => {
        this.#connecting.delete(addr);
        throw err;
      },
    );
    this.#connecting.set(addr, p);
    return p;
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#live.values()) c.close();
    this.#live.clear();
  }
}
