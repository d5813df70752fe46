// summary.md: a run's headline numbers as Markdown, what CI appends to the
// job summary ($GITHUB_STEP_SUMMARY). Same figures as report.html (both come
// from tables.ts).
import type { RunSummary } from '../run-result.js';
import { markdownListItem, markdownTable } from './markdown.js';
import { cpuLine, headlineTable, latencyTable, machineLine, phaseTable, runLine, runTitle } from './tables.js';

export function renderSummaryMarkdown(summary: RunSummary): string {
  const sections = [`## ${runTitle(summary)}`, runLine(summary), markdownTable(headlineTable(summary))];
  sections.push(markdownTable(latencyTable(summary)));
  if (summary.phases.length > 0) sections.push(markdownTable(phaseTable(summary)));
  if (summary.failures.length > 0) {
    sections.push(['### Failures', '', ...summary.failures.map(markdownListItem)].join('\n'));
  }
  if (summary.warnings.length > 0) {
    sections.push(['### Warnings', '', ...summary.warnings.map(markdownListItem)].join('\n'));
  }
  if (summary.cpu.length > 0) sections.push(cpuLine(summary));
  sections.push(machineLine(summary));
  return `${sections.join('\n\n')}\n`;
}
