// summary.md: a run's headline numbers as Markdown, what CI appends to the
// job summary ($GITHUB_STEP_SUMMARY). Same figures as report.html (both come
// from tables.ts).
import type { RunSummary } from '../run-result.js';
import { markdownListItem, markdownTable } from './markdown.js';
import {
  cpuLine,
  cpuPerMessageLine,
  cpuTable,
  hasCpuPerMessage,
  faultNotes,
  faultsOf,
  faultTable,
  headlineTable,
  httpLatencyTable,
  httpTable,
  latencyTable,
  lossLimitLine,
  machineLine,
  phaseTable,
  runLine,
  runTitle,
} from './tables.js';

export function renderSummaryMarkdown(summary: RunSummary): string {
  const sections = [`## ${runTitle(summary)}`, runLine(summary), markdownTable(headlineTable(summary))];
  // A clean run with nothing allowed to be lost needs no loss line: the Lost row says 0.
  if (faultsOf(summary).length > 0 || (summary.lossLimit ?? 0) !== 0) sections.push(lossLimitLine(summary));
  sections.push(markdownTable(latencyTable(summary)));
  const http = httpTable(summary);
  const httpLatency = httpLatencyTable(summary);
  if (http !== undefined && httpLatency !== undefined) sections.push(['### HTTP front', '', markdownTable(http), '', markdownTable(httpLatency)].join('\n'));
  if (faultsOf(summary).length > 0) {
    const notes = faultNotes(summary);
    sections.push(['### Faults', '', markdownTable(faultTable(summary)), ...(notes.length > 0 ? ['', ...notes.map(markdownListItem)] : [])].join('\n'));
  }
  if (summary.phases.length > 0) sections.push(markdownTable(phaseTable(summary)));
  if (summary.failures.length > 0) {
    sections.push(['### Failures', '', ...summary.failures.map(markdownListItem)].join('\n'));
  }
  if (summary.warnings.length > 0) {
    sections.push(['### Warnings', '', ...summary.warnings.map(markdownListItem)].join('\n'));
  }
  if (summary.cpu.length > 0) sections.push(cpuLine(summary));
  if (hasCpuPerMessage(summary)) sections.push(markdownTable(cpuTable(summary)), cpuPerMessageLine(summary));
  sections.push(machineLine(summary));
  return `${sections.join('\n\n')}\n`;
}
