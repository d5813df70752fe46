// Keeps two brokers from opening the same store directory: a `lock` file
// holding the owner's pid. A lock left by a dead process (a crash) is taken
// over; its presence at open also tells that the last stop was not clean.
import fs from 'node:fs';
import path from 'node:path';
import { StoreLockedError } from '../common/index.js';

/** Directories open in this process (the pid check cannot tell them apart). */
const openHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StoreLock {
  /** True when a previous owner did not release the lock (unclean stop). */
  readonly wasStale: boolean;
  release(): void;
}

export function acquireStoreLock(dir: string): StoreLock {
  const real = fs.realpathSync(dir);
  const file = path.join(real, 'lock');
  if (openHere.has(real)) throw new StoreLockedError(`store ${dir} is already open in this process`);
  let wasStale = false;
  if (fs.existsSync(file)) {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new StoreLockedError(`store ${dir} is locked by running process ${pid}`);
    }
    wasStale = true;
  }
  fs.writeFileSync(file, `${process.pid}\n`);
  openHere.add(real);
  return {
    wasStale,
    release() {
      openHere.delete(real);
      fs.rmSync(file, { force: true });
    },
  };
}
