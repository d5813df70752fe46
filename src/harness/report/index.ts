// The report writers' public door: what the harness coordinator and the
// compare command use to turn runs into summary.json, summary.md, *.hgrm,
// timeline.csv, report.html and compare.{md,html}.
export { latencySummaryMs, percentileCurve, renderHgrm, decodeLatencyHistogram, type PercentilePoint } from './hgrm.js';
export { renderSummaryMarkdown } from './summary-md.js';
export { renderTimelineCsv, TIMELINE_CSV_HEADER } from './timeline-csv.js';
export {
  renderLineChart,
  escapeXml,
  percentileToX,
  SERIES_PALETTE,
  PLOT_BACKGROUND,
  type AxisScale,
  type ChartMarker,
  type ChartPoint,
  type ChartSeries,
  type LineChartOptions,
  type XAxisOptions,
  type YAxisOptions,
} from './svg-chart.js';
export { renderRunHtml, RUN_CHARTS } from './report-html.js';
export {
  compareToBaseline,
  renderCompareHtml,
  renderCompareMarkdown,
  describeTolerance,
  DEFAULT_BASELINE_TOLERANCE,
  COMPARE_CHARTS,
  type BaselineTolerance,
  type Regression,
} from './compare.js';
export { readRunSummary, writeCompareReport, writeRunReport, RUN_FILES, COMPARE_FILES } from './write.js';
export { formatCount, formatMs, modeLabel } from './format.js';
