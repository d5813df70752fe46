// Per-fault figures from hand-made seconds: each window runs to the next
// fault, each figure is taken from its own window only, lost messages go to
// the fault that came after them, and a fault the run never reached says so.
import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../run-result.js';
import { parseFault } from '../scenario/index.js';
import { faultFigures } from './fault-figures.js';

function row(second: number, f: Partial<TimelineRow> = {}): TimelineRow {
  return { second, phase: 'peak', offered: 100, produced: 100, failed: 0, retried: 0, consumed: 100, duplicates: 0, fromSlave: 0, backlog: 0, sendP99Ms: 1, e2eP99Ms: 1, generatorLagP99Ms: 0, ...f };
}

const kill = { spec: parseFault('kill-master@3'), doneAtSec: 3.02, target: 'master broker-a (pid 7)' };
const restart = { spec: parseFault('restart-master@6'), doneAtSec: 6.5, target: 'master broker-a (pid 9)', note: 'back on 127.0.0.1:1' };

const timeline = [
  row(0),
  row(1),
  row(2, { failed: 1 }),
  row(3, { produced: 10, failed: 90, retried: 80, fromSlave: 40 }),
  row(4, { produced: 49, failed: 51, retried: 51, duplicates: 3 }),
  row(5, { produced: 50 }),
  row(6, { produced: 300, retried: 5, duplicates: 7 }),
  row(7, { offered: 0, produced: 0, fromSlave: 1 }),
];

describe('faultFigures', () => {
  it('measures each fault over its own window, up to the next fault or the end', () => {
    const [k, r] = faultFigures({ faults: [kill, restart], timeline, firstAckAfterSec: [4.25, 6.75], lostAtSec: [1.5, 2.9, 3.5, 9], endSec: 8 });
    expect(k).toEqual({
      kind: 'kill-master',
      spec: 'kill-master@3',
      atSec: 3,
      doneAtSec: 3.02,
      target: 'master broker-a (pid 7)',
      untilSec: 6.5,
      failedAttempts: 141,
      retried: 131,
      recoverySec: 1.23,
      // Seconds 3 and 4 acknowledged less than half of what they offered; second 5 exactly half.
      unavailableSec: 2,
      fromSlave: 40,
      duplicates: 3,
      // Lost messages due within its window, and before it (it is the first).
      lost: 3,
    });
    expect(r).toMatchObject({ untilSec: 8, failedAttempts: 0, retried: 5, recoverySec: 0.25, unavailableSec: 0, fromSlave: 1, duplicates: 7, lost: 1, note: 'back on 127.0.0.1:1' });
  });

  it('a fault never carried out, or never followed by a SEND_OK, has no recovery time', () => {
    const [k, r] = faultFigures({ faults: [kill, { ...restart, doneAtSec: null }], timeline, firstAckAfterSec: [null, 7], lostAtSec: [], endSec: 8 });
    expect(k!.recoverySec).toBeNull();
    expect(r!.recoverySec).toBeNull();
    expect(r!.doneAtSec).toBeNull();
  });
});
