import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ownThreadTid, processCpuUs, threadCpuUs } from './cpu-time.js';

const linux = process.platform === 'linux';
/** CPU time the worker burns: many of the kernel's 10 ms ticks. */
const SPIN_CPU_US = 100_000;

/** A worker that says its tid, then on a message spins until its own thread has used SPIN_CPU_US more (as its /proc/thread-self says) and says it is done; it lives on until terminated. */
function spinningWorker(): { tid: Promise<number | undefined>; done: Promise<void>; worker: Worker } {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const fs = require('node:fs');
    parentPort.postMessage(Number(fs.readlinkSync('/proc/thread-self').split('/').at(-1)));
    const cpu = () => { const f = fs.readFileSync('/proc/thread-self/stat', 'utf8'); const v = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(v[11]) + Number(v[12])) * 10_000; };
    parentPort.on('message', () => {
      const start = cpu();
      while (cpu() - start < ${SPIN_CPU_US}) { const end = Date.now() + 1; while (Date.now() < end); }
      parentPort.postMessage('done');
    });`;
  const worker = new Worker(code, { eval: true });
  const tid = new Promise<number | undefined>((resolve) => worker.once('message', resolve));
  const done = tid.then(() => new Promise<void>((resolve) => worker.once('message', () => resolve())));
  return { tid, done, worker };
}

describe.runIf(linux)('CPU time from /proc', () => {
  it('reads this process and a thread of it; the thread counts its own time, not the main thread’s', async () => {
    expect(processCpuUs(process.pid)).toBeGreaterThan(0);
    const own = ownThreadTid();
    expect(own).toBe(process.pid);
    const w = spinningWorker();
    const tid = await w.tid;
    expect(tid).toBeGreaterThan(0);
    expect(tid).not.toBe(own);
    const before = threadCpuUs(tid!)!;
    w.worker.postMessage('go');
    await w.done;
    const after = threadCpuUs(tid!)!;
    // The worker's own time, not the main thread's (idle, awaiting it meanwhile).
    expect(after - before).toBeGreaterThanOrEqual(SPIN_CPU_US);
    await w.worker.terminate();
  });

  it('is undefined for a process or thread that is not there', () => {
    // Above the kernel's pid_max (2^22).
    expect(processCpuUs(2 ** 23)).toBeUndefined();
    expect(threadCpuUs(2 ** 23)).toBeUndefined();
  });
});
