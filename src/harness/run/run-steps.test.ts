// runSteps: the steps run in order; the first that fails stops the
// sequence, is said on the progress stream and comes back by name.
import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';
import type { RunContext } from './run-context.js';
import { runSteps, type RunStep } from './run-steps.js';

function context(notes: string[]): RunContext {
  const out = { isTTY: false, write: (s: string) => notes.push(s) } as unknown as NodeJS.WriteStream;
  return { progress: new Progress(out) } as unknown as RunContext;
}

describe('runSteps', () => {
  it('runs every step in order when none fails', async () => {
    const ran: string[] = [];
    const steps: RunStep[] = ['a', 'b', 'c'].map((name) => ({ name, run: async () => void ran.push(name) }));
    expect(await runSteps(steps, context([]))).toBeUndefined();
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('stops at the first step that fails and returns it by name', async () => {
    const ran: string[] = [];
    const notes: string[] = [];
    const boom = new Error('the broker went away');
    const steps: RunStep[] = [
      { name: 'boot', run: async () => void ran.push('boot') },
      {
        name: 'run the sale',
        run: async () => {
          ran.push('sale');
          throw boom;
        },
      },
      { name: 'drain', run: async () => void ran.push('drain') },
    ];
    const failure = await runSteps(steps, context(notes));
    expect(failure).toEqual({ step: 'run the sale', error: boom });
    expect(ran).toEqual(['boot', 'sale']);
    expect(notes.join('')).toContain('step "run the sale" failed: the broker went away');
  });
});
