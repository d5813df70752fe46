// startClosedLoop with a fake send: exactly `concurrency` sends in flight
// while it runs, the next send starts only when one is answered, a failed
// send does not shrink the depth, nothing starts once stopped, sendingEnded
// comes with the first lane to stop and settled only after every answer.
import { describe, expect, it } from 'vitest';
import { startClosedLoop } from './closed-loop.js';

/** A send whose answer the test releases by hand. */
function manualSends(): { send: () => Promise<void>; pending: { resolve: () => void; reject: (e: Error) => void }[]; started: () => number } {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let started = 0;
  return {
    pending,
    started: () => started,
    send: () =>
      new Promise<void>((resolve, reject) => {
        started++;
        pending.push({ resolve, reject });
      }),
  };
}

async function ticks(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('startClosedLoop', () => {
  it('keeps exactly `concurrency` sends in flight, refilling as answers come', async () => {
    const m = manualSends();
    let stop = false;
    const loop = startClosedLoop({ concurrency: 3, send: m.send, stopped: () => stop });
    expect(m.started()).toBe(3);
    m.pending.shift()!.resolve();
    await ticks();
    expect(m.started()).toBe(4);
    expect(m.pending.length).toBe(3);
    // A failed send is answered too: its lane sends again.
    m.pending.shift()!.reject(new Error('timeout'));
    await ticks();
    expect(m.started()).toBe(5);
    expect(m.pending.length).toBe(3);
    stop = true;
    let ended = false;
    let settled = false;
    void loop.sendingEnded.then(() => (ended = true));
    void loop.settled.then(() => (settled = true));
    m.pending.shift()!.resolve();
    await ticks();
    expect(ended).toBe(true);
    expect(settled).toBe(false);
    expect(m.started()).toBe(5);
    for (const p of m.pending.splice(0)) p.resolve();
    await ticks();
    expect(settled).toBe(true);
    expect(m.started()).toBe(5);
  });

  it('starts nothing when stopped from the start', async () => {
    const m = manualSends();
    const loop = startClosedLoop({ concurrency: 4, send: m.send, stopped: () => true });
    await loop.settled;
    await loop.sendingEnded;
    expect(m.started()).toBe(0);
  });
});
