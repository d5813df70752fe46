// Accounts files for tests: written with mode 0600 into a test's temp dir.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, Credential } from '../../src/security/index.js';

/** A secret long enough for the validator (tests only: fixed and readable). */
export function secretFor(name: string): string {
  return `secret-of-${name}-0123456789abcdef`;
}

/** Writes the accounts to `<dir>/<file>` (mode 0600) and returns its path. */
export function writeAccounts(dir: string, accounts: readonly Omit<Account, 'secret'>[], file = 'accounts.json'): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify({ accounts: accounts.map((a) => ({ ...a, secret: secretFor(a.name) })) }), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function credentialOf(name: string): Credential {
  return { name, secret: secretFor(name) };
}
