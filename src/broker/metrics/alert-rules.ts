// Alert rules of the broker config (`alerts`): what each watches, the bound
// it must stay under, and how long it may exceed it before the rule fires.
// Checked strictly at start: an unknown key, kind or a bound that makes no
// sense is an InvalidConfigError, never a rule that silently never fires.
import { checkInteger, InvalidConfigError } from '../../common/index.js';
import { ALERT_KINDS, type AlertKind } from '../../protocol/index.js';

export type { AlertKind };

export interface AlertRule {
  /** Unique among the broker's rules: 1-64 of [A-Za-z0-9_.-]. */
  name: string;
  kind: AlertKind;
  /** groupLagMessages / groupLagSeconds only: the group watched. Default: every client group (the worst one). */
  group?: string;
  /** The rule fires while the value is strictly above this. */
  above: number;
  /** ... for at least this many seconds in a row. Default 0 (at the first evaluation above). */
  forSec?: number;
}

export type ResolvedAlertRule = Required<Omit<AlertRule, 'group'>> & { group: string | undefined };

/** More rules than this is a config mistake (each one is evaluated every second and sent in every stats answer). */
export const MAX_ALERT_RULES = 64;
/** A day: a longer hold before firing is a typo. */
const MAX_FOR_SEC = 86_400;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const RULE_KEYS = new Set(['name', 'kind', 'group', 'above', 'forSec']);
const GROUP_KINDS: readonly AlertKind[] = ['groupLagMessages', 'groupLagSeconds'];

function checkRule(raw: unknown, i: number): ResolvedAlertRule {
  const where = `alerts[${i}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidConfigError(`${where} must be an object { name, kind, above, group?, forSec? }`);
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!RULE_KEYS.has(k)) throw new InvalidConfigError(`${where}: unknown key ${JSON.stringify(k)} (known: ${[...RULE_KEYS].join(', ')})`);
  }
  if (typeof r.name !== 'string' || !NAME_PATTERN.test(r.name)) throw new InvalidConfigError(`${where}.name must be 1-64 of [A-Za-z0-9_.-], got ${JSON.stringify(r.name)}`);
  const what = `alert ${r.name}`;
  if (typeof r.kind !== 'string' || !(ALERT_KINDS as readonly string[]).includes(r.kind)) {
    throw new InvalidConfigError(`${what}: kind must be one of ${ALERT_KINDS.join(', ')}, got ${JSON.stringify(r.kind)}`);
  }
  const kind = r.kind as AlertKind;
  if (r.group !== undefined) {
    if (!GROUP_KINDS.includes(kind)) throw new InvalidConfigError(`${what}: group applies to ${GROUP_KINDS.join(' and ')} rules only, not ${kind}`);
    if (typeof r.group !== 'string' || !/^[%A-Za-z0-9_.@-]{1,255}$/.test(r.group)) throw new InvalidConfigError(`${what}: group must be a consumer group name, got ${JSON.stringify(r.group)}`);
  }
  if (typeof r.above !== 'number' || !Number.isFinite(r.above) || r.above < 0) throw new InvalidConfigError(`${what}: above must be a number >= 0, got ${JSON.stringify(r.above)}`);
  if (kind === 'diskUsedRatio' && r.above >= 1) throw new InvalidConfigError(`${what}: a diskUsedRatio bound is a share of the disk below 1 (0.85 is 85%), got ${r.above}`);
  if (kind !== 'diskUsedRatio' && !Number.isSafeInteger(r.above)) throw new InvalidConfigError(`${what}: above must be a whole number for ${kind}, got ${r.above}`);
  const forSec = r.forSec === undefined ? 0 : checkInteger(`${what}: forSec`, r.forSec, 0, MAX_FOR_SEC);
  return { name: r.name, kind, group: r.group as string | undefined, above: r.above, forSec };
}

/** The `alerts` config key, checked: a list of rules with unique names. */
export function checkAlertRules(raw: unknown): ResolvedAlertRule[] {
  if (!Array.isArray(raw)) throw new InvalidConfigError(`alerts must be a list of rules, got ${JSON.stringify(raw)}`);
  if (raw.length > MAX_ALERT_RULES) throw new InvalidConfigError(`alerts lists ${raw.length} rules, more than ${MAX_ALERT_RULES}`);
  const rules = raw.map(checkRule);
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.name)) throw new InvalidConfigError(`alerts: two rules are named ${JSON.stringify(r.name)}`);
    seen.add(r.name);
  }
  return rules;
}
