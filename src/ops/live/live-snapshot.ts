/**
 * The live page's data, built on request from LiveState and the rules loaded: the rule set's
 * version and kill switch, per rule its scopes (status, episode firing now, last value, budget
 * used, a chart of the last hours rendered by the shared chart builder), and the recent decisions
 * (customer ids and reasons only).
 */
import { conditionsText, hasConditionWords } from '../../rules/condition-words.js';
import type { RuleSet } from '../../rules/compiled.js';
import { scopeText } from '../../cpis/tags.js';
import { renderChart } from '../chart/svg-chart.js';
import { PALETTE, ruleLayers, thin } from '../chart/rule-layers.js';
import type { LiveDecision, LiveScope, LiveState } from './live-state.js';

/** Charts per rule (the firing scopes first, then the most recently evaluated); the rest are listed. */
export const CHARTS_PER_RULE = 4;
/** Points drawn per chart (the plot is about 700 pixels wide); every fire and clear is kept. */
const POINTS_PER_CHART = 360;

export interface LiveScopeView {
  scope: string;
  status: string;
  firingSince: number | null;
  value: number | null;
  at: number | null;
  budget: { used: number; max: number; perMs: number } | null;
  svg?: string;
}

export interface LiveSnapshot {
  generatedAt: number;
  ruleSet: { version: string; rules: number; killSwitch: boolean };
  batches: number;
  lastBatchAt: number | null;
  bounds: LiveState['bounds'];
  rules: { id: string; version: string; description: string; cpi: string; aggregate: string; direction: string; threshold: number; clear: number;
    /** A rule over several CPIs, with a trend or tiers: its conditions in words (the chart is its first condition's, tier 0). */
    conditions?: string; killSwitch: boolean; firing: number; scopes: LiveScopeView[] }[];
  decisions: (LiveDecision & { scope: string })[];
}

export function liveSnapshot(state: LiveState, ruleSet: RuleSet, o: { now?: number; hours?: number } = {}): LiveSnapshot {
  const now = o.now ?? Date.now();
  const since = now - (o.hours ?? 6) * 3_600_000;
  const decisions = state.decisions.toArray();
  const rules = ruleSet.rules.map((rule) => {
    const byScope = state.rules.get(rule.id) ?? new Map<string, LiveScope>();
    const entries = [...byScope.entries()].reverse(); // most recently evaluated first
    entries.sort((a, b) => Number(b[1].status === 'firing') - Number(a[1].status === 'firing'));
    const scopes: LiveScopeView[] = entries.map(([tag, s], i) => {
      const last = s.points.last();
      const budget = rule.guardrails.budget;
      const view: LiveScopeView = {
        scope: scopeText(tag), status: s.status, firingSince: s.firingSince, value: last?.value ?? null, at: last?.at ?? null,
        budget: budget ? { used: s.budgetPeriod === Math.floor(now / budget.perMs) ? s.budgetUsed : 0, max: budget.max, perMs: budget.perMs } : null,
      };
      if (i < CHARTS_PER_RULE) {
        const points = thin(s.points.toArray().filter((p) => p.at >= since), POINTS_PER_CHART);
        const marks = decisions.filter((d) => d.ruleId === rule.id && d.scopeTag === tag && d.at >= since);
        const end = Math.max(last?.at ?? now, ...marks.map((d) => d.at));
        const layers = ruleLayers(rule, points, marks, { color: PALETTE[0]!, label: rule.aggregate, zone: 'UTC', end });
        view.svg = renderChart({ label: `${rule.cpi.id} in ${view.scope}`, series: [layers.series], lines: layers.lines, marks: layers.marks, shades: layers.shades, events: layers.events, width: 760, height: 200 });
      }
      return view;
    });
    return {
      id: rule.id, version: rule.version, description: rule.description ?? '', cpi: rule.cpi.id, aggregate: rule.aggregate, direction: rule.direction,
      threshold: rule.threshold, clear: rule.clear, ...(hasConditionWords(rule) ? { conditions: conditionsText(rule) } : {}), killSwitch: rule.guardrails.killSwitch || ruleSet.policy.killSwitch,
      firing: scopes.filter((s) => s.status === 'firing').length, scopes,
    };
  });
  return {
    generatedAt: now,
    ruleSet: { version: ruleSet.version, rules: ruleSet.rules.length, killSwitch: ruleSet.policy.killSwitch },
    batches: state.batches,
    lastBatchAt: state.batches > 0 ? state.lastBatchAt : null,
    bounds: state.bounds,
    rules,
    decisions: decisions.reverse().map((d) => ({ ...d, scope: scopeText(d.scopeTag) })),
  };
}
