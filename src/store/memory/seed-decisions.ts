/**
 * Re-seeding the in-memory ledger with decisions already published: the same semantics as
 * store/redis/lua/seed-decisions.lua (both pass tests/contract/ledger-seed.contract.ts).
 */
import type { LedgerSeed, SeedCounts } from '../redis/ledger-seed.js';
import { budgetKey, type DecisionState } from './decide.js';

export function seedDecisions(state: DecisionState, seeds: readonly LedgerSeed[]): SeedCounts {
  const counts: SeedCounts = { offered: 0, suppressed: 0, known: 0 };
  for (const s of seeds) {
    if (state.ledger.has(s.offerId)) { counts.known += 1; continue; }
    const source = s.source ? { source: s.source } : {};
    if (s.outcome === 'offered') {
      const history = state.history.get(s.customer) ?? [];
      history.push({ ruleId: s.ruleId, time: s.time });
      state.history.set(s.customer, history);
      if (s.budgetPerMs !== undefined) {
        const key = budgetKey(s.ruleId, s.scopeTag, s.time, s.budgetPerMs);
        state.budgets.set(key, (state.budgets.get(key) ?? 0) + 1);
      }
      state.ledger.set(s.offerId, { outcome: 'offered', published: true, ...source });
      counts.offered += 1;
    } else {
      state.ledger.set(s.offerId, { outcome: 'suppressed', ...(s.reason ? { reason: s.reason } : {}), published: true, ...source });
      counts.suppressed += 1;
    }
  }
  return counts;
}
