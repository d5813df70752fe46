// The timer's progress on disk: which second it is delivering (`cursorSec`),
// the last message of that second it delivered (`slotDone`), where in the
// CommitLog that state was taken (`logOffset`: any delivery after it is
// found again there on recovery) and a TIMER_TOPIC offset below which every
// message is delivered (`scanFrom`). Written whole to a temporary file,
// fdatasync'ed, renamed over the old one, and the directory fsync'ed: a crash
// leaves the old checkpoint or the new one, never a mix.
import { existsSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptStoreError } from '../../common/index.js';

const FILE = 'timer-checkpoint.json';
const VERSION = 1;

export interface TimerCheckpoint {
  cursorSec: number;
  slotDone: number;
  logOffset: number;
  scanFrom: number;
}

function isCount(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** The last checkpoint written in `dir`, or undefined on a store the timer never ran on. */
export function readTimerCheckpoint(dir: string): TimerCheckpoint | undefined {
  const path = join(dir, FILE);
  if (!existsSync(path)) return undefined;
  let c: Partial<TimerCheckpoint> & { version?: unknown };
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as typeof c;
  } catch (err) {
    throw new CorruptStoreError(`timer checkpoint ${path} is not valid JSON`, { cause: err });
  }
  if (c.version !== VERSION || !isCount(c.cursorSec) || !isCount(c.slotDone, -1) || !isCount(c.logOffset) || !isCount(c.scanFrom)) {
    throw new CorruptStoreError(`timer checkpoint ${path} is not a version ${VERSION} checkpoint`);
  }
  return { cursorSec: c.cursorSec, slotDone: c.slotDone, logOffset: c.logOffset, scanFrom: c.scanFrom };
}

/** Replaces the checkpoint durably (off the event loop: the fdatasyncs run on the thread pool). */
export async function writeTimerCheckpoint(dir: string, c: TimerCheckpoint): Promise<void> {
  const path = join(dir, FILE);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify({ version: VERSION, ...c }));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
