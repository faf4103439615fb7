/**
 * The offer ledger in memory: the same semantics as store/redis/lua/decide-offers.lua, in process
 * (store/memory/decide.ts). Used by backtests, rule tests and explain (the local engine); passes the
 * same contract suite as the Redis ledger (tests/contract/offer-ledger.contract.ts).
 */
import type { EmailState, LedgerVerdict, OfferCandidate, OfferLedger } from '../state-store.js';
import { decideCandidate, type DecisionState } from './decide.js';

export class MemoryStore implements OfferLedger {
  private readonly decisions: DecisionState = { ledger: new Map(), history: new Map(), budgets: new Map() };
  /** E-mail states by offer id (kept for the life of the store: a local run is short). */
  private readonly emails = new Map<string, EmailState>();

  async decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]> {
    return candidates.map((c) => decideCandidate(this.decisions, c));
  }

  async markPublished(offerIds: string[]): Promise<void> {
    for (const id of offerIds) {
      const entry = this.decisions.ledger.get(id);
      if (entry) entry.published = true;
    }
  }

  async readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]> {
    return offerIds.map((id) => {
      const e = this.decisions.ledger.get(id);
      return e ? { offerId: id, outcome: e.outcome, ...(e.reason ? { reason: e.reason } : {}), replay: false, published: e.published } : null;
    });
  }

  async emailState(offerId: string): Promise<EmailState | null> {
    return this.emails.get(offerId) ?? null;
  }

  async markEmail(offerId: string, state: EmailState): Promise<void> {
    this.emails.set(offerId, state);
  }

  async close(): Promise<void> {}
}
