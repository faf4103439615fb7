/**
 * Close groups: the CPIs whose windows are closed (evaluated) together in a scope. A rule with
 * conditions over several CPIs (`when`) joins their CPIs into one group, and so does any rule
 * sharing a CPI with it; every other CPI is a group of its own, whose id is the CPI's id (so the
 * persisted closes of a rule set without `when` keep their keys). A group's CPIs have one
 * resolution (cross-checks: CPW346), and its closes wait for the largest allowed lateness among them,
 * so at each boundary every condition reads a final step, whatever order the events came in.
 *
 * A group also lists the series of recorded values its trends read (windows/value-history.ts) and
 * how far back. Pure: computed from the rule set.
 */
import type { AggregateName } from '../windows/aggregate.js';
import type { CompiledCpi, CompiledRule, RuleSet } from './compiled.js';
import { lookbackOf, seriesKey } from './conditions.js';

export interface SeriesSpec { cpi: string; aggregate: AggregateName; lookbackMs: number }

export interface CloseGroup {
  id: string;
  /** In id order. */
  cpis: readonly string[];
  resolutionMs: number;
  /** The largest allowed lateness of its CPIs. */
  latenessMs: number;
  /** The rules on its CPIs, in rule-set order. */
  rules: readonly CompiledRule[];
  /** Series recorded at its closes (key: seriesKey). */
  series: ReadonlyMap<string, SeriesSpec>;
}

export interface CloseGroups {
  groups: ReadonlyMap<string, CloseGroup>;
  /** CPI id to its group's id. */
  groupOf: ReadonlyMap<string, string>;
}

export function closeGroupsOf(ruleSet: Pick<RuleSet, 'cpis' | 'rules'>): CloseGroups {
  // union-find over CPI ids
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    parent.set(x, root);
    return root;
  };
  for (const id of ruleSet.cpis.keys()) parent.set(id, id);
  for (const r of ruleSet.rules) {
    for (const c of r.conditions) if (!parent.has(c.cpi.id)) parent.set(c.cpi.id, c.cpi.id);
    const first = find(r.conditions[0]!.cpi.id);
    for (const c of r.conditions.slice(1)) {
      const other = find(c.cpi.id);
      if (other !== first) parent.set(other, first);
    }
  }
  const members = new Map<string, CompiledCpi[]>();
  const cpiOf = (id: string) => ruleSet.cpis.get(id) ?? ruleSet.rules.flatMap((r) => r.conditions).find((c) => c.cpi.id === id)!.cpi;
  for (const id of parent.keys()) {
    const root = find(id);
    members.set(root, [...(members.get(root) ?? []), cpiOf(id)]);
  }
  const groups = new Map<string, CloseGroup>();
  const groupOf = new Map<string, string>();
  for (const list of members.values()) {
    const cpis = list.map((c) => c.id).sort();
    const id = cpis.join('+');
    const inGroup = new Set(cpis);
    const rules = ruleSet.rules.filter((r) => inGroup.has(r.conditions[0]!.cpi.id));
    const series = new Map<string, SeriesSpec>();
    for (const r of rules) {
      for (const c of r.conditions) {
        const lookbackMs = lookbackOf(c);
        if (lookbackMs === 0) continue;
        const key = seriesKey(c.cpi.id, c.aggregate);
        series.set(key, { cpi: c.cpi.id, aggregate: c.aggregate, lookbackMs: Math.max(lookbackMs, series.get(key)?.lookbackMs ?? 0) });
      }
    }
    groups.set(id, { id, cpis, resolutionMs: list[0]!.resolutionMs, latenessMs: Math.max(...list.map((c) => c.latenessMs)), rules, series });
    for (const c of cpis) groupOf.set(c, id);
  }
  return { groups, groupOf };
}

/** How long after a boundary the close of `cpi`'s group is due (its group's lateness). */
export function closeLatenessOf(groups: CloseGroups, cpi: string): number {
  return groups.groups.get(groups.groupOf.get(cpi) ?? '')?.latenessMs ?? 0;
}
