// `metaq stats` output: the table names each broker and shows its traffic,
// disk, replication, queues, group lag (messages and seconds) with the owner
// of each queue as consumers allocate them, and the alert rules with their
// state; the JSON carries the same figures plus the owners and the firing
// rules; --check's verdict exits 1 naming the firing rule, 3 for a broker
// that did not answer, 0 otherwise. --watch and --check parse strictly.
import { describe, expect, it } from 'vitest';
import { MONITOR_SAMPLE } from '../../test/helpers/monitor-sample.js';
import type { BrokerStats } from '../client/index.js';
import { InvalidConfigError } from '../common/index.js';
import { statsPlanFromArgs } from './stats-command.js';
import { checkVerdict, formatStatsTable, humanBytes, queueOwners, statsJson, table, type StatsSnapshot } from './stats-format.js';

const broker: BrokerStats = {
  brokerName: 'broker-a',
  addr: '127.0.0.1:10911',
  connections: 3,
  heldPulls: 1,
  retried: 0,
  deadLettered: 0,
  groups: [{ group: 'billing', mode: 'clustering', ordered: false, members: ['c2', 'c1'], topics: ['orders'] }],
  store: {
    flushMode: 'async', minOffset: 0, appendOffset: 2048, writtenOffset: 2048, flushedOffset: 1024, dispatchedOffset: 2048, segments: 1, topics: 1, flushCycles: 3, pendingPuts: 0, openQueueFiles: 2,
    diskFull: false, dispatchError: undefined, recovered: false, truncatedTail: false, unavailable: undefined,
  },
  role: 'master',
  ha: { mode: 'sync', slaveConnected: true, writtenOffset: 2048, replicatedOffset: 1000, slaveLagBytes: 1048, slaveLagMs: 1500, sendsWaitingForSlave: 0, readersCappedBySlave: true, slaveResyncs: 0, writesHeld: 'none', slavesRefused: 0 },
  monitor: MONITOR_SAMPLE,
};

const snapshot: StatsSnapshot = { atMs: Date.UTC(2026, 11, 12), brokers: [broker], unreachable: [] };

describe('metaq stats formatting', () => {
  it('renders a table per broker with lag in messages and seconds, owners and alerts', () => {
    const text = formatStatsTable(snapshot);
    expect(text).toContain('metaq stats at 2026-12-12T00:00:00.000Z: 1 broker(s)');
    expect(text).toContain('broker broker-a (master) 127.0.0.1:10911');
    expect(text).toMatch(/traffic\s+in 240000 msg\/s 45\.8 MiB\/s, out 239000 msg\/s/);
    expect(text).toMatch(/store\s+CommitLog 8\.0 GiB kept, disk 75\.0% used of 1000 B \(250 B free\)/);
    expect(text).toMatch(/flush\s+async, unflushed 1\.0 KiB, failures 1/);
    expect(text).toMatch(/replication\s+master sync, slave connected, slave lag 1\.0 KiB \/ 1\.5 s/);
    expect(text).toMatch(/orders\s+1\s+5\s+7/);
    expect(text).toContain('... and 3 more queues');
    // orders has queues 0 and 1 on this broker; members sorted c1, c2: c1 owns queue 0.
    expect(text).toMatch(/billing\s+orders\s+0\s+5\s+100\s+95\s+12\.3\s+c1/);
    expect(text).toMatch(/billing\s+clustering\s+2\s+95\s+12\.3/);
    expect(text).toContain('billing consumers: c2, c1');
    expect(text).toMatch(/billing-behind\s+groupLagSeconds\s+billing\s+10\s+5\s+12\.345\s+FIRING\s+2025-/);
    expect(text).toMatch(/disk\s+diskUsedRatio\s+-\s+0\.85\s+0\s+0\.75\s+ok\s+-/);
  });

  it('says so when a broker is older than the monitor block or unreachable', () => {
    const text = formatStatsTable({ ...snapshot, brokers: [{ ...broker, monitor: undefined }], unreachable: [{ addr: '127.0.0.1:1', error: 'connect ECONNREFUSED' }] });
    expect(text).toContain('older than `metaq stats`');
    expect(text).toContain('broker 127.0.0.1:1: UNREACHABLE (connect ECONNREFUSED)');
  });

  it('gives the same figures as JSON, with owners and the firing rules', () => {
    const j = JSON.parse(JSON.stringify(statsJson(snapshot))) as { brokers: { monitor: { groupLags: { consumer: string }[] } }[]; firing: { name: string; broker: string }[] };
    expect(j.brokers[0]!.monitor.groupLags[0]!.consumer).toBe('c1');
    expect(j.firing).toEqual([expect.objectContaining({ name: 'billing-behind', broker: 'broker-a', firing: true })]);
  });

  it('allocates queues across brokers as consumers do (sorted broker names, a slave counted once)', () => {
    const b = { ...broker, brokerName: 'broker-b', addr: 'b:1', monitor: { ...MONITOR_SAMPLE, queues: [{ topic: 'orders', queueId: 0, minOffset: 0, maxOffset: 1 }] } };
    const slaveOfA = { ...broker, role: 'slave' as const, addr: 'a-slave:1' };
    const owners = queueOwners([b, broker, slaveOfA]);
    // Queues a/0, a/1, b/0 for members c1, c2: c1 takes two, c2 one.
    expect([...owners.entries()].map(([k, v]) => `${k.split('\u0000').join('/')}=${v}`).sort()).toEqual(['billing/broker-a/orders/0=c1', 'billing/broker-a/orders/1=c1', 'billing/broker-b/orders/0=c2']);
  });

  it('--check: exit 1 naming the firing rule, 3 for an unreachable broker, 0 when quiet', () => {
    const firing = checkVerdict(snapshot);
    expect(firing.code).toBe(1);
    expect(firing.lines).toEqual(['FIRING billing-behind on broker-a (127.0.0.1:10911): groupLagSeconds of group billing is 12.345, above 10']);
    const quiet = { ...broker, monitor: { ...MONITOR_SAMPLE, alerts: MONITOR_SAMPLE.alerts.map((a) => ({ ...a, firing: false })) } };
    expect(checkVerdict({ ...snapshot, brokers: [quiet] })).toEqual({ code: 0, lines: ['OK: 2 alert rule(s) on 1 broker(s), none firing'] });
    expect(checkVerdict({ ...snapshot, brokers: [quiet], unreachable: [{ addr: 'x:1', error: 'timeout' }] }).code).toBe(3);
  });

  it('pads tables and prints sizes', () => {
    expect(table(['A', 'NUM'], [['xx', 1], ['y', 100]], '')).toEqual(['A   NUM', 'xx    1', 'y   100']);
    expect(humanBytes(512)).toBe('512 B');
    expect(humanBytes(1536)).toBe('1.5 KiB');
  });

  it('parses its flags strictly', () => {
    expect(statsPlanFromArgs({ broker: '127.0.0.1:10911' })).toEqual({ namesrv: undefined, brokers: ['127.0.0.1:10911'], json: false, watchSec: undefined, check: false });
    expect(statsPlanFromArgs({ namesrv: 'n:1', watch: '' }).watchSec).toBe(2);
    expect(statsPlanFromArgs({ namesrv: 'n:1', watch: '0.5' }).watchSec).toBe(0.5);
    expect(() => statsPlanFromArgs({})).toThrow(InvalidConfigError);
    expect(() => statsPlanFromArgs({ broker: 'a:1', namesrv: 'n:1' })).toThrow(/not both/);
    expect(() => statsPlanFromArgs({ broker: 'a:1', watch: 'soon' })).toThrow(/--watch takes a refresh interval/);
    expect(() => statsPlanFromArgs({ broker: 'a:1', watch: '0' })).toThrow(/--watch/);
    expect(() => statsPlanFromArgs({ broker: 'a:1', check: true, watch: '1' })).toThrow(/does not combine/);
  });
});
