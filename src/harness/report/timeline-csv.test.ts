import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../run-result.js';
import { buildRunResult, KILL_AND_RESTART } from './fixtures.test-helper.js';
import { renderTimelineCsv, TIMELINE_CSV_HEADER } from './timeline-csv.js';

describe('renderTimelineCsv', () => {
  it('has the contract columns and one line per second', () => {
    const { timeline } = buildRunResult();
    for (const r of timeline) {
      delete r.cpu;
      delete r.brokers;
    }
    const lines = renderTimelineCsv(timeline).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'time,phase,offered,produced,failed,consumed,backlog,send_p99_ms,e2e_p99_ms,generator_lag_p99_ms,retried,duplicates,from_slave',
    );
    expect(lines[0]).toBe(TIMELINE_CSV_HEADER);
    expect(lines).toHaveLength(timeline.length + 1);
    for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(13);
  });

  it("adds each role's CPU and each broker's figures after the contract columns, an empty cell where a broker was down", () => {
    const { timeline } = buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2 });
    const lines = renderTimelineCsv(timeline).trimEnd().split('\n');
    const header = lines[0]!.split(',');
    expect(lines[0]!.startsWith(`${TIMELINE_CSV_HEADER},`)).toBe(true);
    expect(header.slice(13, 20)).toEqual(['cpu_master_broker-a', 'cpu_slave_broker-a', 'cpu_master_broker-b', 'cpu_slave_broker-b', 'cpu_producer_0', 'cpu_producer_1', 'cpu_consumer_0']);
    expect(header.slice(20, 30)).toEqual([
      'master_broker-a_fsyncs',
      'master_broker-a_fsync_p99_ms',
      'master_broker-a_commit_group_bytes',
      'master_broker-a_slave_lag_bytes',
      'master_broker-a_gc_ms',
      'master_broker-a_rss_mb',
      'master_broker-a_lag_sec',
      'master_broker-a_lag_msgs',
      'master_broker-a_in_msgs_s',
      'master_broker-a_out_msgs_s',
    ]);
    expect(header).toHaveLength(13 + 7 + 4 * 10);
    const rows = lines.slice(1).map((l) => l.split(','));
    for (const r of rows) expect(r).toHaveLength(header.length);
    const at = (sec: number, column: string) => rows[sec]![header.indexOf(column)];
    // Up: figures; killed (50 to 64): its CPU is 0 and its stats cells are empty; another broker goes on.
    expect(Number(at(45, 'master_broker-a_fsync_p99_ms'))).toBeGreaterThan(0);
    expect(Number(at(45, 'cpu_master_broker-a'))).toBeGreaterThan(0);
    expect(at(55, 'master_broker-a_fsync_p99_ms')).toBe('');
    expect(at(55, 'master_broker-a_rss_mb')).toBe('');
    expect(at(55, 'cpu_master_broker-a')).toBe('0');
    expect(Number(at(55, 'master_broker-b_rss_mb'))).toBeGreaterThan(0);
    // A slave has no slave lag of its own.
    expect(at(45, 'slave_broker-a_slave_lag_bytes')).toBe('');
  });

  it('writes counts as integers and milliseconds with at most 3 decimals', () => {
    const row: TimelineRow = {
      second: 7,
      phase: 'peak',
      offered: 240_000,
      produced: 239_512,
      failed: 3,
      retried: 2,
      consumed: 150_000,
      duplicates: 5,
      fromSlave: 71_000,
      backlog: 1_234_567,
      sendP99Ms: 4.56789,
      e2eP99Ms: 12_345.5,
      generatorLagP99Ms: 0,
    };
    expect(renderTimelineCsv([row])).toBe(`${TIMELINE_CSV_HEADER}\n7,peak,240000,239512,3,150000,1234567,4.568,12345.5,0,2,5,71000\n`);
  });

  it("carries a fault's seconds: failed attempts re-sent, reads from the slave, duplicates after the restart", () => {
    const { timeline } = buildRunResult({ faults: KILL_AND_RESTART, brokerGroups: 2 });
    const rows = renderTimelineCsv(timeline).trimEnd().split('\n').slice(1).map((l) => l.split(','));
    const at = (sec: number, column: string) => Number(rows[sec]![TIMELINE_CSV_HEADER.split(',').indexOf(column)]);
    expect(at(50, 'retried')).toBeGreaterThan(0);
    expect(at(50, 'retried')).toBe(at(50, 'failed'));
    expect(at(55, 'from_slave')).toBeGreaterThan(0);
    expect(at(45, 'from_slave')).toBe(0);
    expect(at(65, 'duplicates')).toBeGreaterThan(0);
    expect(at(45, 'duplicates')).toBe(0);
  });

  it('quotes a phase name holding a comma or a quote', () => {
    const row = buildRunResult().timeline[0]!;
    const csv = renderTimelineCsv([{ ...row, phase: 'peak, "hot"' }]);
    expect(csv.split('\n')[1]).toMatch(/^0,"peak, ""hot""",/);
  });
});
