#!/usr/bin/env node
// Checks that report pages (report.html, compare.html) really draw their
// charts in a browser and fit a common screen: each page is screenshotted by
// headless Chromium, and the screenshot must show, for every chart the HTML
// declares, its plot area, a minimum number of pixels in the colour of each
// of its series and of each fault marker; and at each of LAYOUT_WIDTHS the
// page must not scroll sideways and no table may run past the page or its
// scroll box (a column cut off at the right edge).
//
//   node scripts/check-report-render.mjs [--keep] <file.html>...
//
// How it decides (the conventions come from src/harness/report/svg-chart.ts):
// - Expectations are read from the HTML itself: every `<svg data-chart=...>`
//   is a chart; its `<rect data-plot-area fill=...>` gives the plot area's
//   colour; every element with `data-series` and `stroke="#rrggbb"` is a
//   series that must be visible.
// - In the screenshot, a plot area is a band of rows that hold many pixels
//   of the plot-area colour. Charts are stacked one under the other, so the
//   i-th band is the i-th chart. Fewer bands than charts: a chart did not
//   render (or the page was cut off).
// - Within each band (plus a few rows for lines lying on the edges) each
//   series colour must cover at least MIN_SERIES_PIXELS pixels. The legend
//   sits above the plot area, so its swatches do not count. Fault markers
//   (`<line data-marker="fault" stroke=...>`) are counted the same way, in
//   their own colour, MIN_MARKER_PIXELS each.
// - Layout: a copy of the page with a measuring script added is loaded at
//   each width (real scrollbars, as a reader has them) and its DOM dumped;
//   the script reports the page's and every table's overflow.
// Exit status: 0 every page OK, 1 some page failed, 2 usage error or no Chromium.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

const WINDOW_WIDTH = 1400;
/** Window widths at which every table must fit: a laptop's browser, and a narrow one. */
const LAYOUT_WIDTHS = [1300, 1000];
const LAYOUT_HEIGHT = 900;
/** Sub-pixel rounding of a layout box. */
const LAYOUT_SLACK_PX = 1;
const LAYOUT_RESULT_ID = 'metaq-render-check-layout';
/** Page height estimate (the screenshot is only the window): charts' own heights plus room for the rest. */
const MIN_WINDOW_HEIGHT = 900;
const MAX_WINDOW_HEIGHT = 20000;
const PX_PER_TABLE_ROW = 48;
const PX_PER_HEADING = 70;
const PX_BASE = 500;
const HEIGHT_SAFETY_FACTOR = 1.3;
const CHROME_TIMEOUT_MS = 60_000;
const CHROME_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** A row belongs to a plot area when it holds at least this many plot-background pixels. */
const MIN_BG_PIXELS_PER_ROW = 100;
/** Rows without background inside a plot area (a flat thick line, a gridline) up to this many. */
const MAX_GAP_ROWS = 24;
/** Anything shorter than this is not a plot area. */
const MIN_BAND_ROWS = 60;
/** Rows above and below a band still searched (a series on the axis is half outside the plot rect). */
const BAND_MARGIN_ROWS = 4;
/** Plot background matched per channel within this. */
const BG_CHANNEL_TOLERANCE = 2;
/** A series pixel: Euclidean RGB distance to its colour at most this (anti-aliased edges do not count). */
const SERIES_COLOUR_TOLERANCE = 24;
/** A visible stretch of line, well above what stray blends of other colours could add up to. */
const MIN_SERIES_PIXELS = 40;
/** A one-point series is a dot (or a 2 px ring around a later dot). */
const MIN_DOT_PIXELS = 15;
/** A fault marker is a 2 px line down the plot: far more than the few pixels its name's descenders leave in the band. */
const MIN_MARKER_PIXELS = 60;

function usage(message) {
  if (message) console.error(`check-report-render: ${message}`);
  console.error('usage: node scripts/check-report-render.mjs [--keep] <file.html>...');
  process.exit(2);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** CHROME_BIN if set (it must then be there: a typo must not silently fall back), else the first browser on PATH. */
function findChrome() {
  if (process.env.CHROME_BIN) return isExecutable(process.env.CHROME_BIN) ? process.env.CHROME_BIN : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of CHROME_NAMES) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function attr(tag, name) {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? m[1] : undefined;
}

function parseHex(hex) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex ?? '');
  if (!m) return undefined;
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** A later line hides an earlier one when this share of the earlier one's vertices lie under it. */
const COVERED_SHARE = 0.9;
/** ...within this many SVG units (about the stroke width) of the later line's vertex at the same x. */
const COVER_DISTANCE = 2;

/** The vertices of a path's `d` (M/L commands with x,y pairs), keyed by rounded x. */
function vertices(d) {
  const nums = (d ?? '').match(/-?\d+(?:\.\d+)?/g)?.map(Number) ?? [];
  const byX = new Map();
  for (let i = 0; i + 1 < nums.length; i += 2) byX.set(Math.round(nums[i]), nums[i + 1]);
  return byX;
}

/**
 * Whether the lines `over` together cover the line `under`: at almost every
 * vertex of `under`, one of them lies within COVER_DISTANCE (one identical
 * later line, or several that each lie on a stretch of it: a broker's line
 * under its peers' while they all read the same).
 */
function covers(over, under) {
  if (over.includes(under)) return true;
  const a = vertices(under);
  if (a.size === 0) return false;
  const others = over.map(vertices);
  let close = 0;
  for (const [x, y] of a) {
    if (others.some((b) => {
      const y2 = b.get(x);
      return y2 !== undefined && Math.abs(y2 - y) <= COVER_DISTANCE;
    })) close++;
  }
  return close / a.size >= COVERED_SHARE;
}

/** The charts the page declares: name, plot background, series and their colours. */
function expectedCharts(html) {
  const charts = [];
  for (const m of html.matchAll(/<svg\b[^>]*\bdata-chart="([^"]*)"[^>]*>([\s\S]*?)<\/svg>/g)) {
    const [, name, inner] = m;
    const plotTag = /<rect\b[^>]*\bdata-plot-area\b[^>]*>/.exec(inner)?.[0];
    const background = parseHex(plotTag ? attr(plotTag, 'fill') : undefined);
    const series = [];
    for (const s of inner.matchAll(/<(path|circle)\b[^>]*\bdata-series="[^"]*"[^>]*>/g)) {
      const colour = attr(s[0], 'stroke');
      const dot = s[1] === 'circle';
      // Where it is drawn: two series with the same geometry are one line on screen.
      const geometry = dot ? `${attr(s[0], 'cx')},${attr(s[0], 'cy')}` : attr(s[0], 'd');
      series.push({ name: attr(s[0], 'data-series'), colour, rgb: parseHex(colour), dot, geometry });
    }
    // A line with (nearly) the same path as later series lies under them (offered equal to
    // produced, consumed equal to produced, every second): invisible by construction, not a
    // rendering failure. Dots shrink, so they stay as rings.
    series.forEach((s, i) => {
      s.hidden = !s.dot && covers(series.slice(i + 1).filter((later) => !later.dot).map((later) => later.geometry), s.geometry);
    });
    const markers = [];
    for (const l of inner.matchAll(/<line\b[^>]*\bdata-marker="fault"[^>]*>/g)) {
      const colour = attr(l[0], 'stroke');
      markers.push({ colour, rgb: parseHex(colour) });
    }
    charts.push({ name, background, series, markers });
  }
  return charts;
}

function estimateHeight(html) {
  const svgHeights = [...html.matchAll(/<svg\b[^>]*\sheight="(\d+)"/g)].reduce((s, m) => s + Number(m[1]), 0);
  const rows = (html.match(/<tr\b/g) ?? []).length;
  const headings = (html.match(/<h[1-3]\b/g) ?? []).length;
  const estimate = (svgHeights + rows * PX_PER_TABLE_ROW + headings * PX_PER_HEADING + PX_BASE) * HEIGHT_SAFETY_FACTOR;
  return Math.round(Math.min(MAX_WINDOW_HEIGHT, Math.max(MIN_WINDOW_HEIGHT, estimate)));
}

/** Runs Chromium to screenshot the page; resolves when the PNG is written, rejects with Chromium's output otherwise. */
async function screenshot(chrome, htmlFile, pngFile, height, profileDir) {
  const { stdout, stderr, exit } = await runChrome(
    chrome,
    ['--hide-scrollbars', '--force-color-profile=srgb', `--window-size=${WINDOW_WIDTH},${height}`, `--screenshot=${pngFile}`, pathToFileURL(path.resolve(htmlFile)).href],
    profileDir,
  );
  if (!fs.existsSync(pngFile)) {
    throw new Error(`Chromium exited (${exit}) without a screenshot: ${(stdout + stderr).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/**
 * Measures the page as laid out at `width`: the script added to a copy of it
 * writes the page's and each table's overflow into a <pre>, and Chromium's
 * --dump-dom prints the DOM once the page has loaded.
 */
const LAYOUT_PROBE = `<script>
(() => {
  const root = document.documentElement;
  const view = root.clientWidth;
  const out = { view, pageScroll: root.scrollWidth, tables: [] };
  document.querySelectorAll('table').forEach((t, i) => {
    const box = t.getBoundingClientRect();
    const holder = t.parentElement;
    const hb = holder.getBoundingClientRect();
    out.tables.push({
      index: i,
      head: (t.querySelector('th')?.textContent ?? '').slice(0, 40),
      right: box.right,
      visibleRight: Math.min(view, hb.left + holder.clientWidth),
      holderScroll: holder.scrollWidth,
      holderClient: holder.clientWidth,
    });
  });
  const pre = document.createElement('pre');
  pre.id = '${LAYOUT_RESULT_ID}';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`;

const HTML_ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * Runs Chromium with `args` after the common ones (no network beyond loopback: CI has none), in its own
 * process group so that on a timeout the browser and the helpers it forked go together; resolves with its output.
 */
function runChrome(chrome, args, profileDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      chrome,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`Chromium did not finish within ${CHROME_TIMEOUT_MS / 1000} s`));
    }, CHROME_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exit: signal ?? code });
    });
  });
}

/** What does not fit at `width`: the page scrolling sideways, a table running past the page or its scroll box. */
async function layoutProblems(chrome, html, work, width) {
  const probe = path.join(work, `layout-${width}.html`);
  fs.writeFileSync(probe, html.includes('</body>') ? html.replace('</body>', `${LAYOUT_PROBE}</body>`) : html + LAYOUT_PROBE);
  const { stdout, stderr } = await runChrome(
    chrome,
    ['--force-color-profile=srgb', `--window-size=${width},${LAYOUT_HEIGHT}`, '--dump-dom', pathToFileURL(probe).href],
    path.join(work, `profile-${width}`),
  );
  const m = new RegExp(`<pre id="${LAYOUT_RESULT_ID}">([^<]*)</pre>`).exec(stdout);
  if (!m) throw new Error(`at ${width} px Chromium gave no layout: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const layout = JSON.parse(m[1].replace(/&(amp|lt|gt|quot|#39);/g, (e) => HTML_ENTITIES[e]));
  const problems = [];
  if (layout.pageScroll > layout.view + LAYOUT_SLACK_PX) {
    problems.push(`at ${width} px the page is ${layout.pageScroll} px wide for a ${layout.view} px window (it scrolls sideways)`);
  }
  for (const t of layout.tables) {
    const cut = Math.max(t.right - t.visibleRight, t.holderScroll - t.holderClient);
    if (cut > LAYOUT_SLACK_PX) {
      problems.push(`at ${width} px table ${t.index + 1} ("${t.head}") runs ${Math.round(cut)} px past the page's right edge (its last columns are cut off)`);
    }
  }
  return problems;
}

/** Row bands holding the plot background, top to bottom. */
function plotBands(png, bg) {
  const { width, height, data } = png;
  const isPlotRow = [];
  for (let y = 0; y < height; y++) {
    let count = 0;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (
        Math.abs(data[i] - bg[0]) <= BG_CHANNEL_TOLERANCE &&
        Math.abs(data[i + 1] - bg[1]) <= BG_CHANNEL_TOLERANCE &&
        Math.abs(data[i + 2] - bg[2]) <= BG_CHANNEL_TOLERANCE
      ) {
        count++;
      }
    }
    isPlotRow.push(count >= MIN_BG_PIXELS_PER_ROW);
  }
  const bands = [];
  let current;
  for (let y = 0; y < height; y++) {
    if (!isPlotRow[y]) continue;
    if (current && y - current.bottom <= MAX_GAP_ROWS + 1) current.bottom = y;
    else {
      if (current) bands.push(current);
      current = { top: y, bottom: y };
    }
  }
  if (current) bands.push(current);
  return bands.filter((b) => b.bottom - b.top + 1 >= MIN_BAND_ROWS);
}

function countColour(png, band, rgb) {
  const { width, height, data } = png;
  const top = Math.max(0, band.top - BAND_MARGIN_ROWS);
  const bottom = Math.min(height - 1, band.bottom + BAND_MARGIN_ROWS);
  const limit = SERIES_COLOUR_TOLERANCE * SERIES_COLOUR_TOLERANCE;
  let count = 0;
  for (let y = top; y <= bottom; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const dr = data[i] - rgb[0];
      const dg = data[i + 1] - rgb[1];
      const db = data[i + 2] - rgb[2];
      if (dr * dr + dg * dg + db * db <= limit) count++;
    }
  }
  return count;
}

/** The reasons the screenshot does not show the page's charts (empty when it does), and a short account. */
function judge(png, charts) {
  const problems = [];
  if (charts.length === 0) return { problems: ['the page has no <svg data-chart> chart'], detail: '' };
  for (const c of charts) {
    if (!c.background) problems.push(`chart "${c.name}": no <rect data-plot-area fill="#rrggbb"> in the HTML`);
    for (const s of c.series) if (!s.rgb) problems.push(`chart "${c.name}": series "${s.name}" has no #rrggbb stroke`);
    if (c.markers.some((m) => !m.rgb)) problems.push(`chart "${c.name}": a fault marker has no #rrggbb stroke`);
  }
  if (problems.length > 0) return { problems, detail: '' };

  // Charts may in principle use different plot colours: find the bands of each colour, in page order.
  const bandsByColour = new Map();
  const chartsByColour = new Map();
  for (const c of charts) {
    const key = c.background.join(',');
    if (!bandsByColour.has(key)) bandsByColour.set(key, plotBands(png, c.background));
    chartsByColour.set(key, [...(chartsByColour.get(key) ?? []), c]);
  }
  let minDrawn = Infinity;
  let seriesCount = 0;
  let hidden = 0;
  let markerCount = 0;
  for (const [key, group] of chartsByColour) {
    const bands = bandsByColour.get(key);
    if (bands.length !== group.length) {
      // Bands are matched to charts by order; with one missing, every later match would be wrong.
      problems.push(
        `${bands.length} plot areas in the screenshot for ${group.length} charts (${group.map((c) => c.name).join(', ')}): ` +
          'a chart did not render, or the page was cut off',
      );
      continue;
    }
    group.forEach((c, i) => {
      for (const s of c.series) {
        if (s.hidden) {
          hidden++;
          continue;
        }
        const drawn = countColour(png, bands[i], s.rgb);
        const need = s.dot ? MIN_DOT_PIXELS : MIN_SERIES_PIXELS;
        seriesCount++;
        minDrawn = Math.min(minDrawn, drawn);
        if (drawn < need) problems.push(`chart "${c.name}": series "${s.name}" (${s.colour}) drew ${drawn} px, need ${need}`);
      }
      // Fault markers share one colour: together they must show as many lines as there are.
      const byColour = new Map();
      for (const m of c.markers) byColour.set(m.colour, { rgb: m.rgb, count: (byColour.get(m.colour)?.count ?? 0) + 1 });
      for (const [colour, { rgb, count }] of byColour) {
        const drawn = countColour(png, bands[i], rgb);
        markerCount += count;
        if (drawn < count * MIN_MARKER_PIXELS) {
          problems.push(`chart "${c.name}": ${count} fault marker(s) (${colour}) drew ${drawn} px, need ${count * MIN_MARKER_PIXELS}`);
        }
      }
    });
  }
  const detail =
    `${charts.length} charts, ${seriesCount} series drawn${seriesCount > 0 ? ` (fewest pixels: ${minDrawn})` : ''}` +
    (hidden > 0 ? `, ${hidden} under (nearly) identical later series (not counted)` : '') +
    (markerCount > 0 ? `, ${markerCount} fault markers drawn` : '');
  return { problems, detail };
}

async function checkPage(chrome, file, keep) {
  const html = fs.readFileSync(file, 'utf8');
  const charts = expectedCharts(html);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'metaq-render-'));
  const png = path.join(work, 'page.png');
  try {
    await screenshot(chrome, file, png, estimateHeight(html), path.join(work, 'profile'));
    const image = PNG.sync.read(fs.readFileSync(png));
    if (keep) fs.copyFileSync(png, file.replace(/\.html?$/i, '') + '.png');
    const { problems, detail } = judge(image, charts);
    for (const width of LAYOUT_WIDTHS) problems.push(...(await layoutProblems(chrome, html, work, width)));
    return { problems, detail: `${detail}; tables fit at ${LAYOUT_WIDTHS.join(' and ')} px` };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const keep = argv.includes('--keep');
  const files = argv.filter((a) => a !== '--keep');
  const unknown = files.find((f) => f.startsWith('--'));
  if (unknown) usage(`unknown option ${unknown}`);
  if (files.length === 0) usage('no page given');
  const chrome = findChrome();
  if (!chrome) {
    console.error(
      (process.env.CHROME_BIN
        ? `check-report-render: CHROME_BIN=${process.env.CHROME_BIN} is not an executable file. `
        : `check-report-render: no Chromium found (looked for ${CHROME_NAMES.join(', ')} on PATH). `) +
        'Install it (apt-get install chromium) or set CHROME_BIN to the browser binary.',
    );
    process.exit(2);
  }
  let failed = 0;
  for (const file of files) {
    try {
      if (!fs.existsSync(file)) throw new Error('no such file');
      const { problems, detail } = await checkPage(chrome, file, keep);
      if (problems.length === 0) console.log(`OK     ${file}: ${detail}`);
      else {
        failed++;
        console.log(`FAILED ${file}: ${problems.join('; ')}`);
      }
    } catch (err) {
      failed++;
      console.log(`FAILED ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

await main();
