// Options every client (producer, consumer, admin) shares.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { InvalidConfigError } from '../common/index.js';
import { checkTlsClientOptions, loadClientTls, type ClientTls, type TlsClientOptions } from '../net/index.js';
import { checkCredential, type Credential } from '../security/index.js';

export interface ClientOptions {
  /** Name server addresses (host:port), as a list or a ';'-separated string. */
  namesrv: string | readonly string[];
  /** Per-request timeout. Default 3000 ms. */
  requestTimeoutMs?: number;
  /** How often routes of topics in use are refreshed. Default 5000 ms. */
  routeRefreshMs?: number;
  /** Identifies this client to brokers; must be unique among a group's consumers. Default host@pid@random. */
  clientId?: string;
  /** Connect to name servers and brokers over TLS (what to trust; read at construction). Default: plain TCP. */
  tls?: TlsClientOptions;
  /**
   * The account this client presents to name servers and brokers that have
   * accounts (docs/SECURITY.md); read it from a file or the environment
   * (security's loadCredentialFile / resolveCredential), never a flag.
   */
  credential?: Credential;
}

export const CLIENT_DEFAULTS = {
  requestTimeoutMs: 3000,
  routeRefreshMs: 5000,
} as const;

export function namesrvList(namesrv: string | readonly string[]): string[] {
  const list = (typeof namesrv === 'string' ? namesrv.split(';') : [...namesrv]).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new InvalidConfigError('at least one name server address (host:port) is required');
  return list;
}

export function defaultClientId(): string {
  return `${hostname()}@${process.pid}@${randomBytes(4).toString('hex')}`;
}

/** The credential option, checked (undefined when none). */
export function credentialOption(c: Credential | undefined): Credential | undefined {
  return c === undefined ? undefined : checkCredential(c, 'credential');
}

export function positiveOption(name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < min) throw new InvalidConfigError(`${name} must be a number >= ${min}, got ${v}`);
  return v;
}

/** The client's TLS material (undefined: plain TCP); a bad option or file is an InvalidConfigError naming it. */
export function clientTls(tls: TlsClientOptions | undefined): ClientTls | undefined {
  return tls === undefined ? undefined : loadClientTls(checkTlsClientOptions(tls, 'tls'), 'tls');
}
