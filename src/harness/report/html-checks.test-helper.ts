// Assertions shared by the HTML report tests: the page is self-contained,
// and which charts it holds with how many drawn series. Not a test file.
import { expect } from 'vitest';

/** The page must open offline: nothing it loads may come from the network. */
export function expectSelfContained(html: string): void {
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<script\b[^>]*\bsrc=/i);
  expect(html).not.toMatch(/<link\b/i);
  expect(html).not.toMatch(/<img\b/i);
  expect(html).not.toMatch(/@import|url\(/i);
}

/** Each data-chart svg with the number of series paths that have real path data. */
export function chartsIn(html: string): Map<string, number> {
  const charts = new Map<string, number>();
  for (const m of html.matchAll(/<svg data-chart="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)) {
    const paths = [...m[2]!.matchAll(/<path data-series="[^"]*"[^>]* d="(M[\d.]+ [\d.]+(?:[ML][\d.]+ [\d.]+)+)"/g)];
    charts.set(m[1]!, paths.length);
  }
  return charts;
}
