// The security flags shared by `metaq broker`, `namesrv` and `admin`: paths
// of the accounts file a server takes and of the credential a process
// presents, with their environment fallbacks. Never a secret on the command
// line (visible in `ps`): only paths, or the environment.
import path from 'node:path';
import type { Argv } from 'yargs';
import { InvalidConfigError } from '../common/index.js';
import {
  CREDENTIAL_ENV,
  CREDENTIAL_FILE_ENV,
  CREDENTIALS_FILE_ENV,
  REPLICA_CREDENTIAL_ENV,
  REPLICA_CREDENTIAL_FILE_ENV,
  resolveCredential,
  type Credential,
} from '../security/index.js';
import { stringFlag } from './options.js';

export interface SecurityArgs {
  'credentials-file'?: unknown;
  'credential-file'?: unknown;
  'replica-credential-file'?: unknown;
  'allow-unauthenticated'?: unknown;
}

/** The accounts file: the flag, else METAQ_CREDENTIALS_FILE; undefined for none. */
export function credentialsFileFrom(a: SecurityArgs, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const file = stringFlag('credentials-file', a['credentials-file']) ?? (env[CREDENTIALS_FILE_ENV] || undefined);
  return file === undefined ? undefined : path.resolve(cwd, file);
}

/** The credential presented: --credential-file, else METAQ_CREDENTIAL_FILE, else METAQ_CREDENTIAL (name:secret). */
export function credentialFrom(a: SecurityArgs, env: NodeJS.ProcessEnv, cwd: string): Credential | undefined {
  const file = stringFlag('credential-file', a['credential-file']);
  return resolveCredential(file === undefined ? undefined : path.resolve(cwd, file), env);
}

/** A slave's replica credential: --replica-credential-file, else METAQ_REPLICA_CREDENTIAL_FILE, else METAQ_REPLICA_CREDENTIAL. */
export function replicaCredentialFrom(a: SecurityArgs, env: NodeJS.ProcessEnv, cwd: string): Credential | undefined {
  const file = stringFlag('replica-credential-file', a['replica-credential-file']);
  return resolveCredential(file === undefined ? undefined : path.resolve(cwd, file), env, { value: REPLICA_CREDENTIAL_ENV, file: REPLICA_CREDENTIAL_FILE_ENV });
}

export function allowUnauthenticatedFrom(a: SecurityArgs): boolean | undefined {
  const v = a['allow-unauthenticated'];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new InvalidConfigError(`--allow-unauthenticated takes no value, got ${JSON.stringify(v)}`);
  return v;
}

const SECRET_NOTE = 'secrets are never taken on the command line';

/** --credentials-file and --allow-unauthenticated: a server's accounts. */
export function serverSecurityOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('credentials-file', {
      type: 'string',
      requiresArg: true,
      describe: `JSON accounts file this server takes (mode 600; docs/SECURITY.md); env ${CREDENTIALS_FILE_ENV}. Without it the server is open, which is refused on a non-loopback --host`,
    })
    .option('allow-unauthenticated', {
      type: 'boolean',
      describe: 'Let a server on a non-loopback --host run without accounts (only on a network you trust)',
    });
}

/** --credential-file: the credential a process presents. */
export function clientSecurityOptions<T>(y: Argv<T>, whose: string): Argv<T> {
  return y.option('credential-file', {
    type: 'string',
    requiresArg: true,
    describe: `JSON {"name", "secret"} file (mode 600) of the account ${whose} presents; env ${CREDENTIAL_FILE_ENV}, or ${CREDENTIAL_ENV}=name:secret (${SECRET_NOTE})`,
  });
}

/** --replica-credential-file: a slave's replica credential. */
export function replicaSecurityOptions<T>(y: Argv<T>): Argv<T> {
  return y.option('replica-credential-file', {
    type: 'string',
    requiresArg: true,
    describe: `Slaves: JSON {"name", "secret"} file (mode 600) of the replica account presented to the master's replication port; env ${REPLICA_CREDENTIAL_FILE_ENV}, or ${REPLICA_CREDENTIAL_ENV}=name:secret`,
  });
}
