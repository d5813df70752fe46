// Fault specs as the command line writes them: every kind parses, the
// arguments land where they belong, and every malformed or impossible one
// is a typed error that names what is wrong.
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../common/index.js';
import { checkFaults, FAULT_KINDS, parseFault, sortFaults } from './fault-spec.js';

const TOPOLOGY = { replication: 'sync', brokerGroups: 2, consumers: 2, remote: false } as const;

describe('parseFault', () => {
  it('parses every kind, with the time and the default target', () => {
    for (const kind of Object.keys(FAULT_KINDS)) {
      const f = parseFault(`${kind}@12.5`);
      expect(f).toMatchObject({ kind, atSec: 12.5, target: 0, text: `${kind}@12.5` });
    }
  });

  it('takes a broker group, a pause length and a consumer worker as the argument', () => {
    expect(parseFault('kill-master@50:b')).toMatchObject({ kind: 'kill-master', target: 1 });
    expect(parseFault('restart-master@65:broker-b')).toMatchObject({ target: 1 });
    expect(parseFault('pause-slave@30:7')).toMatchObject({ kind: 'pause-slave', pauseSec: 7, target: 0 });
    expect(parseFault('pause-slave@30').pauseSec).toBe(5);
    expect(parseFault('kill-consumer@40:1')).toMatchObject({ kind: 'kill-consumer', target: 1 });
  });

  it.each([
    ['kill-master', /expected <kind>@<second>/],
    ['kill-master@', /expected <kind>@<second>/],
    ['kill-master@-3', /expected <kind>@<second>/],
    ['explode-master@5', /unknown kind "explode-master"; known: kill-master/],
    ['kill-master@5:7', /broker group is a letter/],
    ['pause-slave@5:0', /seconds to pause/],
    ['kill-consumer@5:x', /consumer worker index/],
  ])('refuses %s with a typed error', (text, message) => {
    expect(() => parseFault(text)).toThrow(InvalidConfigError);
    expect(() => parseFault(text)).toThrow(message);
  });
});

describe('checkFaults', () => {
  it('refuses a fault on a group, slave or consumer the run does not have, and broker faults on remote brokers', () => {
    expect(() => checkFaults([parseFault('kill-master@5:c')], TOPOLOGY)).toThrow(/there is no broker-c \(the run has 2 broker group/);
    expect(() => checkFaults([parseFault('kill-slave@5')], { ...TOPOLOGY, replication: 'none' })).toThrow(/no slave with --replication none/);
    expect(() => checkFaults([parseFault('kill-consumer@5:2')], TOPOLOGY)).toThrow(/no consumer worker 2/);
    expect(() => checkFaults([parseFault('kill-master@5')], { ...TOPOLOGY, remote: true })).toThrow(/brokers the harness started/);
    expect(() => checkFaults([parseFault('kill-consumer@5')], { ...TOPOLOGY, remote: true })).not.toThrow();
    expect(() => checkFaults([parseFault('kill-master@5:b'), parseFault('pause-slave@9')], TOPOLOGY)).not.toThrow();
  });

  it('orders faults by time, keeping the given order for equal times', () => {
    const sorted = sortFaults(['restart-master@65', 'kill-master@50', 'kill-slave@50'].map(parseFault));
    expect(sorted.map((f) => f.text)).toEqual(['kill-master@50', 'kill-slave@50', 'restart-master@65']);
  });
});
