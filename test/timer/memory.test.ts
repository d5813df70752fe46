// One million pending delayed messages use bounded memory: the timer keeps
// a fixed-size wheel (three typed arrays, sized by maxDelayMs) and chains the
// messages of each second on disk, so the heap after a full GC grows by far
// less than one object per message, before and after a restart (which
// rebuilds the wheel from TIMER_TOPIC and finds every message still pending).
// Runs in a child process with --expose-gc, so that the heap is measured
// after a real collection.
import { describe, expect, it } from 'vitest';
import { useChildren } from '../helpers/child.js';
import { useTempDirs } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait.js';

const COUNT = 1_000_000;
/**
 * 16 bytes per pending message: one object per message (a JS object, a Map
 * entry or even a boxed number in an array) costs more than that, so this
 * fails if the timer held anything per message in the heap.
 */
const MAX_HEAP_GROWTH = 16 * COUNT;

interface Outcome {
  pending: number;
  heapDelta: number;
  arrayBuffersDelta: number;
  rssDelta: number;
  sendMs: number;
  enqueueMs: number;
  pendingAfterRestart: number;
  restartMs: number;
  heapDeltaAfterRestart: number;
}

describe('timer memory', () => {
  const spawn = useChildren();
  const tempDir = useTempDirs('timer-memory');

  it(`${COUNT} pending delayed messages: heap growth under ${MAX_HEAP_GROWTH / COUNT} bytes a message, before and after a restart`, async () => {
    const child = spawn('test/timer/fixtures/timer-memory.ts', [tempDir(), String(COUNT)], { env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc` } });
    await waitUntil(() => child.lines.length > 0 || child.child.exitCode !== null, 'memory child done', 240_000, 200);
    const done = await child.exited;
    expect(child.lines, child.stderr()).toHaveLength(1);
    expect(done.code).toBe(0);
    const o = JSON.parse(child.lines[0]!) as Outcome;
    console.log(`timer memory: ${JSON.stringify(o)}`);
    expect(o.pending).toBe(COUNT);
    expect(o.pendingAfterRestart).toBe(COUNT);
    expect(o.heapDelta + o.arrayBuffersDelta).toBeLessThan(MAX_HEAP_GROWTH);
    expect(o.heapDeltaAfterRestart).toBeLessThan(MAX_HEAP_GROWTH);
  }, 300_000);
});
