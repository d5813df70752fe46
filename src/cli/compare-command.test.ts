import { describe, expect, it } from 'vitest';
import { childScenarioArgs, modeDir, parseModes } from './compare-command.js';

describe('childScenarioArgs', () => {
  const [syncSync, asyncAsync] = parseModes('sync/sync,async/async');

  it('gives every mode the same faults and broker groups, in the order given', () => {
    const passed = { 'keep-data': false, fault: ['power-loss-master@60', 'restart-master@75'], 'broker-groups': 2, duration: 90 };
    for (const m of [syncSync!, asyncAsync!]) {
      const dir = modeDir('/tmp/c', m);
      expect(childScenarioArgs('double12', m, dir, passed)).toEqual([
        'scenario', 'double12', '--flush', m.flush, '--replication', m.replication, '--out', dir,
        '--duration', '90', '--broker-groups', '2',
        '--fault', 'power-loss-master@60', '--fault', 'restart-master@75',
      ]);
    }
  });

  it('passes --front http and --connections to every mode (npm run compare -- --front http)', () => {
    for (const m of [syncSync!, asyncAsync!]) {
      expect(childScenarioArgs('double12', m, '/o', { 'keep-data': false, front: 'http', connections: 128 }).slice(8)).toEqual(['--front', 'http', '--connections', '128']);
    }
  });

  it('takes one --fault given as a string, and passes nothing that was not given', () => {
    const one = childScenarioArgs('smoke', syncSync!, '/o', { 'keep-data': true, fault: 'kill-master@10' as unknown as string[] });
    expect(one.slice(8)).toEqual(['--fault', 'kill-master@10', '--keep-data']);
    expect(childScenarioArgs('smoke', syncSync!, '/o', { 'keep-data': false })).toEqual([
      'scenario', 'smoke', '--flush', 'sync', '--replication', 'sync', '--out', '/o',
    ]);
  });
});
