/** The lookup tables the owner partitions need of a loaded rule set (rebuilt on every reload). */
import type { Routing } from '../cpis/routing.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import { closeGroupsOf, closeLatenessOf, type CloseGroups } from '../rules/close-groups.js';
import type { CustomerFilter } from './fact-checks.js';
import { alignmentBoundOf } from '../stream-time/alignment-bound.js';
import type { TaskRules } from './partition-task.js';

export function taskRulesOf(ruleSet: RuleSet, routing: Routing): TaskRules {
  const audienceRules = new Map<string, CompiledRule[]>();
  const add = (map: Map<string, CompiledRule[]>, key: string, r: CompiledRule) => map.set(key, [...(map.get(key) ?? []), r]);
  for (const r of ruleSet.rules) {
    if (r.target.kind === 'enRoute') add(audienceRules, `enroute|${r.cpi.groupBy}`, r);
    else if (r.target.kind === 'contributors') add(audienceRules, `contrib|${r.target.audience}`, r);
  }
  const closeGroups = closeGroupsOf(ruleSet);
  return {
    specs: routing.specs, closeGroups, rulesById: new Map(ruleSet.rules.map((r) => [r.id, r])), audienceRules,
    ruleOrder: new Map(ruleSet.rules.map((r, i) => [r.id, i])),
    idleSlackMs: alignmentBoundOf('auto', ruleSet) ?? 0,
    customerFilters: customerFiltersOf(ruleSet, closeGroups),
  };
}

/** The `customers` of each CPI that has them, by CPI id and by the names of its contributor audiences. */
function customerFiltersOf(ruleSet: RuleSet, groups: CloseGroups): Map<string, CustomerFilter> {
  const out = new Map<string, CustomerFilter>();
  for (const c of ruleSet.cpis.values()) if (c.customers) out.set(c.id, { cpi: c.id, predicate: c.customers, latenessMs: closeLatenessOf(groups, c.id) });
  for (const r of ruleSet.rules) {
    const f = out.get(r.cpi.id);
    if (f && r.target.kind === 'contributors') out.set(r.target.audience, f);
  }
  return out;
}
