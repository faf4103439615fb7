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
import { aggregateOf, samplesOf } from '../windows/aggregate.js';
import type { CompiledRule } from './compiled.js';

export type Transition = 'pending' | 'fire' | 'clear' | 'abandon';

export interface Evaluation {
  state: RuleState;
  transition?: Transition;
  /** The aggregate's value at evaluation (null: no data). */
  value: number | null;
  breaching: boolean;
  at: number;
}

export function initialState(rule: CompiledRule): RuleState {
  return { status: 'inactive', since: 0, episode: null, version: rule.version };
}

export function isBreaching(rule: CompiledRule, value: number | null): boolean {
  if (value === null) return false;
  return rule.direction === 'above' ? value > rule.threshold : value < rule.threshold;
}

function isCleared(rule: CompiledRule, value: number | null): boolean {
  if (value === null) return true;
  return rule.direction === 'above' ? value <= rule.clear : value >= rule.clear;
}

export function evaluateRule(rule: CompiledRule, snapshot: WindowSnapshot, prev: RuleState | undefined): Evaluation {
  const at = snapshot.at;
  const enough = samplesOf(snapshot, rule.aggregate) >= rule.minSamples;
  const value = enough ? aggregateOf(snapshot, rule.aggregate) : null;
  const breaching = isBreaching(rule, value);
  const state: RuleState = { ...(prev ?? initialState(rule)), version: rule.version };
  const result = (next: Partial<RuleState>, transition?: Transition): Evaluation => {
    const merged: RuleState = { ...state, ...next };
    if (merged.firedValue === undefined) delete merged.firedValue;
    return { state: merged, ...(transition ? { transition } : {}), value, breaching, at };
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
      if (isCleared(rule, value)) return result({ status: 'inactive', since: at, episode: null, firedValue: undefined }, 'clear');
      return result({});
  }
}
