/**
 * What the live page shows, collected from the processor's batch results (BatchResult: the
 * evaluations and the published decisions) in bounded memory: per rule, at most `scopesPerRule`
 * scopes (the least recently evaluated one makes room for a new one), each with its last
 * `pointsPerScope` evaluations in a ring; the last `decisions` decisions of all rules; per rule and
 * scope the offers of the current budget period. Recording is a few appends per evaluation and
 * decision; the page's data are built on request (live-snapshot.ts).
 *
 * Personal data: a decision carries a customer id and nothing else of the customer (no name, no
 * e-mail); only ids, rule ids, scope tags, times, values and reasons are copied here.
 */
import type { BatchResult } from '../../pipeline/types.js';
import { Ring } from './ring.js';

export interface LivePoint { at: number; value: number | null; transition?: string }
export interface LiveDecision { at: number; ruleId: string; ruleVersion: string; scopeTag: string; customerId: string; outcome: 'offered' | 'suppressed'; reason?: string; offerId: string; value: number }

export interface LiveScope {
  points: Ring<LivePoint>;
  status: string;
  /** Event time the episode firing now began (null: not firing). */
  firingSince: number | null;
  /** Offers in the budget period `budgetPeriod` (floor(time / budget.perMs)). */
  budgetPeriod: number;
  budgetUsed: number;
}

export interface LiveBounds { pointsPerScope: number; scopesPerRule: number; decisions: number }

export const DEFAULT_LIVE_BOUNDS: LiveBounds = { pointsPerScope: 720, scopesPerRule: 100, decisions: 200 };

export class LiveState {
  /** rule id -> scope tag -> state; Map order is least recently evaluated first. */
  readonly rules = new Map<string, Map<string, LiveScope>>();
  readonly decisions: Ring<LiveDecision>;
  batches = 0;
  lastBatchAt = 0;

  constructor(readonly bounds: LiveBounds = DEFAULT_LIVE_BOUNDS) {
    this.decisions = new Ring(bounds.decisions);
  }

  /** Cheap: appends only. */
  record(result: BatchResult, now = Date.now()): void {
    this.batches += 1;
    this.lastBatchAt = now;
    for (const e of result.evaluations) {
      if (e.tier !== undefined) continue; // the chart of a tiered rule is its tier 0 (its own thresholds)
      const s = this.scope(e.ruleId, e.scopeTag);
      s.points.push(e.transition ? { at: e.at, value: e.value, transition: e.transition } : { at: e.at, value: e.value });
      s.status = e.state.status;
      s.firingSince = e.state.status === 'firing' ? e.state.episode ?? e.at : null;
    }
    for (const d of result.published) {
      this.decisions.push({ at: d.time, ruleId: d.rule.id, ruleVersion: d.rule.version, scopeTag: d.scopeTag, customerId: d.customerId, outcome: d.outcome, ...(d.reason ? { reason: d.reason } : {}), offerId: d.offerId, value: d.value });
      const perMs = d.rule.guardrails.budget?.perMs;
      if (d.outcome !== 'offered' || !perMs) continue;
      const s = this.scope(d.rule.id, d.scopeTag, false);
      const period = Math.floor(d.time / perMs);
      if (period > s.budgetPeriod) { s.budgetPeriod = period; s.budgetUsed = 0; }
      if (period === s.budgetPeriod) s.budgetUsed += 1;
    }
  }

  private scope(ruleId: string, tag: string, touch = true): LiveScope {
    let byScope = this.rules.get(ruleId);
    if (!byScope) this.rules.set(ruleId, (byScope = new Map()));
    let s = byScope.get(tag);
    if (s) {
      if (touch) { byScope.delete(tag); byScope.set(tag, s); }
      return s;
    }
    if (byScope.size >= this.bounds.scopesPerRule) byScope.delete(byScope.keys().next().value!);
    s = { points: new Ring(this.bounds.pointsPerScope), status: 'inactive', firingSince: null, budgetPeriod: -Infinity, budgetUsed: 0 };
    byScope.set(tag, s);
    return s;
  }
}
