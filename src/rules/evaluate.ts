/**
 * A rule's state machine in one scope, evaluated at the bucket closes of its CPI (event time) that can
 * change it (stream-time/next-close.ts):
 *
 *   inactive --breach--> pending --breach held for `for`--> firing --value back past `clear`--> inactive
 *                  \______________ (for = 0) ______________/
 *
 * A pending rule whose breach ends goes back to inactive. A firing rule stays firing while the value
 * sits between `clear` and the threshold (hysteresis), so a CPI hovering at the line does not flap.
 * Too few samples (minSamples) counts as no breach. Pure: the time is the snapshot's.
 */
import type { WindowSnapshot } from '../windows/window-spec.js';
import type { RuleState } from './rule-state.js';
import type { CompiledCondition, CompiledRule } from './compiled.js';
import { conditionResult, snapshotInputs, type ConditionResult, type RuleInputs } from './conditions.js';

export type Transition = 'pending' | 'fire' | 'clear' | 'abandon';

export interface Evaluation {
  state: RuleState;
  transition?: Transition;
  /** The value of the rule's first breaching condition, else of its first (null: no data). */
  value: number | null;
  /** The index of that condition in the rule's conditions. */
  lead: number;
  breaching: boolean;
  at: number;
  /** Each condition's value, in the rule's order (one for a v1 rule). */
  conditions: ConditionResult[];
}

/** The conditions of a tier (0: the rule's own; 1..n: its threshold tiers). */
export function conditionsOfTier(rule: CompiledRule, tier: number): readonly CompiledCondition[] {
  return tier === 0 ? rule.conditions : rule.tiers?.[tier - 1]?.conditions ?? rule.conditions;
}

/** The key of a tier's state and episodes in a scope: the rule's id for tier 0 (as before tiers), else "<id>#<tier>". */
export function tierKey(ruleId: string, tier: number): string {
  return tier === 0 ? ruleId : `${ruleId}#${tier}`;
}

/** The rule id of a tier key. */
export function ruleIdOfKey(key: string): string {
  const hash = key.indexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
}

export function initialState(rule: CompiledRule): RuleState {
  return { status: 'inactive', since: 0, episode: null, version: rule.version };
}

/**
 * With `match: all` the rule breaches while every condition breaches, and a firing rule clears once
 * one condition is back past its clear line; with `any`, it breaches while one does and clears once
 * all are back. With one condition both read the same.
 */
export function evaluateRule(rule: CompiledRule, input: WindowSnapshot | RuleInputs, prev: RuleState | undefined, tier = 0): Evaluation {
  const inputs = 'count' in input ? snapshotInputs(input) : input;
  const at = inputs.at;
  const conditions = conditionsOfTier(rule, tier).map((c) => conditionResult(c, inputs));
  const all = rule.match === 'all';
  const breaching = all ? conditions.every((c) => c.breaching) : conditions.some((c) => c.breaching);
  const cleared = all ? conditions.some((c) => c.cleared) : conditions.every((c) => c.cleared);
  const lead = Math.max(0, conditions.findIndex((c) => c.breaching));
  const value = conditions[lead]?.value ?? null;
  const state: RuleState = { ...(prev ?? initialState(rule)), version: rule.version };
  const result = (next: Partial<RuleState>, transition?: Transition): Evaluation => {
    const merged: RuleState = { ...state, ...next };
    if (merged.firedValue === undefined) delete merged.firedValue;
    return { state: merged, ...(transition ? { transition } : {}), value, lead, breaching, at, conditions };
  };

  switch (state.status) {
    case 'inactive':
      if (!breaching) return result({});
      if (rule.forMs === 0) return result({ status: 'firing', since: at, episode: at, firedValue: value! }, 'fire');
      return result({ status: 'pending', since: at, episode: null }, 'pending');
    case 'pending':
      if (!breaching) return result({ status: 'inactive', since: at, episode: null }, 'abandon');
      if (at - state.since >= rule.forMs) return result({ status: 'firing', since: at, episode: at, firedValue: value! }, 'fire');
      return result({});
    case 'firing':
      if (cleared) return result({ status: 'inactive', since: at, episode: null, firedValue: undefined }, 'clear');
      return result({});
  }
}
