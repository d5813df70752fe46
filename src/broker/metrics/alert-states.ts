// The state of each alert rule between evaluations: a rule fires once its
// value has stayed above its bound for forSec, and resolves at the first
// evaluation at or below it. Pure (values and clock passed in), so that the
// transitions are tested without a broker.
import type { AlertView } from '../../protocol/index.js';
import type { ResolvedAlertRule } from './alert-rules.js';

/** A rule that changed state at an evaluation. */
export interface AlertTransition {
  rule: ResolvedAlertRule;
  firing: boolean;
  value: number;
}

interface RuleState {
  /** Since when the value has been above the bound (undefined: it is not). */
  aboveSinceMs: number | undefined;
  firing: boolean;
  value: number;
  sinceMs: number;
}

const MS_PER_SEC = 1000;

export class AlertStates {
  readonly #rules: readonly ResolvedAlertRule[];
  readonly #states: RuleState[];

  constructor(rules: readonly ResolvedAlertRule[]) {
    this.#rules = rules;
    this.#states = rules.map(() => ({ aboveSinceMs: undefined, firing: false, value: 0, sinceMs: 0 }));
  }

  /** Evaluates every rule against `valueOf(rule)` at `nowMs`; returns the rules that changed state. */
  evaluate(valueOf: (rule: ResolvedAlertRule) => number, nowMs: number): AlertTransition[] {
    const changed: AlertTransition[] = [];
    this.#rules.forEach((rule, i) => {
      const s = this.#states[i]!;
      const value = valueOf(rule);
      s.value = value;
      if (value > rule.above) {
        s.aboveSinceMs ??= nowMs;
        if (!s.firing && nowMs - s.aboveSinceMs >= rule.forSec * MS_PER_SEC) {
          s.firing = true;
          s.sinceMs = nowMs;
          changed.push({ rule, firing: true, value });
        }
      } else {
        s.aboveSinceMs = undefined;
        if (s.firing) {
          s.firing = false;
          s.sinceMs = nowMs;
          changed.push({ rule, firing: false, value });
        }
      }
    });
    return changed;
  }

  /** Every rule's state, as BROKER_STATS and /metrics show it. */
  views(): AlertView[] {
    return this.#rules.map((r, i) => {
      const s = this.#states[i]!;
      return { name: r.name, kind: r.kind, group: r.group ?? '', above: r.above, forSec: r.forSec, firing: s.firing, value: s.value, sinceMs: s.sinceMs };
    });
  }

  get firing(): number {
    return this.#states.filter((s) => s.firing).length;
  }
}
