/**
 * The offer ledger and the stateful guardrails, in memory. Mirrors store/redis/lua/decide-offers.lua
 * step for step: ledger replay, presuppressed, rule cooldown, customer cooldown, frequency cap, budget.
 * Cooldowns and the cap look both ways in event time, so they hold whatever order candidates come in.
 */
import type { LedgerVerdict, OfferCandidate, SuppressionReason } from '../state-store.js';

export interface LedgerEntry { outcome: 'offered' | 'suppressed'; reason?: SuppressionReason; published: boolean; source?: string }
export interface DecisionState {
  ledger: Map<string, LedgerEntry>;
  /** Offers per customer: rule id and time. */
  history: Map<string, { ruleId: string; time: number }[]>;
  budgets: Map<string, number>;
}

export function budgetKey(ruleId: string, scopeTag: string, time: number, perMs: number): string {
  return `${ruleId}|${scopeTag}|${Math.floor(time / perMs)}`;
}

export function decideCandidate(state: DecisionState, c: OfferCandidate): LedgerVerdict {
  const existing = state.ledger.get(c.offerId);
  if (existing) {
    // another source decided it first: publishing it is that source's job
    const elsewhere = existing.source !== undefined && c.source !== undefined && existing.source !== c.source;
    return { offerId: c.offerId, outcome: existing.outcome, ...(existing.reason ? { reason: existing.reason } : {}), replay: true, published: existing.published || elsewhere };
  }
  const history = (state.history.get(c.customer) ?? []).filter((h) => h.time >= c.time - c.retainMs);
  state.history.set(c.customer, history);
  // both directions in event time: an offer decided earlier may lie later than this candidate
  const near = (ms: number, ruleId?: string) =>
    history.some((h) => h.time > c.time - ms && h.time < c.time + ms && (ruleId === undefined || h.ruleId === ruleId));
  /** Whether some window (e - perMs, e] holding c.time already holds `max` offers. */
  const capped = (max: number, perMs: number) => {
    const ends = [c.time, ...history.filter((h) => h.time >= c.time && h.time < c.time + perMs).map((h) => h.time)];
    return ends.some((e) => history.filter((h) => h.time > e - perMs && h.time <= e).length >= max);
  };

  let reason: SuppressionReason | undefined = c.presuppressed;
  if (!reason && c.ruleCooldownMs !== undefined && near(c.ruleCooldownMs, c.ruleId)) reason = 'cooldown';
  if (!reason && c.customerCooldownMs !== undefined && near(c.customerCooldownMs)) reason = 'customer-cooldown';
  if (!reason && c.frequencyCap && capped(c.frequencyCap.max, c.frequencyCap.perMs)) reason = 'frequency-cap';
  const bKey = c.budget ? budgetKey(c.ruleId, c.scopeTag, c.time, c.budget.perMs) : undefined;
  if (!reason && c.budget && (state.budgets.get(bKey!) ?? 0) >= c.budget.max) reason = 'budget';

  if (reason) {
    state.ledger.set(c.offerId, { outcome: 'suppressed', reason, published: false, ...(c.source !== undefined ? { source: c.source } : {}) });
    return { offerId: c.offerId, outcome: 'suppressed', reason, replay: false, published: false };
  }
  history.push({ ruleId: c.ruleId, time: c.time });
  if (bKey) state.budgets.set(bKey, (state.budgets.get(bKey) ?? 0) + 1);
  state.ledger.set(c.offerId, { outcome: 'offered', published: false, ...(c.source !== undefined ? { source: c.source } : {}) });
  return { offerId: c.offerId, outcome: 'offered', replay: false, published: false };
}
