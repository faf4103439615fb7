/** The lookup tables the owner partitions need of a loaded rule set (rebuilt on every reload). */
import type { Routing } from '../cpis/routing.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import { closeGroupsOf } from '../rules/close-groups.js';
import { alignmentBoundOf } from '../stream-time/alignment-bound.js';
import type { TaskRules } from './partition-task.js';

export function taskRulesOf(ruleSet: RuleSet, routing: Routing): TaskRules {
  const audienceRules = new Map<string, CompiledRule[]>();
  const add = (map: Map<string, CompiledRule[]>, key: string, r: CompiledRule) => map.set(key, [...(map.get(key) ?? []), r]);
  for (const r of ruleSet.rules) {
    if (r.target.kind === 'enRoute') add(audienceRules, `enroute|${r.cpi.groupBy}`, r);
    else if (r.target.kind === 'contributors') add(audienceRules, `contrib|${r.target.audience}`, r);
  }
  return {
    specs: routing.specs, closeGroups: closeGroupsOf(ruleSet), rulesById: new Map(ruleSet.rules.map((r) => [r.id, r])), audienceRules,
    ruleOrder: new Map(ruleSet.rules.map((r, i) => [r.id, i])),
    idleSlackMs: alignmentBoundOf('auto', ruleSet) ?? 0,
  };
}
