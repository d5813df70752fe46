// CPU time (user + system) as Linux accounts it, for CPU per message: of a
// whole process (every thread of it: the event loop, the libuv pool where
// fdatasync runs, V8's GC helpers) from /proc/<pid>/stat, or of one thread of
// this process from /proc/self/task/<tid>/stat. A worker thread learns its own
// kernel thread id (Node 20 has no threadCpuUsage) from /proc/thread-self, so
// that its parent can read that thread's time at any instant, even while the
// worker is busy. Resolution: one clock tick (10 ms). Elsewhere than on Linux
// every reading is undefined.
import fs from 'node:fs';

/** Linux's USER_HZ: utime and stime count these. */
const CLK_TCK = 100;
const US_PER_TICK = 1e6 / CLK_TCK;
/** utime and stime, counted from the field after the command's closing parenthesis (state is 0). */
const UTIME_FIELD = 11;
const STIME_FIELD = 12;

/** utime + stime (µs) of one /proc stat file; undefined when it cannot be read (the process is gone). */
function statCpuUs(file: string): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The command may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_FIELD]) + Number(fields[STIME_FIELD]);
  return Number.isFinite(ticks) ? ticks * US_PER_TICK : undefined;
}

/** CPU time (µs) of every thread of process `pid` so far; undefined once it is gone. */
export function processCpuUs(pid: number): number | undefined {
  return statCpuUs(`/proc/${pid}/stat`);
}

/** CPU time (µs) so far of the thread of this process with kernel thread id `tid`; undefined once it ended. */
export function threadCpuUs(tid: number): number | undefined {
  return statCpuUs(`/proc/self/task/${tid}/stat`);
}

/** The kernel thread id of the calling thread (a worker's own, called in the worker); undefined off Linux. */
export function ownThreadTid(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
