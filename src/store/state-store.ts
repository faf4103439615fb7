/**
 * The offer ledger's interface and the types shared by its two implementations, store/redis
 * (production) and store/memory (backtests, rule tests, explain), which pass one contract suite
 * (tests/contract/offer-ledger.contract.ts), so a backtest cannot drift from production. The ledger
 * also keeps what became of each offer's e-mail. The owner partitions' own state goes through
 * store/redis/partition-state.ts.
 */

import type { FactValue } from '../entities/facts.js';
import type { SuppressionReason } from '../guardrails/suppression.js';
import type { RuleState } from '../rules/rule-state.js';

export type { FactValue, RuleState, SuppressionReason };

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

export interface LedgerVerdict {
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  /** True when the ledger already held this decision (a replay): the stored verdict is returned. */
  replay: boolean;
  /** True once the decision was published (markPublished). */
  published: boolean;
}

/**
 * What became of an offer's e-mail (the e-mail channel, adapters/smtp/email-worker.ts): sent, not
 * sent for want of an address, or given up after the last failed attempt.
 */
export type EmailState = { status: 'sent' } | { status: 'no-address' } | { status: 'gave-up'; error: string };

export interface OfferLedger {
  /** Takes each candidate through the ledger and the stateful guardrails, in order, atomically. */
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
  markPublished(offerIds: string[]): Promise<void>;
  /** Reads the ledger (explain, tests). */
  readLedger(offerIds: string[]): Promise<(LedgerVerdict | null)[]>;
  /** The e-mail state of an offer; null while none is recorded (the e-mail is still to be sent). */
  emailState(offerId: string): Promise<EmailState | null>;
  /** Records the e-mail state of an offer, kept `retainMs` (an e-mail is sent at most once in that time). */
  markEmail(offerId: string, state: EmailState, retainMs: number): Promise<void>;
  close(): Promise<void>;
}
