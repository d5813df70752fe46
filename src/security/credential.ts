// What a client (or a broker towards a name server, or a slave towards its
// master) presents: an account name and its secret, from a file or the
// environment, never from a command-line flag (visible in `ps`).
import { readFileSync } from 'node:fs';
import { InvalidConfigError } from '../common/index.js';
import { ACCOUNT_NAME_PATTERN, MIN_SECRET_LENGTH } from './accounts.js';
import { checkSecretFileMode } from './file-mode.js';

export interface Credential {
  name: string;
  secret: string;
}

/** name:secret in one variable. */
export const CREDENTIAL_ENV = 'METAQ_CREDENTIAL';
/** Path of a credential file ({"name": ..., "secret": ...}). */
export const CREDENTIAL_FILE_ENV = 'METAQ_CREDENTIAL_FILE';
/** A slave's replica credential, name:secret and file. */
export const REPLICA_CREDENTIAL_ENV = 'METAQ_REPLICA_CREDENTIAL';
export const REPLICA_CREDENTIAL_FILE_ENV = 'METAQ_REPLICA_CREDENTIAL_FILE';

export function checkCredential(c: unknown, where: string): Credential {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new InvalidConfigError(`${where}: expected {"name": ..., "secret": ...}`);
  const o = c as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'name' && k !== 'secret') throw new InvalidConfigError(`${where}: unknown key ${JSON.stringify(k)} (known: name, secret)`);
  if (typeof o.name !== 'string' || !ACCOUNT_NAME_PATTERN.test(o.name)) throw new InvalidConfigError(`${where}: name must be 1-64 of [A-Za-z0-9_.@-], got ${JSON.stringify(o.name)}`);
  if (typeof o.secret !== 'string' || o.secret.length < MIN_SECRET_LENGTH) throw new InvalidConfigError(`${where}: secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  return { name: o.name, secret: o.secret };
}

/** "name:secret" (the environment's form). */
export function parseCredential(s: string, where: string): Credential {
  const i = s.indexOf(':');
  if (i <= 0) throw new InvalidConfigError(`${where}: expected name:secret`);
  return checkCredential({ name: s.slice(0, i), secret: s.slice(i + 1) }, where);
}

/** Reads a credential file (JSON {"name", "secret"}): refused if other users may read it. */
export function loadCredentialFile(path: string): Credential {
  checkSecretFileMode(path, 'credential file');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidConfigError(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return checkCredential(doc, path);
}

/**
 * The credential to present: a file given explicitly, else the file or the
 * name:secret the environment names; undefined when none is configured.
 */
export function resolveCredential(file: string | undefined, env: NodeJS.ProcessEnv, vars: { value: string; file: string } = { value: CREDENTIAL_ENV, file: CREDENTIAL_FILE_ENV }): Credential | undefined {
  if (file !== undefined) return loadCredentialFile(file);
  const envFile = env[vars.file];
  if (envFile !== undefined && envFile !== '') return loadCredentialFile(envFile);
  const v = env[vars.value];
  if (v !== undefined && v !== '') return parseCredential(v, vars.value);
  return undefined;
}
