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
  /** Each role's credential as a file (`credential-<role>.json`, mode 0600), for processes started with --credential-file. */
  fileByRole: Readonly<Record<Role, string>>;
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
  writeSecret(credentialsFile, { accounts });
  const byRole = Object.fromEntries(accounts.map((a) => [a.role, { name: a.name, secret: a.secret }])) as Record<Role, Credential>;
  const fileByRole = Object.fromEntries(
    accounts.map((a) => {
      const file = join(dir, `credential-${a.role}.json`);
      writeSecret(file, byRole[a.role]);
      return [a.role, file];
    }),
  ) as Record<Role, string>;
  return { credentialsFile, byRole, fileByRole };
}

/** JSON readable by its owner only (chmod as well: the mode option applies only to a new file). */
function writeSecret(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
