/**
 * The words of explain, backtest summaries and the live page for a rule's conditions
 * (rules/conditions.ts) and tiers: what each compares, and at one evaluation what each was, against
 * what, and why a condition had no value (too few samples, no value recorded a period earlier, ...).
 * A v1 rule without a trend or tiers reads as before.
 */
import type { CompiledCondition, CompiledRule } from './compiled.js';
import type { ConditionResult, NoValue } from './conditions.js';
import { formatDuration } from '../shared/duration.js';
import { fmt } from '../shared/number-text.js';

/** Whether the rule needs more words than "<aggregate> of <cpi>" (several conditions, or a trend). */
export function hasConditionWords(rule: CompiledRule): boolean {
  return rule.conditions.length > 1 || rule.conditions.some((c) => c.compare !== undefined) || rule.tiers !== undefined;
}

function earlierText(c: CompiledCondition): string {
  const to = c.compare!.to;
  switch (to.name) {
    case 'previousWindow': return `its value one window (${formatDuration(to.kind === 'offset' ? to.offsetMs : 0)}) earlier`;
    case 'sameTimeYesterday': return 'its value at the same time yesterday';
    case 'sameTimeLastWeek': return 'its value at the same time last week';
  }
  return to.kind === 'offset' ? `its value ${formatDuration(to.offsetMs)} earlier` : `the ${to.of} of its values over the last ${formatDuration(to.periodMs)}`;
}

/** "p90 of wait, as a ratio to its value at the same time yesterday, above 1.3 (clears at 1.1)". */
export function conditionText(c: CompiledCondition): string {
  const what = c.compare ? `${c.aggregate} of ${c.cpi.id} as a ${c.compare.as} to ${earlierText(c)}` : `${c.aggregate} of ${c.cpi.id}`;
  const samples = [c.minSamples > 1 ? `at least ${c.minSamples} samples` : '', c.compare && c.compare.minSamples > 1 ? `earlier values from at least ${c.compare.minSamples}` : ''].filter(Boolean).join(', ');
  return `${what} ${c.direction} ${fmt(c.threshold)}${c.clear !== c.threshold ? ` (clears at ${fmt(c.clear)})` : ''}${samples ? `, with ${samples}` : ''}`;
}

function listText(rule: CompiledRule, conditions: readonly CompiledCondition[]): string {
  if (conditions.length === 1) return conditionText(conditions[0]!);
  return `${rule.match === 'all' ? 'all of' : 'any of'}: ${conditions.map(conditionText).join('; ')}`;
}

/** The customers of a tier: "valueTier in [gold, platinum]". */
export function tierWhenText(when: Readonly<Record<string, unknown>>): string {
  return Object.entries(when).map(([field, c]) => `${field} ${typeof c === 'object' && c !== null ? JSON.stringify(c).replace(/"(\w+)":/g, '$1: ') : JSON.stringify(c)}`).join(', ');
}

/** The rule's conditions in one line, then each threshold tier's. */
export function conditionsText(rule: CompiledRule): string {
  const tiers = (rule.tiers ?? []).map((t, k) => `; for customers with ${tierWhenText(t.when)} (tier ${k + 1}): ${listText(rule, t.conditions)}`);
  return `${listText(rule, rule.conditions)}${tiers.length > 0 ? ` (tier 0, every other customer)${tiers.join('')}` : ''}`;
}

const NO_VALUE: Record<NoValue, string> = {
  'too-few-samples': 'too few samples now',
  'no-earlier-value': 'no value recorded then, when its window held no data: no baseline, so no breach',
  'earlier-too-few-samples': 'the value then came from too few samples: no baseline, so no breach',
  'earlier-zero': 'the value then was 0: no ratio, so no breach',
};

/** One condition at one evaluation: "p90 of wait 2.1 against 1.4 = 1.5, breaching". */
export function conditionResultText(c: ConditionResult): string {
  const now = c.current === null ? 'none' : fmt(c.current);
  const against = c.earlier === undefined ? '' : ` against ${c.earlier === null ? 'none' : fmt(c.earlier)}`;
  const value = c.earlier === undefined ? '' : c.value === null ? '' : ` = ${fmt(c.value)}`;
  const state = c.noValue ? `not computed (${NO_VALUE[c.noValue]})` : c.breaching ? 'breaching' : 'not breaching';
  return `${c.aggregate} of ${c.cpi} ${now}${against}${value}, ${state}`;
}

export function conditionResultsText(results: readonly ConditionResult[]): string {
  return results.map(conditionResultText).join('; ');
}

/** What the rule's value is, for a summary: "p90", "p90 as a ratio to sameTimeYesterday", "all of 2 conditions". */
export function valueLabel(rule: CompiledRule): string {
  if (rule.conditions.length > 1) return `${rule.match} of ${rule.conditions.length} conditions, the first breaching:`;
  const c = rule.conditions[0]!;
  return c.compare ? `${c.aggregate} as a ${c.compare.as} to ${c.compare.to.name}` : c.aggregate;
}

/** The threshold, for a summary: "above 1.25", or each condition's. */
export function thresholdLabel(rule: CompiledRule): string {
  return rule.conditions.map((c) => `${rule.conditions.length > 1 ? `${c.cpi.id} ` : ''}${c.direction} ${fmt(c.threshold)}`).join(rule.match === 'all' ? ' and ' : ' or ');
}
