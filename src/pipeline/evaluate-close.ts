/** The evaluation of one close of a partition task: every rule of a close group at one boundary. */
import type { EntityState, EpisodeRecord } from '../entities/entity-state.js';
import type { CloseGroup } from '../rules/close-groups.js';
import type { CompiledRule } from '../rules/compiled.js';
import { seriesKey, type RuleInputs } from '../rules/conditions.js';
import { evaluateRule, tierKey } from '../rules/evaluate.js';
import { emptySnapshot, type WindowSnapshot } from '../windows/window-spec.js';
import { dropStaleTiers, recordSeries, tiersOf } from './close-helpers.js';
import type { TaskRules } from './partition-task.js';
import type { TaskOutcome } from './task-outcome.js';

/**
 * Evaluates every rule of close group `g` in entity `e` at boundary `at`, on the windows of all its
 * CPIs at that boundary: records the values its trends read, moves each rule's (and tier's) state
 * and episodes, and calls `fire` for each episode that begins. Whether any rule is left pending or
 * firing.
 */
export function evaluateClose(rules: TaskRules, e: EntityState, g: CloseGroup, at: number, out: TaskOutcome, fire: (rule: CompiledRule, ep: EpisodeRecord) => void): boolean {
  const tag = e.tag;
  const snapshots = new Map<string, WindowSnapshot>();
  for (const cpi of g.cpis) {
    const w = e.windowsRead.get(cpi);
    snapshots.set(cpi, w ? w.snapshot(at, rules.specs.get(cpi)!) : emptySnapshot(cpi, at));
  }
  let live = false;
  // a close with no data and no rule state to move (only a join waiting on it) evaluates nothing worth
  // reporting; whether it runs at all depends on when the join arrived
  let empty = true;
  for (const snap of snapshots.values()) if (snap.count !== 0 || snap.den !== 0) empty = false;
  recordSeries(e, g, at, snapshots);
  const inputs: RuleInputs = { at, snapshot: (cpi) => snapshots.get(cpi)!, history: (cpi, aggregate) => e.historyRead.get(seriesKey(cpi, aggregate)) };
  for (const { rule, tier } of tiersOf(g.rules)) {
    const key = tierKey(rule.id, tier);
    const prev = e.rules.get(key);
    const ev = evaluateRule(rule, inputs, prev, tier);
    if (prev || !empty || ev.transition) out.evaluations.push({ ...ev, ruleId: rule.id, scopeTag: tag, ...(tier > 0 ? { tier } : {}) });
    const episodes = e.episodes.get(key) ?? [];
    if (ev.transition === 'fire') {
      const ep: EpisodeRecord = { start: at, end: null, value: ev.value!, ...(tier > 0 ? { tier } : {}), ...(ev.lead > 0 ? { condition: ev.lead } : {}) };
      episodes.push(ep);
      fire(rule, ep);
    } else if (ev.transition === 'clear') {
      const open = episodes.find((x) => x.end === null);
      if (open) open.end = at;
    }
    const within = 'withinMs' in rule.target ? rule.target.withinMs : 0;
    const kept = episodes.filter((x) => x.end === null || x.end + within + g.latenessMs >= at);
    if (kept.length > 0) e.episodes.set(key, kept);
    else e.episodes.delete(key);
    const next = ev.state.status === 'inactive' ? null : ev.state;
    if (JSON.stringify(next ?? null) !== JSON.stringify(prev ?? null)) e.setRule(key, next);
    if (next) live = true;
  }
  dropStaleTiers(e, g, rules.rulesById);
  return live;
}
