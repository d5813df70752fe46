// A run whose step fails still ends cleanly and with a result to report: a
// remote run against a name server and broker that do not listen fails at
// "wait for the route", skips the rest, stops, and its summary says where it
// stopped (the CLI then writes the report and prints FAILED).
import { describe, expect, it } from 'vitest';
import { loadScenario, runScenario, Progress } from '../../src/harness/index.js';
import { useTempDirs } from '../helpers/temp-dir.js';

const tempDir = useTempDirs('failed-step');
/** Nothing listens on port 1 of the loopback. */
const NOBODY = '127.0.0.1:1';

describe('runScenario when a step fails', () => {
  it('skips the steps after it, stops cleanly and returns a failed summary naming the step', async () => {
    const scenario = await loadScenario('smoke');
    const notes: string[] = [];
    const progress = new Progress({ isTTY: false, write: (s: string) => notes.push(s) } as unknown as NodeJS.WriteStream);
    const r = await runScenario({ scenario, injectDrop: 0, dataRoot: tempDir(), keepData: false, remote: { namesrv: NOBODY, brokers: [NOBODY] }, progress });
    const s = r.summary;
    expect(s.passed).toBe(false);
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatch(/^the run stopped at step "wait for the route": /);
    expect(notes.join('')).toContain('step "wait for the route" failed');
    // Nothing was offered, and what the figures say is what happened.
    expect(s.messages).toMatchObject({ attempted: 0, acked: 0, consumed: 0, lost: 0 });
    expect(s.phases.map((p) => p.name)).toEqual([...scenario.phases.map((p) => p.name), 'drain']);
    expect(r.timeline).toEqual([]);
  }, 60_000);
});
