// One account per role with fresh random secrets, written to a credentials
// file (mode 0600) in a run's own directory: what the harness, the benches
// and tests give everything they boot, so every measured run authenticates.
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from './accounts.js';
import type { Credential } from './credential.js';
import type { Role } from './roles.js';

/** Bytes of randomness per generated secret (hex-encoded). */
const SECRET_BYTES = 32;
export const RUN_CREDENTIALS_FILE = 'credentials.json';

export interface RunCredentials {
  /** The accounts file every server of the run reads. */
  credentialsFile: string;
  /** The credential of each role's account. */
  byRole: Readonly<Record<Role, Credential>>;
}

/** Writes `<dir>/credentials.json` with one account per role; the broker account may register `brokerNames`. */
export function writeRunCredentials(dir: string, brokerNames: readonly string[]): RunCredentials {
  const secret = (): string => randomBytes(SECRET_BYTES).toString('hex');
  const accounts: Account[] = [
    { name: 'run-admin', role: 'admin', secret: secret() },
    { name: 'run-producer', role: 'producer', secret: secret() },
    { name: 'run-consumer', role: 'consumer', secret: secret() },
    { name: 'run-broker', role: 'broker', secret: secret(), brokerNames: [...brokerNames] },
    { name: 'run-replica', role: 'replica', secret: secret() },
  ];
  const credentialsFile = join(dir, RUN_CREDENTIALS_FILE);
  writeFileSync(credentialsFile, `${JSON.stringify({ accounts }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(credentialsFile, 0o600);
  const byRole = Object.fromEntries(accounts.map((a) => [a.role, { name: a.name, secret: a.secret }])) as Record<Role, Credential>;
  return { credentialsFile, byRole };
}
