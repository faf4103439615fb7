/**
 * What the backtest report needs from the engine's batch results: per rule and scope the
 * evaluations (compact points), and every decision (offers and suppressions), in order.
 */
import type { Decision } from '../../actions/decision.js';
import type { BatchResult, RuleEvaluationRecord } from '../../pipeline/types.js';
import type { RulePoint } from '../../ops/chart/rule-layers.js';

export type SeriesPoint = RulePoint;

export class SeriesCollector {
  /** rule id -> scope tag -> points */
  readonly series = new Map<string, Map<string, SeriesPoint[]>>();
  /** Every decision, in the order taken. */
  readonly decisions: Decision[] = [];
  /** The offers only (what cooldowns, caps and budgets count: explain's guardrail lines). */
  readonly allOffers: Decision[] = [];

  addBatch(result: Pick<BatchResult, 'evaluations' | 'published'>): void {
    this.add(result.evaluations);
    for (const d of result.published) {
      this.decisions.push(d);
      if (d.outcome === 'offered') this.allOffers.push(d);
    }
  }

  add(evaluations: readonly RuleEvaluationRecord[]): void {
    for (const e of evaluations) {
      if (e.tier !== undefined) continue; // the chart of a tiered rule is its tier 0 (its own thresholds)
      let byScope = this.series.get(e.ruleId);
      if (!byScope) this.series.set(e.ruleId, (byScope = new Map()));
      let points = byScope.get(e.scopeTag);
      if (!points) byScope.set(e.scopeTag, (points = []));
      points.push({ at: e.at, value: e.value, ...(e.transition ? { transition: e.transition } : {}) });
    }
  }
}
