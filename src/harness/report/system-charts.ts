// report.html's charts of the system under test, second by second (from
// the timeline's system figures): each role's CPU as a share of a core; each
// broker's CommitLog fdatasync p99 and group-commit size; each broker's GC
// pause, memory and (a master) its slave's lag. A second a broker did not
// answer is a gap in its lines. A run without these figures (an older
// summary, a remote run) gets no chart.
import type { BrokerSecond, TimelineRow } from '../run-result.js';
import { formatMsTick } from './format.js';
import { renderLineChart, SERIES_PALETTE, type ChartMarker, type ChartPoint, type ChartSeries } from './svg-chart.js';
import { systemRoles } from './timeline-csv.js';

/** Names on the charts' <svg data-chart="...">. */
export const SYSTEM_CHARTS = {
  cpu: 'cpu-per-role',
  fsync: 'broker-fdatasync',
  memory: 'broker-gc-memory',
  lag: 'broker-consumer-lag',
} as const;

/** A per-second figure describes the middle of its second. */
const X_OFFSET_SEC = 0.5;
/** fdatasync p99 on a log axis: the buckets start at 50 µs. */
const FSYNC_LOG_FLOOR_MS = 0.05;
const BYTES_PER_KIB = 1024;
const BYTES_PER_MIB = 2 ** 20;
const PERCENT = 100;

export interface SystemChartOptions {
  /** The time axis's end (s). */
  xMax: number;
  markers: readonly ChartMarker[];
}

/** A series of one figure over the seconds; NaN (a gap) where it is missing. */
function points(rows: readonly TimelineRow[], pick: (r: TimelineRow) => number | null | undefined): ChartPoint[] {
  return rows.map((r) => {
    const v = pick(r);
    return { x: r.second + X_OFFSET_SEC, y: v === null || v === undefined ? Number.NaN : v };
  });
}

/** Only series with something to draw (the render check wants every declared series visible). */
function drawn(series: ChartSeries[]): ChartSeries[] {
  return series.filter((s) => s.points.some((p) => Number.isFinite(p.y)));
}

/** Whether the run carries per-second system figures. */
export function hasSystemFigures(rows: readonly TimelineRow[]): boolean {
  const roles = systemRoles(rows);
  return roles.cpu.length > 0 || roles.brokers.length > 0;
}

function brokerSeries(rows: readonly TimelineRow[], role: string, field: keyof BrokerSecond, scale = 1): ChartPoint[] {
  return points(rows, (r) => {
    const v = r.brokers?.[role]?.[field];
    return v === null || v === undefined ? v : v / scale;
  });
}

/** CPU of each role; with more roles than colours, the brokers each and the producers and consumers summed. */
function cpuChart(rows: readonly TimelineRow[], o: SystemChartOptions): string {
  const roles = systemRoles(rows).cpu;
  let series: ChartSeries[];
  if (roles.length <= SERIES_PALETTE.length) {
    series = roles.map((role) => ({ name: role, points: points(rows, (r) => r.cpu?.[role]) }));
  } else {
    const sum = (prefix: string) => (r: TimelineRow) => {
      const shares = Object.entries(r.cpu ?? {}).filter(([role]) => role.startsWith(prefix));
      return shares.length === 0 || shares.some(([, v]) => v === null) ? null : shares.reduce((a, [, v]) => a + (v ?? 0), 0);
    };
    const brokers = roles.filter((role) => !role.startsWith('producer') && !role.startsWith('consumer'));
    series = [
      ...brokers.map((role) => ({ name: role, points: points(rows, (r) => r.cpu?.[role]) })),
      { name: 'producers (sum)', points: points(rows, sum('producer')) },
      { name: 'consumers (sum)', points: points(rows, sum('consumer')) },
    ];
  }
  return renderLineChart({
    name: SYSTEM_CHARTS.cpu,
    title: 'CPU per second, per role (share of one core)',
    x: { label: 'time since start (s)', min: 0, max: o.xMax },
    y: { label: 'share of one core', format: (y) => `${Math.round(y * PERCENT)}%` },
    series: drawn(series),
    markers: o.markers,
  });
}

function fsyncChart(rows: readonly TimelineRow[], o: SystemChartOptions): string {
  const brokers = systemRoles(rows).brokers;
  return renderLineChart({
    name: SYSTEM_CHARTS.fsync,
    title: 'CommitLog fdatasync per second: p99 and group-commit size',
    x: { label: 'time since start (s)', min: 0, max: o.xMax },
    y: { label: 'fdatasync p99, ms (log scale)', scale: 'log', logFloor: FSYNC_LOG_FLOOR_MS, format: formatMsTick },
    y2: { label: 'KiB per fdatasync' },
    series: drawn([
      ...brokers.map((role) => ({ name: `${role} fdatasync p99`, points: brokerSeries(rows, role, 'fsyncP99Ms') })),
      ...brokers.map((role) => ({ name: `${role} KiB per fdatasync`, points: brokerSeries(rows, role, 'commitGroupBytes', BYTES_PER_KIB), axis: 'right' as const, dashed: true })),
    ]),
    markers: o.markers,
  });
}

function memoryChart(rows: readonly TimelineRow[], o: SystemChartOptions): string {
  const brokers = systemRoles(rows).brokers;
  const withLag = brokers.filter((role) => rows.some((r) => typeof r.brokers?.[role]?.slaveLagBytes === 'number'));
  return renderLineChart({
    name: SYSTEM_CHARTS.memory,
    title: 'GC pause, slave lag and memory per second',
    x: { label: 'time since start (s)', min: 0, max: o.xMax },
    y: { label: 'GC pause, ms per second' },
    y2: { label: 'MiB' },
    series: drawn([
      ...brokers.map((role) => ({ name: `${role} GC ms`, points: brokerSeries(rows, role, 'gcMs') })),
      ...withLag.map((role) => ({ name: `${role}: slave lag MiB`, points: brokerSeries(rows, role, 'slaveLagBytes', BYTES_PER_MIB), axis: 'right' as const, dashed: true })),
      ...brokers.map((role) => ({ name: `${role} RSS MiB`, points: brokerSeries(rows, role, 'rssMb'), axis: 'right' as const, dashed: true })),
    ]),
    markers: o.markers,
  });
}

/** Brokers whose readings carry the monitor block's lag (a run of older brokers has none). */
function brokersWithLag(rows: readonly TimelineRow[]): string[] {
  return systemRoles(rows).brokers.filter((role) => rows.some((r) => typeof r.brokers?.[role]?.lagSec === 'number'));
}

/** Consumer lag as the brokers report it: the age of the oldest unconsumed message (s), and dashed the messages behind. */
function lagChart(rows: readonly TimelineRow[], o: SystemChartOptions): string {
  const brokers = brokersWithLag(rows);
  return renderLineChart({
    name: SYSTEM_CHARTS.lag,
    title: 'Consumer lag per second, from the brokers\' own figures',
    x: { label: 'time since start (s)', min: 0, max: o.xMax },
    y: { label: 'oldest unconsumed message, s' },
    y2: { label: 'messages behind' },
    series: drawn([
      ...brokers.map((role) => ({ name: `${role} lag s`, points: brokerSeries(rows, role, 'lagSec') })),
      ...brokers.map((role) => ({ name: `${role} lag messages`, points: brokerSeries(rows, role, 'lagMessages'), axis: 'right' as const, dashed: true })),
    ]),
    markers: o.markers,
  });
}

/** The charts, each an <svg> string: CPU always (when measured), the brokers' two when any broker answered, the lag chart when brokers report lag. */
export function systemCharts(rows: readonly TimelineRow[], o: SystemChartOptions): { cpu?: string; fsync?: string; memory?: string; lag?: string } {
  const roles = systemRoles(rows);
  return {
    ...(roles.cpu.length > 0 ? { cpu: cpuChart(rows, o) } : {}),
    ...(roles.brokers.length > 0 ? { fsync: fsyncChart(rows, o), memory: memoryChart(rows, o) } : {}),
    ...(brokersWithLag(rows).length > 0 ? { lag: lagChart(rows, o) } : {}),
  };
}
