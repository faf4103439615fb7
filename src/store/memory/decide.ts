/**
 * The offer ledger and the stateful guardrails, in memory. Mirrors store/redis/lua/decide-offers.lua
 * step for step: ledger replay, presuppressed, rule cooldown, customer cooldown, frequency cap, budget.
 */
import type { LedgerVerdict, OfferCandidate, SuppressionReason } from '../state-store.js';

export interface LedgerEntry { outcome: 'offered' | 'suppressed'; reason?: SuppressionReason; published: boolean }
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
    return { offerId: c.offerId, outcome: existing.outcome, ...(existing.reason ? { reason: existing.reason } : {}), replay: true, published: existing.published };
  }
  const history = (state.history.get(c.customer) ?? []).filter((h) => h.time >= c.time - c.retainMs);
  state.history.set(c.customer, history);
  const within = (ms: number, ruleId?: string) =>
    history.filter((h) => h.time > c.time - ms && h.time <= c.time && (ruleId === undefined || h.ruleId === ruleId)).length;

  let reason: SuppressionReason | undefined = c.presuppressed;
  if (!reason && c.ruleCooldownMs !== undefined && within(c.ruleCooldownMs, c.ruleId) > 0) reason = 'cooldown';
  if (!reason && c.customerCooldownMs !== undefined && within(c.customerCooldownMs) > 0) reason = 'customer-cooldown';
  if (!reason && c.frequencyCap && within(c.frequencyCap.perMs) >= c.frequencyCap.max) reason = 'frequency-cap';
  const bKey = c.budget ? budgetKey(c.ruleId, c.scopeTag, c.time, c.budget.perMs) : undefined;
  if (!reason && c.budget && (state.budgets.get(bKey!) ?? 0) >= c.budget.max) reason = 'budget';

  if (reason) {
    state.ledger.set(c.offerId, { outcome: 'suppressed', reason, published: false });
    return { offerId: c.offerId, outcome: 'suppressed', reason, replay: false, published: false };
  }
  history.push({ ruleId: c.ruleId, time: c.time });
  if (bKey) state.budgets.set(bKey, (state.budgets.get(bKey) ?? 0) + 1);
  state.ledger.set(c.offerId, { outcome: 'offered', published: false });
  return { offerId: c.offerId, outcome: 'offered', replay: false, published: false };
}
