// Finds and checks scenario definitions: scenarios/<name>.ts at the
// repository root (compiled next to src/ in dist/), each exporting
// `scenario: Scenario`. A typo in a name or a definition is an
// InvalidConfigError that says what is wrong, never a half-run.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidConfigError } from '../../common/index.js';
import { MAX_BROKER_GROUPS } from './fault-spec.js';
import { producingSeconds, type Scenario } from './scenario.js';

/** src/harness/scenario -> the repository's scenarios/ (dist/src/harness/scenario -> dist/scenarios when compiled). */
const SCENARIOS_DIR = new URL('../../../scenarios/', import.meta.url);
const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const MODE = /^(sync|async)\/(sync|async|none)$/;
const EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export function listScenarios(): string[] {
  try {
    return fs
      .readdirSync(fileURLToPath(SCENARIOS_DIR))
      .filter((f) => f.endsWith(EXTENSION) && !f.endsWith(`.d${EXTENSION}`) && !f.includes('.test.'))
      .map((f) => f.slice(0, -EXTENSION.length))
      .sort();
  } catch {
    return [];
  }
}

export async function loadScenario(name: string): Promise<Scenario> {
  const known = listScenarios();
  if (!NAME.test(name) || !known.includes(name)) {
    throw new InvalidConfigError(`unknown scenario ${JSON.stringify(name)}; known: ${known.join(', ') || '(none found)'}`);
  }
  const mod = (await import(new URL(`${name}${EXTENSION}`, SCENARIOS_DIR).href)) as { scenario?: Scenario };
  if (mod.scenario === undefined) throw new InvalidConfigError(`scenarios/${name}${EXTENSION} does not export \`scenario\``);
  checkScenario(mod.scenario, `scenario ${name}`);
  return mod.scenario;
}

function positive(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** Throws an InvalidConfigError naming the first field that is wrong. */
export function checkScenario(s: Scenario, where: string): void {
  const bad = (what: string): never => {
    throw new InvalidConfigError(`${where}: ${what}`);
  };
  if (typeof s.topic !== 'string' || s.topic === '') bad('topic must be a non-empty string');
  if (!Number.isInteger(s.queues) || s.queues < 1) bad(`queues must be a positive integer, got ${s.queues}`);
  if (!Number.isInteger(s.bodySize) || s.bodySize < 32) bad(`bodySize must be an integer of at least 32 bytes (the claim header), got ${s.bodySize}`);
  if (!Array.isArray(s.phases) || s.phases.length === 0) bad('phases must list at least one phase');
  for (const p of s.phases) {
    if (typeof p.name !== 'string' || p.name === '' || p.name === 'drain') bad(`phase names must be non-empty and not "drain" (the harness adds it), got ${JSON.stringify(p.name)}`);
    if (!positive(p.durationSec)) bad(`phase ${p.name}: durationSec must be positive, got ${p.durationSec}`);
    if (!(p.startRate >= 0 && p.endRate >= 0 && Number.isFinite(p.startRate + p.endRate))) bad(`phase ${p.name}: rates must be >= 0`);
  }
  if (new Set(s.phases.map((p) => p.name)).size !== s.phases.length) bad('phase names must be distinct');
  if (!positive(s.drainTimeoutSec)) bad('drainTimeoutSec must be positive');
  if (!positive(s.consumer.capacityPerSec)) bad('consumer.capacityPerSec must be positive');
  if (!Number.isInteger(s.consumer.workers) || s.consumer.workers < 1) bad('consumer.workers must be a positive integer');
  if (!Number.isInteger(s.producer.workers) || s.producer.workers < 0) bad('producer.workers must be an integer >= 0 (0 sizes it to the machine)');
  if (!positive(s.producer.tickMs)) bad('producer.tickMs must be positive');
  if (!Number.isInteger(s.producer.batchMax) || s.producer.batchMax < 1) bad('producer.batchMax must be a positive integer');
  if (!['sync', 'async'].includes(s.topology.flush)) bad(`topology.flush must be sync or async, got ${JSON.stringify(s.topology.flush)}`);
  if (!['sync', 'async', 'none'].includes(s.topology.replication)) bad(`topology.replication must be sync, async or none, got ${JSON.stringify(s.topology.replication)}`);
  if (!['thread', 'process'].includes(s.topology.isolation)) bad(`topology.isolation must be thread or process, got ${JSON.stringify(s.topology.isolation)}`);
  if (!positive(s.topology.segmentSize)) bad('topology.segmentSize must be positive');
  const names = new Set(s.phases.map((p) => p.name));
  for (const n of s.thresholds.ackedRatePhases) if (!names.has(n)) bad(`thresholds.ackedRatePhases names an unknown phase ${JSON.stringify(n)}`);
  for (const n of s.thresholds.latencyPhases ?? []) if (!names.has(n) && n !== 'drain') bad(`thresholds.latencyPhases names an unknown phase ${JSON.stringify(n)}`);
  if (!(s.thresholds.minAckedRatio >= 0 && s.thresholds.minAckedRatio <= 1)) bad('thresholds.minAckedRatio must be within 0..1');
  const groups = s.topology.brokerGroups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || groups > MAX_BROKER_GROUPS) bad(`topology.brokerGroups must be an integer within 1..${MAX_BROKER_GROUPS}, got ${groups}`);
  for (const [mode, limit] of Object.entries(s.thresholds.maxLost ?? {})) {
    if (!MODE.test(mode)) bad(`thresholds.maxLost: ${JSON.stringify(mode)} is not flush/replication (e.g. async/async)`);
    if (!Number.isInteger(limit) || limit < 0) bad(`thresholds.maxLost[${mode}] must be an integer >= 0, got ${limit}`);
  }
  if ((s.thresholds.maxLost?.['sync/sync'] ?? 0) !== 0) bad('thresholds.maxLost: sync/sync promises no loss; its limit stays 0');
  checkHttp(s, bad);
  const end = producingSeconds(s) + s.drainTimeoutSec;
  for (const f of s.faults ?? []) {
    if (!(f.atSec >= 0 && f.atSec < end)) bad(`fault ${f.text} at ${f.atSec} s is outside the run (0 to ${end} s: the curve and the drain timeout)`);
  }
}

const HTTP_KEYS = ['connections', 'workers', 'serviceWorkers', 'timeoutSec'];
const HTTP_THRESHOLD_KEYS = ['max503Share', 'maxResponseP99Ms', 'minAchievedRatio'];

/** The front and its HTTP settings and thresholds: unknown keys and out-of-range values are errors. */
function checkHttp(s: Scenario, bad: (what: string) => never): void {
  if (s.front !== undefined && s.front !== 'producers' && s.front !== 'http') bad(`front must be producers or http, got ${JSON.stringify(s.front)}`);
  const h = s.http ?? {};
  for (const k of Object.keys(h)) if (!HTTP_KEYS.includes(k)) bad(`http: unknown setting ${JSON.stringify(k)} (known: ${HTTP_KEYS.join(', ')})`);
  if (h.connections !== undefined && !(Number.isInteger(h.connections) && h.connections >= 1 && h.connections <= 10_000)) bad(`http.connections must be an integer within 1..10000, got ${h.connections}`);
  if (h.workers !== undefined && !(Number.isInteger(h.workers) && h.workers >= 0 && h.workers <= 64)) bad(`http.workers must be an integer within 0..64 (0 sizes it to the machine), got ${h.workers}`);
  if (h.serviceWorkers !== undefined && !(Number.isInteger(h.serviceWorkers) && h.serviceWorkers >= 0 && h.serviceWorkers <= 256)) bad(`http.serviceWorkers must be an integer within 0..256, got ${h.serviceWorkers}`);
  if (h.timeoutSec !== undefined && !positive(h.timeoutSec)) bad(`http.timeoutSec must be positive, got ${h.timeoutSec}`);
  const t = s.thresholds.http ?? {};
  for (const k of Object.keys(t)) if (!HTTP_THRESHOLD_KEYS.includes(k)) bad(`thresholds.http: unknown threshold ${JSON.stringify(k)} (known: ${HTTP_THRESHOLD_KEYS.join(', ')})`);
  for (const k of ['max503Share', 'minAchievedRatio'] as const) {
    const v = t[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) bad(`thresholds.http.${k} must be within 0..1, got ${v}`);
  }
  if (t.maxResponseP99Ms !== undefined && !positive(t.maxResponseP99Ms)) bad(`thresholds.http.maxResponseP99Ms must be positive, got ${t.maxResponseP99Ms}`);
}
