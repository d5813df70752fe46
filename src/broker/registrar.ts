// Keeps the broker registered with every name server: a registration at
// start, every registerIntervalMs, and right after a topic is created (so
// clients find a new topic without waiting a whole interval). A name server
// that is down is retried at the next tick; the broker serves regardless.
import { RequestClient, type ClientTls } from '../net/index.js';
import { LimitExceededError } from '../common/index.js';
import { encodeBrokerIdentity, encodeRegisterBroker, FRAME_HEADER_SIZE, Opcode, type BrokerRole, type TopicInfo } from '../protocol/index.js';
import type { Credential } from '../security/index.js';

const REQUEST_TIMEOUT_MS = 3000;

export interface RegistrarOptions {
  brokerName: string;
  addr: string;
  role: BrokerRole;
  namesrvAddrs: readonly string[];
  intervalMs: number;
  topics: () => TopicInfo[];
  /** A registration larger than one frame of this size is not sent (the name server would drop the connection). */
  maxFrameSize: number;
  onError: (err: unknown, namesrv: string) => void;
  /** Register over TLS; default plain TCP. */
  tls?: ClientTls;
  /** The broker account presented to name servers that have accounts. */
  credential?: Credential;
}

export class Registrar {
  readonly #o: RegistrarOptions;
  readonly #clients = new Map<string, RequestClient>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;
  #soon: NodeJS.Immediate | undefined;

  constructor(o: RegistrarOptions) {
    this.#o = o;
    this.#timer = setInterval(() => void this.registerAll(), o.intervalMs);
    this.#timer.unref();
  }

  /** Registers with every name server; resolves when each has answered or failed. */
  async registerAll(): Promise<void> {
    if (this.#closed) return;
    const topics = this.#o.topics();
    const body = encodeRegisterBroker({ brokerName: this.#o.brokerName, addr: this.#o.addr, role: this.#o.role, topics });
    if (body.length + FRAME_HEADER_SIZE > this.#o.maxFrameSize) {
      const err = new LimitExceededError('maxTopics', `the registration of ${topics.length} topics is ${body.length} bytes, more than one frame of ${this.#o.maxFrameSize} carries: not sent; lower the topic count or raise maxFrameSize`);
      for (const ns of this.#o.namesrvAddrs) this.#o.onError(err, ns);
      return;
    }
    await Promise.all(
      this.#o.namesrvAddrs.map(async (ns) => {
        try {
          const c = await this.#client(ns);
          await c.call(Opcode.RegisterBroker, body, REQUEST_TIMEOUT_MS);
        } catch (err) {
          this.#o.onError(err, ns);
        }
      }),
    );
  }

  /** Registers at the end of this turn (coalesces a burst of topic creations). */
  registerSoon(): void {
    if (this.#soon !== undefined || this.#closed) return;
    this.#soon = setImmediate(() => {
      this.#soon = undefined;
      void this.registerAll();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#soon !== undefined) clearImmediate(this.#soon);
    const body = encodeBrokerIdentity({ brokerName: this.#o.brokerName, addr: this.#o.addr });
    await Promise.all(
      [...this.#clients.values()].map(async (c) => {
        try {
          await c.call(Opcode.UnregisterBroker, body, REQUEST_TIMEOUT_MS);
        } catch {
          // The name server will expire us anyway.
        }
        c.close();
      }),
    );
    this.#clients.clear();
  }

  async #client(ns: string): Promise<RequestClient> {
    const c = this.#clients.get(ns);
    if (c !== undefined && !c.closed) return c;
    const fresh = await RequestClient.connect(ns, { tls: this.#o.tls, credential: this.#o.credential });
    this.#clients.set(ns, fresh);
    return fresh;
  }
}
