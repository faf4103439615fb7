/**
 * Helpers of an owner partition's closes (pipeline/partition-task.ts): the close group of a CPI or
 * rule, the tiers of a group's rules, a rule's episodes over its tiers, and the recording of the
 * values trends read.
 */
import type { EntityState, EpisodeRecord } from '../entities/entity-state.js';
import type { CloseGroup, CloseGroups } from '../rules/close-groups.js';
import type { CompiledRule } from '../rules/compiled.js';
import { ruleIdOfKey, tierKey } from '../rules/evaluate.js';
import { aggregateOf, samplesOf } from '../windows/aggregate.js';
import type { WindowSnapshot } from '../windows/window-spec.js';

/** Records, for the group's trends, each series' value at this close (none when its window is empty). */
export function recordSeries(e: EntityState, g: CloseGroup, at: number, snapshots: ReadonlyMap<string, WindowSnapshot>): void {
  for (const [key, series] of g.series) {
    const snap = snapshots.get(series.cpi)!;
    const samples = samplesOf(snap, series.aggregate);
    const value = samples > 0 ? aggregateOf(snap, series.aggregate) : null;
    // a series no rule reads any more is not written again (kept until its entity goes)
    if (value !== null) e.history(key).record(at, value, samples);
    // the earliest close a trend reads: this close's rules read at - lookback (this runs before them)
    e.historyRead.get(key)?.pruneBefore(at - series.lookbackMs);
  }
}

/** Each rule of a group with each of its tiers (0: its own thresholds), in rule order. */
export function tiersOf(list: readonly CompiledRule[]): { rule: CompiledRule; tier: number }[] {
  const out: { rule: CompiledRule; tier: number }[] = [];
  for (const rule of list) for (let tier = 0; tier <= (rule.tiers?.length ?? 0); tier++) out.push({ rule, tier });
  return out;
}

/** The states and episodes of tiers a reloaded rule of the group no longer has: they go. */
export function dropStaleTiers(e: EntityState, g: CloseGroup, rulesById: ReadonlyMap<string, CompiledRule>): void {
  for (const key of [...e.rulesRead.keys(), ...e.episodes.keys()]) {
    const id = ruleIdOfKey(key);
    const rule = rulesById.get(id);
    if (key === id || !rule || !g.rules.includes(rule) || Number(key.slice(id.length + 1)) <= (rule.tiers?.length ?? 0)) continue;
    if (e.rules.has(key)) e.setRule(key, null);
    e.episodes.delete(key);
  }
}

/** The episodes of every tier of a rule in a scope. */
export function episodesOfRule(rule: CompiledRule, e: EntityState): EpisodeRecord[] {
  const out = [...(e.episodes.get(rule.id) ?? [])];
  for (let tier = 1; tier <= (rule.tiers?.length ?? 0); tier++) out.push(...(e.episodes.get(tierKey(rule.id, tier)) ?? []));
  return out;
}

export function groupOfCpi(groups: CloseGroups, cpi: string): CloseGroup | undefined {
  const id = groups.groupOf.get(cpi);
  return id === undefined ? undefined : groups.groups.get(id);
}

/** The close group a rule is evaluated in (that of its first condition's CPI). */
export function groupOfRule(groups: CloseGroups, rule: CompiledRule | undefined): CloseGroup | undefined {
  return rule ? groupOfCpi(groups, rule.cpi.id) : undefined;
}

/** The breaches pending in the scope, of every rule and tier of the group (their `for` runs on stream time). */
export function pendingOf(e: EntityState, g: CloseGroup): { since: number; forMs: number }[] {
  const out: { since: number; forMs: number }[] = [];
  for (const { rule, tier } of tiersOf(g.rules)) {
    const s = e.rulesRead.get(tierKey(rule.id, tier));
    if (s?.status === 'pending') out.push({ since: s.since, forMs: rule.forMs });
  }
  return out;
}
