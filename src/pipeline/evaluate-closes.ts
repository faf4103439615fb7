/**
 * Step 3 of a batch: evaluate every rule at every bucket close of its CPI, in event order, and collect
 * the breach episodes (open or closed) each scope went through. Pure.
 */
import type { CompiledRule } from '../rules/compiled.js';
import { evaluateRule } from '../rules/evaluate.js';
import type { RuleState, TagResult } from '../store/state-store.js';
import type { RuleEvaluationRecord } from './types.js';

export interface Episode {
  rule: CompiledRule;
  tag: string;
  start: number;
  /** Event time it cleared, or null while firing. */
  end: number | null;
  /** The aggregate's value when it fired. */
  value: number;
  /** True when it fired in this batch (its audience is read at the fire time). */
  firedNow: boolean;
}

export interface ClosesOutcome {
  evaluations: RuleEvaluationRecord[];
  episodes: Episode[];
  stateUpdates: { tag: string; states: Record<string, RuleState | null> }[];
}

export function evaluateCloses(results: TagResult[], rulesByCpi: ReadonlyMap<string, readonly CompiledRule[]>, rulesById: ReadonlyMap<string, CompiledRule>): ClosesOutcome {
  const evaluations: RuleEvaluationRecord[] = [];
  const episodes: Episode[] = [];
  const stateUpdates: ClosesOutcome['stateUpdates'] = [];

  for (const result of results) {
    const states: Record<string, RuleState> = { ...result.ruleStates };
    const open = new Map<string, Episode>();
    for (const [ruleId, s] of Object.entries(states)) {
      const rule = rulesById.get(ruleId);
      if (rule && s.status === 'firing' && s.episode !== null) {
        const ep: Episode = { rule, tag: result.tag, start: s.episode, end: null, value: s.firedValue ?? Number.NaN, firedNow: false };
        open.set(ruleId, ep);
        episodes.push(ep);
      }
    }
    const changed: Record<string, RuleState | null> = {};
    for (const close of result.closes) {
      for (const rule of rulesByCpi.get(close.cpi) ?? []) {
        const ev = evaluateRule(rule, close, states[rule.id]);
        evaluations.push({ ...ev, ruleId: rule.id, scopeTag: result.tag });
        if (ev.transition === 'fire') {
          const ep: Episode = { rule, tag: result.tag, start: ev.at, end: null, value: ev.value!, firedNow: true };
          open.set(rule.id, ep);
          episodes.push(ep);
        } else if (ev.transition === 'clear') {
          const ep = open.get(rule.id);
          if (ep) ep.end = ev.at;
          open.delete(rule.id);
        }
        if (JSON.stringify(ev.state) !== JSON.stringify(states[rule.id])) changed[rule.id] = ev.state;
        states[rule.id] = ev.state;
      }
    }
    // every tag with closes is saved (even with no change): the save clears the store's journal of
    // closes, which a crash before this point leaves for the redelivered batch to evaluate
    if (Object.keys(changed).length > 0 || result.closes.length > 0) stateUpdates.push({ tag: result.tag, states: changed });
  }
  return { evaluations, episodes, stateUpdates };
}
