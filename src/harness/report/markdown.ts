// Markdown rendering helpers for summary.md and compare.md (GitHub-flavoured:
// what a CI job summary displays).
import type { Table } from './tables.js';

/** A table cell: a pipe would end the cell and a newline the row. */
export function markdownCell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replaceAll('|', '\\|');
}

export function markdownTable(t: Table): string {
  const align = t.headers.map((_, i) => (i >= t.numericFrom ? '--:' : ':--'));
  const line = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  return [line(t.headers), `|${align.join('|')}|`, ...t.rows.map(line)].join('\n');
}

/** A bullet list item holding free text (a failure reason) on one line. */
export function markdownListItem(s: string): string {
  return `- ${s.replace(/\r?\n/g, ' ')}`;
}
