// The accounts a server accepts: name, role, secret and optional scopes,
// read from a JSON credentials file (docs/SECURITY.md "Credentials and
// roles"). Validated strictly: a typo is an error, never a silently ignored
// key or a wider grant.
import { readFileSync } from 'node:fs';
import { InvalidConfigError } from '../common/index.js';
import { checkSecretFileMode } from './file-mode.js';
import { Principal } from './principal.js';
import { isRole, ROLES, type Role } from './roles.js';

export interface Account {
  name: string;
  role: Role;
  secret: string;
  /** Broker accounts (required): the broker names it may register. */
  brokerNames?: readonly string[];
  /** Consumer accounts: the groups it may act for (all when absent). */
  groups?: readonly string[];
  /** Producer accounts: the topics it may send to (all when absent). */
  topics?: readonly string[];
}

/** Account names: what a credential names itself (no ':' so that METAQ_CREDENTIAL=name:secret parses). */
export const ACCOUNT_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
/** Shorter secrets are refused: the handshake's proofs are HMACs an eavesdropper could brute-force offline. */
export const MIN_SECRET_LENGTH = 16;

const ACCOUNT_KEYS = new Set(['name', 'role', 'secret', 'brokerNames', 'groups', 'topics']);
/** Which role each scope belongs to. */
const SCOPE_ROLE: Record<'brokerNames' | 'groups' | 'topics', Role> = { brokerNames: 'broker', groups: 'consumer', topics: 'producer' };

/** The accounts by name, with a Principal per account made once. */
export class Accounts {
  readonly #byName: ReadonlyMap<string, { account: Account; principal: Principal; key: Buffer }>;

  constructor(accounts: readonly Account[]) {
    const m = new Map<string, { account: Account; principal: Principal; key: Buffer }>();
    for (const a of accounts) {
      const principal = new Principal(a.name, a.role, a);
      m.set(a.name, { account: a, principal, key: Buffer.from(a.secret, 'utf8') });
    }
    this.#byName = m;
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The account's HMAC key and principal, if it exists. */
  lookup(name: string): { key: Buffer; principal: Principal } | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }
}

/** Parses and validates a credentials file's text (`source` names it in errors). */
export function parseAccounts(text: string, source: string): Accounts {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidConfigError(`${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidConfigError(`${source}: expected an object {"accounts": [...]}`);
  for (const k of Object.keys(doc)) if (k !== 'accounts') throw new InvalidConfigError(`${source}: unknown key ${JSON.stringify(k)} (known: accounts)`);
  const list = (doc as { accounts?: unknown }).accounts;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidConfigError(`${source}: "accounts" must be a non-empty list`);
  const seen = new Set<string>();
  const accounts = list.map((a, i) => {
    const acc = validateAccount(a, `${source}: accounts[${i}]`);
    if (seen.has(acc.name)) throw new InvalidConfigError(`${source}: account ${JSON.stringify(acc.name)} appears twice`);
    seen.add(acc.name);
    return acc;
  });
  return new Accounts(accounts);
}

function validateAccount(a: unknown, where: string): Account {
  if (a === null || typeof a !== 'object' || Array.isArray(a)) throw new InvalidConfigError(`${where}: expected an object with name, role and secret`);
  const o = a as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!ACCOUNT_KEYS.has(k)) throw new InvalidConfigError(`${where}: unknown key ${JSON.stringify(k)} (known: ${[...ACCOUNT_KEYS].join(', ')})`);
  }
  if (typeof o.name !== 'string' || !ACCOUNT_NAME_PATTERN.test(o.name)) throw new InvalidConfigError(`${where}: name must be 1-64 of [A-Za-z0-9_.@-], got ${JSON.stringify(o.name)}`);
  where = `${where} (${o.name})`;
  if (!isRole(o.role)) throw new InvalidConfigError(`${where}: role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(o.role)}`);
  if (typeof o.secret !== 'string' || o.secret.length < MIN_SECRET_LENGTH) {
    throw new InvalidConfigError(`${where}: secret must be a string of at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`);
  }
  const account: Account = { name: o.name, role: o.role, secret: o.secret };
  for (const scope of ['brokerNames', 'groups', 'topics'] as const) {
    const v = o[scope];
    if (v === undefined) continue;
    if (o.role !== SCOPE_ROLE[scope]) throw new InvalidConfigError(`${where}: ${scope} is for ${SCOPE_ROLE[scope]} accounts, this one is ${o.role}`);
    if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s !== '')) throw new InvalidConfigError(`${where}: ${scope} must be a non-empty list of names`);
    account[scope] = v as string[];
  }
  if (o.role === 'broker' && account.brokerNames === undefined) throw new InvalidConfigError(`${where}: a broker account needs brokerNames (the broker names it may register)`);
  return account;
}

/** Reads a credentials file: refused if other users may read it. */
export function loadAccountsFile(path: string): Accounts {
  checkSecretFileMode(path, 'credentials file');
  return parseAccounts(readFileSync(path, 'utf8'), path);
}

/** Environment variable naming the credentials file a server reads when not told otherwise. */
export const CREDENTIALS_FILE_ENV = 'METAQ_CREDENTIALS_FILE';
