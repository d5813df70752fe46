// The TLS flags of the commands: certificate, key and CA files by path (a
// path on a flag is fine; the key itself is a file, never a flag). Listeners
// take --tls-cert/--tls-key (and --tls-client-ca to require client
// certificates); links a process opens take --tls-ca (what to trust), and
// present --tls-cert/--tls-key to servers that ask for a client certificate.
import path from 'node:path';
import type { Argv } from 'yargs';
import { InvalidConfigError } from '../common/index.js';
import type { TlsClientOptions, TlsServerOptions } from '../net/index.js';
import { defined, isObject, stringFlag } from './options.js';

export interface TlsArgs {
  'tls-cert'?: unknown;
  'tls-key'?: unknown;
  'tls-ca'?: unknown;
  'tls-client-ca'?: unknown;
}

function fileFlag(flag: keyof TlsArgs, a: TlsArgs, cwd: string): string | undefined {
  const v = stringFlag(flag, a[flag]);
  return v === undefined ? undefined : path.resolve(cwd, v);
}

/** This process's certificate and key (--tls-cert, --tls-key: both or neither). */
function pair(a: TlsArgs, cwd: string): { certFile: string; keyFile: string } | undefined {
  const certFile = fileFlag('tls-cert', a, cwd);
  const keyFile = fileFlag('tls-key', a, cwd);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new InvalidConfigError('--tls-cert and --tls-key go together (the certificate and its private key, PEM files)');
  return certFile === undefined ? undefined : { certFile, keyFile: keyFile! };
}

/** A listener's TLS from the flags, or undefined when none is given. */
export function serverTlsFromFlags(a: TlsArgs, cwd = process.cwd()): TlsServerOptions | undefined {
  const p = pair(a, cwd);
  const clientCaFile = fileFlag('tls-client-ca', a, cwd);
  if (p === undefined) {
    if (clientCaFile !== undefined) throw new InvalidConfigError('--tls-client-ca needs --tls-cert and --tls-key (the server\'s own certificate)');
    return undefined;
  }
  return defined({ ...p, clientCaFile });
}

/**
 * The TLS of links this process opens, or undefined (plain TCP) without
 * --tls-ca. `listens`: the process also serves (its --tls-cert is then its
 * server certificate); a client-only command with a certificate but no CA
 * would silently connect in plain TCP, so that is an error.
 */
export function clientTlsFromFlags(a: TlsArgs, cwd = process.cwd(), listens = true): TlsClientOptions | undefined {
  const caFile = fileFlag('tls-ca', a, cwd);
  const p = pair(a, cwd);
  if (caFile === undefined && p !== undefined && !listens) throw new InvalidConfigError('--tls-cert and --tls-key need --tls-ca (the CA or self-signed certificate that the servers\' certificates are checked against)');
  return caFile === undefined ? undefined : { caFile, ...p };
}

/** TLS options read from a config file: their paths are relative to the file, like store.dir. */
export function resolveTlsPaths(v: unknown, base: string): unknown {
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = { ...v };
  for (const k of ['certFile', 'keyFile', 'caFile', 'clientCaFile']) {
    if (typeof out[k] === 'string' && out[k] !== '') out[k] = path.resolve(base, out[k]);
  }
  return out;
}

const CERT = 'PEM certificate file this process presents (with --tls-key)';
const KEY = 'PEM private key file of --tls-cert (unencrypted; keep it mode 0600)';

/** --tls-cert, --tls-key, --tls-client-ca (listeners) and --tls-ca (links opened), with `what` saying which links. */
export function withTlsFlags<T>(y: Argv<T>, what: { listen?: string; connect?: string }): Argv<T> {
  let out = y;
  out = out
    .option('tls-cert', {
      type: 'string',
      requiresArg: true,
      describe: `${CERT}${what.listen === undefined ? ' to servers that verify clients' : `: ${what.listen} over TLS${what.connect === undefined ? '' : '; also presented to servers that ask for a client certificate'}`} (default: plain TCP)`,
    })
    .option('tls-key', { type: 'string', requiresArg: true, describe: KEY });
  if (what.listen !== undefined) {
    out = out.option('tls-client-ca', { type: 'string', requiresArg: true, describe: 'PEM CA file: every client must present a certificate signed by it (default: clients are not asked for one)' });
  }
  if (what.connect !== undefined) {
    out = out.option('tls-ca', {
      type: 'string',
      requiresArg: true,
      describe: `PEM CA file to trust (a self-signed certificate itself, or the CA that signed the servers'): ${what.connect} over TLS, checking the certificate and the host name (default: plain TCP)`,
    });
  }
  return out;
}
