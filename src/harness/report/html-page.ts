// The HTML shell shared by report.html and compare.html: one self-contained
// page (inline CSS, system fonts, no script, nothing fetched), tables built
// from tables.ts rows, and the PASSED/FAILED banner.
import { escapeXml } from './svg-chart.js';
import type { Table } from './tables.js';

/** Inline stylesheet: system fonts only (no web font may be fetched), readable printed too. */
const PAGE_CSS = `
:root { color-scheme: light; }
body { margin: 24px auto; max-width: 1240px; padding: 0 16px; background: #ffffff; color: #1f2937;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
p.meta { color: #4b5563; margin: 4px 0; }
.banner { margin: 16px 0; padding: 10px 14px; border-radius: 6px; font-weight: 600; }
.banner.passed { background: #dcfce7; color: #14532d; border: 1px solid #86efac; }
.banner.failed { background: #fee2e2; color: #7f1d1d; border: 1px solid #fca5a5; }
.banner.warning { background: #fef9c3; color: #713f12; border: 1px solid #fde047; }
.banner ul { margin: 6px 0 0; padding-left: 20px; font-weight: 400; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d1d5db; padding: 4px 7px; }
th { background: #f3f4f6; text-align: left; font-weight: 600; vertical-align: bottom; }
th.num { text-align: right; }
td:first-child { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.table-wrap { overflow-x: auto; }
figure { margin: 12px 0 20px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #4b5563; font-size: 13px; margin-top: 4px; }
footer { color: #6b7280; font-size: 12px; margin-top: 28px; border-top: 1px solid #e5e7eb; padding-top: 8px; }
`;

export function htmlTable(t: Table): string {
  const cls = (i: number) => (i >= t.numericFrom ? ' class="num"' : '');
  const head = t.headers.map((h, i) => `<th${cls(i)}>${escapeXml(h)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  // Wrapped so that a table wider than the page scrolls instead of running off it.
  return `<div class="table-wrap"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`;
}

/** Green PASSED or red FAILED with the failure reasons listed under it. */
export function verdictBanner(passed: boolean, failures: readonly string[], subject = 'Run'): string {
  if (passed) return `<div class="banner passed">${escapeXml(subject)} PASSED</div>`;
  const list = failures.length > 0 ? `<ul>${failures.map((f) => `<li>${escapeXml(f)}</li>`).join('')}</ul>` : '';
  return `<div class="banner failed">${escapeXml(subject)} FAILED${list}</div>`;
}

/** Yellow box listing what a reader should know that did not fail the run; empty string when there is nothing. */
export function warningsBanner(warnings: readonly string[]): string {
  if (warnings.length === 0) return '';
  return `<div class="banner warning">Warnings<ul>${warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul></div>`;
}

/** A chart with a caption saying how to read it. */
export function figure(svg: string, caption: string): string {
  return `<figure>\n${svg}\n<figcaption>${escapeXml(caption)}</figcaption>\n</figure>`;
}

/** The whole document. `body` is trusted HTML built by the report writers. */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
