// A file holding secrets must not be readable by other users: refused, with
// the command that fixes it, rather than trusted.
import { statSync } from 'node:fs';
import { InvalidConfigError } from '../common/index.js';

/** World access of any kind, or group write: someone else could read or swap the secrets. */
const UNSAFE_MODE_BITS = 0o027;

export function checkSecretFileMode(path: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new InvalidConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
  if ((mode & UNSAFE_MODE_BITS) !== 0) {
    throw new InvalidConfigError(`${what} ${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}): it holds secrets; run chmod 600 ${path}`);
  }
}
