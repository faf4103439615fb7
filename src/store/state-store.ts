/**
 * The offer ledger's interface and the types shared by its two implementations, store/redis
 * (production) and store/memory (backtests, rule tests, explain), which pass one contract suite
 * (tests/contract/offer-ledger.contract.ts), so a backtest cannot drift from production. The owner
 * partitions' own state goes through store/redis/partition-state.ts.
 */

import type { FactValue } from '../entities/facts.js';
import type { RuleState } from '../rules/rule-state.js';

export type { FactValue, RuleState };

/** A decision to take under the stateful guardrails, atomically with the offer ledger. */
export interface OfferCandidate {
  offerId: string;
  ruleId: string;
  customer: string;
  scopeTag: string;
  time: number;
  /** Set when a stateless guardrail (kill switch, holdout, quiet hours) already suppressed it. */
  presuppressed?: SuppressionReason;
  ruleCooldownMs?: number;
  budget?: { max: number; perMs: number };
  customerCooldownMs?: number;
  frequencyCap?: { max: number; perMs: number };
  /** How long the ledger keeps the decision (at least the longest guardrail period). */
  retainMs: number;
  /**
   * The source partition deciding it ("topic:partition"). The first to decide an offer publishes it
   * (its publish journal covers a crash); another source meeting the same offer id gets the verdict
   * as a replay marked published, so no offer id goes out twice.
   */
  source?: string;
}

export type SuppressionReason =
  | 'kill-switch'
  | 'holdout'
  | 'quiet-hours'
  | 'cooldown'
  | 'customer-cooldown'
  | 'frequency-cap'
  | 'budget';

export interface LedgerVerdict {
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  /** True when the ledger already held this decision (a replay): the stored verdict is returned. */
  replay: boolean;
  /** True once the decision was published (markPublished). */
  published: boolean;
}

export interface OfferLedger {
  /** Takes each candidate through the ledger and the stateful guardrails, in order, atomically. */
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
  markPublished(offerIds: string[]): Promise<void>;
  /** Reads the ledger (explain, tests). */
  readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]>;
  close(): Promise<void>;
}
