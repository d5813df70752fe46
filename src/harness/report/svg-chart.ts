// A small, dependency-free SVG line-chart builder for the HTML reports:
// several series, a linear or log y axis, an optional secondary y axis on the
// right, vertical markers (phase boundaries), a legend, and a percentile x
// axis laid out as HdrHistogram's plotter does (log of 1/(1-p), ticks at 0%,
// 90%, 99%, 99.9%, ...). The output is an inline <svg> string; it opens
// offline and needs no script.
//
// Conventions scripts/check-report-render.mjs relies on (keep them when
// changing the drawing): each chart's root is `<svg data-chart="<name>">`;
// the plot area is one `<rect data-plot-area>` filled with PLOT_BACKGROUND
// and nothing else uses that colour; each series is one element carrying `data-series` and
// `stroke="<palette colour>"`; the legend sits above the plot area, so the
// plot area's rows hold the series' own pixels and no swatches; each marker
// line carries `data-marker="phase|fault"`, and a fault's line is drawn in
// FAULT_MARKER_COLOUR, which no series uses.
import { formatCompact } from './format.js';

/**
 * Series colours, in order (Tableau 10 without its grey and olive, which
 * read as gridlines or text). Pairwise far apart in RGB, so a pixel count
 * per colour can tell the series apart in a screenshot.
 */
export const SERIES_PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
] as const;

/** Plot-area fill: a tint no text or line uses, so the render check can find the plot areas in a screenshot. */
export const PLOT_BACKGROUND = '#f7f9fc';

const DEFAULT_WIDTH = 1100;
const DEFAULT_HEIGHT = 400;
const FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';
const FONT_SIZE = 12;
const TITLE_FONT_SIZE = 15;
const MARKER_FONT_SIZE = 11;
/** Rough glyph width for laying out legend entries without measuring text. */
const CHAR_WIDTH_PX = 7;

const MARGIN_LEFT = 72;
const MARGIN_RIGHT_SINGLE = 24;
const MARGIN_RIGHT_DUAL = 72;
const MARGIN_BOTTOM = 48;
const TITLE_HEIGHT = 26;
const LEGEND_ROW_HEIGHT = 20;
/** Space between the legend and the plot area (keeps the swatches out of the plot rows). */
const LEGEND_GAP = 12;
const LEGEND_SWATCH_PX = 22;
const LEGEND_ITEM_GAP = 22;
const TICK_LENGTH = 5;
/** Strip above the plot for marker names: as many rows as the names need not to print over each other. */
const MARKER_ROW_HEIGHT = 13;
const MARKER_STRIP_GAP = 3;
/** Rough glyph width of a marker name (11 px text), and the room kept after it. */
const MARKER_CHAR_WIDTH_PX = 6.6;
const MARKER_LABEL_GAP_PX = 8;
const MARKER_LABEL_OFFSET_PX = 3;
const FAULT_MARKER_STROKE = 2;
const TARGET_TICKS = 6;

/**
 * Overlapping series must stay visible: with open-loop load, "produced" and
 * "offered" are often the same line. So earlier series are drawn wider and
 * later ones on top of them, narrower: each leaves a halo of its colour
 * around the next. The last series is BASE_STROKE wide.
 */
const BASE_STROKE = 2;
const MAX_HALO_STEP = 1.5;
const MAX_HALO_TOTAL = 6;
const DASH_PATTERN = '7 4';
/** A one-point series is a dot; like the lines, earlier dots are larger, so a dot on a dot leaves a ring. */
const DOT_RADIUS = 3;
const DOT_RING_PX = 2;

const GRID_COLOUR = '#e3e6eb';
const AXIS_COLOUR = '#6b7280';
const TEXT_COLOUR = '#1f2937';
const MARKER_COLOUR = '#9ca3af';
const MARKER_TEXT_COLOUR = '#4b5563';
/**
 * A fault's line and name: a crimson far (in RGB) from every palette
 * colour and from the plot background, so that the render check can count
 * a fault line's pixels apart from the series'.
 */
export const FAULT_MARKER_COLOUR = '#be185d';

/** The percentile axis never goes further than 99.9999% (x = 6). */
const PERCENTILE_MAX_DECADES = 6;
/** Default lowest value of a log axis: values at or below it are drawn on it (0 has no log). */
const DEFAULT_LOG_FLOOR = 0.001;
const COORD_DECIMALS = 1;

export type AxisScale = 'linear' | 'log';

export interface ChartPoint {
  /** A plain x value, or the percentile (0 <= x < 100) on a percentile axis. */
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** Which y axis the series is read against (default left). */
  axis?: 'left' | 'right';
  dashed?: boolean;
  /** Default: SERIES_PALETTE by the series' index. */
  color?: string;
}

export interface XAxisOptions {
  label: string;
  /** 'percentile': x values are percentiles, placed at log10(1/(1-p/100)). */
  mode?: 'linear' | 'percentile';
  /** Linear mode: the domain (default: the data's extent). */
  min?: number;
  max?: number;
  format?: (x: number) => string;
}

export interface YAxisOptions {
  label: string;
  scale?: AxisScale;
  /** Log scale: the lowest value drawn (default 0.001); smaller values, 0 included, sit on it. */
  logFloor?: number;
  format?: (y: number) => string;
  /** Linear scale of a count (messages): no tick between whole numbers. */
  integer?: boolean;
}

/** A vertical line across the plot with a label at its top: a phase boundary (dashed grey) or a fault (solid crimson). */
export interface ChartMarker {
  x: number;
  label: string;
  /** Default 'phase'. */
  kind?: 'phase' | 'fault';
  /** Shown when the pointer rests on the line (what the fault hit, when it was done). */
  detail?: string;
}

export interface LineChartOptions {
  /** Goes into `data-chart` (what the render check and tests look for). */
  name: string;
  title: string;
  width?: number;
  height?: number;
  x: XAxisOptions;
  y: YAxisOptions;
  /** A secondary y axis on the right, for series with axis 'right'. */
  y2?: YAxisOptions;
  series: readonly ChartSeries[];
  markers?: readonly ChartMarker[];
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

/** The colour a chart gives its i-th series when none is set. */
export function paletteColor(index: number): string {
  return SERIES_PALETTE[index % SERIES_PALETTE.length] ?? SERIES_PALETTE[0];
}

/** Where the plotter puts percentile p (0 <= p < 100): log10(1/(1-p/100)); 90% -> 1, 99% -> 2. */
export function percentileToX(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

interface Scale {
  /** Data value to pixel; a y value outside the domain lands on its edge (the log floor, the top). */
  map(v: number): number;
  ticks: { value: number; label: string }[];
}

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

function round(v: number): string {
  return v.toFixed(COORD_DECIMALS).replace(/\.0$/, '');
}

/** A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) giving about `target` ticks over `range`. */
export function niceStep(range: number, target: number): number {
  if (!(range > 0)) return 1;
  const raw = range / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return nice * magnitude;
}

/** Ticks at multiples of `step` within [min, max]; the small epsilon keeps float drift from dropping the last one. */
function linearTicks(min: number, max: number, step: number, format: (v: number) => string) {
  const ticks: { value: number; label: string }[] = [];
  const epsilon = step * 1e-9;
  for (let v = Math.ceil((min - epsilon) / step) * step; v <= max + epsilon; v += step) {
    const value = Math.abs(v) < epsilon ? 0 : v;
    ticks.push({ value, label: format(value) });
  }
  return ticks;
}

/** Min and max without spreading (a long run has more points than a call's argument limit likes). */
function extent(values: readonly number[]): { min: number; max: number } | undefined {
  if (values.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function finiteValues(series: readonly ChartSeries[], pick: (p: ChartPoint) => number): number[] {
  const out: number[] = [];
  for (const s of series) for (const p of s.points) if (Number.isFinite(pick(p))) out.push(pick(p));
  return out;
}

function yScale(values: readonly number[], axis: YAxisOptions, pixelTop: number, pixelHeight: number): Scale {
  const format = axis.format ?? formatCompact;
  const bottom = pixelTop + pixelHeight;
  if (axis.scale === 'log') {
    const floor = axis.logFloor ?? DEFAULT_LOG_FLOOR;
    const positive = extent(values.filter((v) => v > floor));
    const lowDecade = Math.floor(Math.log10(positive ? positive.min : floor));
    let highDecade = Math.ceil(Math.log10(positive ? positive.max : floor * 10));
    // A flat series would give a zero-height domain.
    if (highDecade <= lowDecade) highDecade = lowDecade + 1;
    const lo = Math.max(10 ** lowDecade, floor);
    const hi = 10 ** highDecade;
    const logLo = Math.log10(lo);
    const logSpan = Math.log10(hi) - logLo;
    const ticks: { value: number; label: string }[] = [];
    for (let d = Math.ceil(logLo - 1e-9); d <= highDecade; d++) ticks.push({ value: 10 ** d, label: format(10 ** d) });
    return {
      map: (v) => bottom - ((Math.log10(Math.min(Math.max(v, lo), hi)) - logLo) / logSpan) * pixelHeight,
      ticks,
    };
  }
  const data = extent(values);
  const dataMin = data ? data.min : 0;
  const dataMax = data ? data.max : 0;
  // Rates, counts and latencies are read against zero: a y axis that starts elsewhere exaggerates dips.
  const min = Math.min(0, dataMin);
  const rawMax = dataMax > min ? dataMax : min + 1;
  const step = axis.integer ? Math.max(1, niceStep(rawMax - min, TARGET_TICKS)) : niceStep(rawMax - min, TARGET_TICKS);
  const max = Math.ceil(rawMax / step) * step;
  return {
    map: (v) => bottom - ((Math.min(Math.max(v, min), max) - min) / (max - min)) * pixelHeight,
    ticks: linearTicks(min, max, step, format),
  };
}

function percentileTickLabel(decade: number): string {
  if (decade === 0) return '0%';
  // 1 -> 90%, 2 -> 99%, 3 -> 99.9%, ...
  return `${(100 - 100 / 10 ** decade).toFixed(Math.max(0, decade - 2))}%`;
}

interface XScale extends Scale {
  /** The value a point is placed at (the percentile axis transforms), or NaN when it has no place. */
  position(x: number): number;
  inDomain(pos: number): boolean;
}

function xScale(series: readonly ChartSeries[], axis: XAxisOptions, pixelLeft: number, pixelWidth: number): XScale {
  if (axis.mode === 'percentile') {
    const position = (p: number) => (p >= 0 && p < 100 ? percentileToX(p) : Number.NaN);
    const positions = extent(finiteValues(series, (p) => position(p.x)));
    // Show at least up to 99% so that a short curve still reads against the usual ticks.
    const max = Math.min(Math.max(2, positions ? positions.max : 0), PERCENTILE_MAX_DECADES);
    const ticks: { value: number; label: string }[] = [];
    for (let d = 0; d <= Math.floor(max + 1e-9); d++) ticks.push({ value: d, label: percentileTickLabel(d) });
    return {
      position,
      map: (pos) => pixelLeft + (pos / max) * pixelWidth,
      ticks,
      inDomain: (pos) => pos >= 0 && pos <= max + 1e-9,
    };
  }
  const format = axis.format ?? formatCompact;
  const xs = extent(finiteValues(series, (p) => p.x));
  const min = axis.min ?? (xs ? xs.min : 0);
  const rawMax = axis.max ?? (xs ? xs.max : 1);
  const max = rawMax > min ? rawMax : min + 1;
  return {
    position: (x) => x,
    map: (x) => pixelLeft + ((x - min) / (max - min)) * pixelWidth,
    ticks: linearTicks(min, max, niceStep(max - min, TARGET_TICKS), format),
    inDomain: (x) => x >= min - 1e-9 && x <= max + 1e-9,
  };
}

/** Legend entries laid out left to right, wrapping; returns the SVG and the height it takes. */
function legend(series: readonly ChartSeries[], colours: readonly string[], left: number, top: number, width: number) {
  const parts: string[] = [];
  let x = left;
  let row = 0;
  series.forEach((s, i) => {
    const label = s.axis === 'right' ? `${s.name} (right axis)` : s.name;
    const itemWidth = LEGEND_SWATCH_PX + 6 + label.length * CHAR_WIDTH_PX + LEGEND_ITEM_GAP;
    if (x > left && x + itemWidth > left + width) {
      x = left;
      row++;
    }
    const y = top + row * LEGEND_ROW_HEIGHT + LEGEND_ROW_HEIGHT / 2;
    const dash = s.dashed ? ` stroke-dasharray="${DASH_PATTERN}"` : '';
    parts.push(
      `<line x1="${round(x)}" y1="${round(y)}" x2="${round(x + LEGEND_SWATCH_PX)}" y2="${round(y)}" stroke="${colours[i]}" stroke-width="3"${dash}/>`,
      `<text x="${round(x + LEGEND_SWATCH_PX + 6)}" y="${round(y + 4)}">${escapeXml(label)}</text>`,
    );
    x += itemWidth;
  });
  return { svg: parts.join(''), height: series.length > 0 ? (row + 1) * LEGEND_ROW_HEIGHT : 0 };
}

/** Count legend rows without drawing (the plot area's top depends on it). */
function legendRows(series: readonly ChartSeries[], width: number): number {
  return legend(series, series.map(() => ''), 0, 0, width).height / LEGEND_ROW_HEIGHT;
}

interface PlacedMarker {
  marker: ChartMarker;
  /** Pixel x of the line. */
  px: number;
  /** Row of its name above the plot, 0 nearest the plot. */
  row: number;
  /** The name runs left of the line (it would leave the chart on the right). */
  leftward: boolean;
}

/**
 * Markers inside the x domain, each name in the lowest row where it does not
 * run into the previous name; phases take the rows nearest the plot and
 * faults the rows above them, so that a fault never hides a phase name.
 */
function placeMarkers(markers: readonly ChartMarker[], xs: XScale, chartWidth: number): { placed: PlacedMarker[]; rows: number } {
  const placed: PlacedMarker[] = [];
  let rowBase = 0;
  for (const kind of ['phase', 'fault'] as const) {
    const ofKind = markers
      .filter((m) => (m.kind ?? 'phase') === kind)
      .map((m) => ({ m, pos: xs.position(m.x) }))
      .filter(({ pos }) => Number.isFinite(pos) && xs.inDomain(pos))
      .map(({ m, pos }) => ({ m, px: xs.map(pos) }))
      .sort((a, b) => a.px - b.px);
    const rowEnds: number[] = [];
    for (const { m, px } of ofKind) {
      const width = m.label.length * MARKER_CHAR_WIDTH_PX + MARKER_LABEL_OFFSET_PX;
      const leftward = px + width > chartWidth;
      const start = leftward ? px - width : px;
      let row = rowEnds.findIndex((end) => end <= start);
      if (row < 0) row = rowEnds.push(0) - 1;
      rowEnds[row] = (leftward ? px : px + width) + MARKER_LABEL_GAP_PX;
      placed.push({ marker: m, px, row: rowBase + row, leftward });
    }
    rowBase += rowEnds.length;
  }
  return { placed, rows: rowBase };
}

function strokeWidths(count: number): number[] {
  const step = count > 1 ? Math.min(MAX_HALO_STEP, MAX_HALO_TOTAL / (count - 1)) : 0;
  return Array.from({ length: count }, (_, i) => BASE_STROKE + (count - 1 - i) * step);
}

/**
 * The series as one path (gaps where a value is missing), or a dot when it
 * has a single point. Two series with the same values give the same path
 * text: the later one hides the earlier (the render check skips it).
 */
function seriesElement(s: ChartSeries, colour: string, width: number, radius: number, x: XScale, y: Scale): string {
  const segments: string[] = [];
  let pen = 'M';
  let drawn = 0;
  let lastX = 0;
  let lastY = 0;
  for (const p of s.points) {
    const pos = x.position(p.x);
    if (!Number.isFinite(pos) || !Number.isFinite(p.y) || !x.inDomain(pos)) {
      pen = 'M';
      continue;
    }
    lastX = x.map(pos);
    lastY = y.map(p.y);
    segments.push(`${pen}${round(lastX)} ${round(lastY)}`);
    pen = 'L';
    drawn++;
  }
  const attrs = `data-series="${escapeXml(s.name)}" stroke="${colour}"`;
  if (drawn === 0) return '';
  if (drawn === 1) {
    return `<circle ${attrs} cx="${round(lastX)}" cy="${round(lastY)}" r="${radius}" fill="${colour}"/>`;
  }
  const dash = s.dashed ? ` stroke-dasharray="${DASH_PATTERN}"` : '';
  return `<path ${attrs} stroke-width="${width}" fill="none" stroke-linejoin="round" stroke-linecap="round"${dash} d="${segments.join('')}"/>`;
}

/** The chart as an inline <svg> element. */
export function renderLineChart(o: LineChartOptions): string {
  const width = o.width ?? DEFAULT_WIDTH;
  const height = o.height ?? DEFAULT_HEIGHT;
  const left = o.series.filter((s) => s.axis !== 'right');
  const right = o.series.filter((s) => s.axis === 'right');
  const hasY2 = o.y2 !== undefined && right.length > 0;
  const marginRight = hasY2 ? MARGIN_RIGHT_DUAL : MARGIN_RIGHT_SINGLE;
  const legendTop = TITLE_HEIGHT;
  const legendHeight = legendRows(o.series, width - MARGIN_LEFT - marginRight) * LEGEND_ROW_HEIGHT;
  const plot: Rect = { left: MARGIN_LEFT, top: 0, width: width - MARGIN_LEFT - marginRight, height: 0 };
  // The x scale depends only on the plot's left and width; the marker names' rows decide its top.
  const xs = xScale(o.series, o.x, plot.left, plot.width);
  const markers = placeMarkers(o.markers ?? [], xs, width);
  const markerStrip = markers.rows > 0 ? markers.rows * MARKER_ROW_HEIGHT + MARKER_STRIP_GAP : 0;
  plot.top = legendTop + legendHeight + LEGEND_GAP + markerStrip;
  plot.height = height - plot.top - MARGIN_BOTTOM;

  const inX = (p: ChartPoint) => {
    const pos = xs.position(p.x);
    return Number.isFinite(pos) && xs.inDomain(pos);
  };
  const yValues = (list: readonly ChartSeries[]) =>
    list.flatMap((s) => s.points.filter((p) => inX(p) && Number.isFinite(p.y)).map((p) => p.y));
  const y1 = yScale(yValues(hasY2 ? left : o.series), o.y, plot.top, plot.height);
  const y2 = hasY2 && o.y2 ? yScale(yValues(right), o.y2, plot.top, plot.height) : undefined;

  const colours = o.series.map((s, i) => s.color ?? paletteColor(i));
  const widths = strokeWidths(o.series.length);
  const dotRadius = (i: number) => DOT_RADIUS + (o.series.length - 1 - i) * DOT_RING_PX;
  const plotBottom = plot.top + plot.height;
  const plotRight = plot.left + plot.width;
  const parts: string[] = [];

  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(
    `<text x="${MARGIN_LEFT}" y="${TITLE_HEIGHT - 9}" font-size="${TITLE_FONT_SIZE}" font-weight="600">${escapeXml(o.title)}</text>`,
  );
  parts.push(legend(o.series, colours, plot.left, legendTop, plot.width).svg);
  parts.push(
    `<rect data-plot-area="" x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="${PLOT_BACKGROUND}"/>`,
  );

  // Horizontal gridlines follow the left axis only: two grids would be noise.
  for (const t of y1.ticks) {
    const y = round(y1.map(t.value));
    parts.push(`<line x1="${plot.left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="${GRID_COLOUR}"/>`);
    parts.push(
      `<line x1="${plot.left - TICK_LENGTH}" y1="${y}" x2="${plot.left}" y2="${y}" stroke="${AXIS_COLOUR}"/>`,
      `<text x="${plot.left - TICK_LENGTH - 3}" y="${round(y1.map(t.value) + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`,
    );
  }
  for (const t of xs.ticks) {
    const x = round(xs.map(t.value));
    parts.push(`<line x1="${x}" y1="${plot.top}" x2="${x}" y2="${plotBottom}" stroke="${GRID_COLOUR}"/>`);
    parts.push(
      `<line x1="${x}" y1="${plotBottom}" x2="${x}" y2="${plotBottom + TICK_LENGTH}" stroke="${AXIS_COLOUR}"/>`,
      `<text x="${x}" y="${plotBottom + TICK_LENGTH + 14}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  if (y2 && o.y2) {
    for (const t of y2.ticks) {
      const y = round(y2.map(t.value));
      parts.push(
        `<line x1="${plotRight}" y1="${y}" x2="${plotRight + TICK_LENGTH}" y2="${y}" stroke="${AXIS_COLOUR}"/>`,
        `<text x="${plotRight + TICK_LENGTH + 3}" y="${round(y2.map(t.value) + 4)}">${escapeXml(t.label)}</text>`,
      );
    }
    const cx = width - 14;
    const cy = round(plot.top + plot.height / 2);
    parts.push(
      `<text x="${cx}" y="${cy}" text-anchor="middle" transform="rotate(90 ${cx} ${cy})">${escapeXml(o.y2.label)}</text>`,
    );
  }

  // Axis titles.
  const yLabelX = 16;
  const yLabelY = round(plot.top + plot.height / 2);
  parts.push(
    `<text x="${yLabelX}" y="${yLabelY}" text-anchor="middle" transform="rotate(-90 ${yLabelX} ${yLabelY})">${escapeXml(o.y.label)}</text>`,
    `<text x="${round(plot.left + plot.width / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(o.x.label)}</text>`,
  );

  // Marker lines under the series, so that they never hide data. Names sit in the strip above
  // the plot (never over data), each in the row placeMarkers gave it; the line joins name and plot.
  for (const { marker: m, px, row, leftward } of markers.placed) {
    const x = round(px);
    const labelY = plot.top - MARKER_STRIP_GAP - row * MARKER_ROW_HEIGHT;
    const fault = m.kind === 'fault';
    const line = fault
      ? `stroke="${FAULT_MARKER_COLOUR}" stroke-width="${FAULT_MARKER_STROKE}"`
      : `stroke="${MARKER_COLOUR}" stroke-dasharray="4 3"`;
    const tip = m.detail === undefined ? '' : `<title>${escapeXml(m.detail)}</title>`;
    const labelX = round(leftward ? px - MARKER_LABEL_OFFSET_PX : px + MARKER_LABEL_OFFSET_PX);
    const anchor = leftward ? ' text-anchor="end"' : '';
    const textStyle = fault ? `fill="${FAULT_MARKER_COLOUR}" font-weight="600"` : `fill="${MARKER_TEXT_COLOUR}"`;
    parts.push(
      `<line data-marker="${fault ? 'fault' : 'phase'}" x1="${x}" y1="${round(labelY + 2)}" x2="${x}" y2="${plotBottom}" ${line}>${tip}</line>`,
      `<text x="${labelX}" y="${round(labelY)}"${anchor} font-size="${MARKER_FONT_SIZE}" ${textStyle}>${escapeXml(m.label)}</text>`,
    );
  }

  // Axis lines before the series: a series lying on an axis (zero, or the log floor) stays on top, in its colour.
  parts.push(
    `<line x1="${plot.left}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}" stroke="${AXIS_COLOUR}"/>`,
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plotBottom}" stroke="${AXIS_COLOUR}"/>`,
  );
  if (y2) {
    parts.push(`<line x1="${plotRight}" y1="${plot.top}" x2="${plotRight}" y2="${plotBottom}" stroke="${AXIS_COLOUR}"/>`);
  }

  const seriesParts = o.series.map((s, i) =>
    seriesElement(s, colours[i] ?? paletteColor(i), widths[i] ?? BASE_STROKE, dotRadius(i), xs, s.axis === 'right' && y2 ? y2 : y1),
  );
  if (seriesParts.every((p) => p === '')) {
    parts.push(
      `<text x="${round(plot.left + plot.width / 2)}" y="${round(plot.top + plot.height / 2)}" text-anchor="middle" fill="${AXIS_COLOUR}">no data</text>`,
    );
  }
  parts.push(...seriesParts);

  // No xmlns: inline SVG in HTML does not need it, and the page then holds no http:// string at all.
  return (
    `<svg data-chart="${escapeXml(o.name)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ` +
    `font-family='${FONT_FAMILY}' font-size="${FONT_SIZE}" fill="${TEXT_COLOUR}">` +
    parts.join('') +
    '</svg>'
  );
}
