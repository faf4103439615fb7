/** A decision the pipeline took for one customer under one rule: the input of every action channel. */
import type { CompiledRule } from '../rules/compiled.js';
import type { SuppressionReason } from '../guardrails/suppression.js';

/**
 * The offer's texts as rendered at decision time from the rule's `offer.template` (offer-texts.ts);
 * absent for a rule without one (its offer carries `offer.title` and `offer.terms` as written).
 */
export interface OfferTexts {
  title: string;
  terms?: string;
  /** The translation used (normalized, e.g. `fr`, `fr-ca`); absent: the template's default file or the fallback. */
  locale?: string;
  /** Set when the template failed to render and the rule's own texts were used (CPW509): why. */
  fallback?: { template: string; reason: string };
}

export interface Decision {
  offerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  rule: CompiledRule;
  customerId: string;
  /** The breaching scope, e.g. storeId=S1. */
  scopeTag: string;
  /** Event time of the decision (the bucket close that fired, or the en-route event). */
  time: number;
  /** Event time the breach episode began. */
  episode: number;
  /** The CPI aggregate's value when the rule fired. */
  value: number;
  /** The threshold tier whose episode it is (absent: the rule's own thresholds). */
  tier?: number;
  /** The index of the rule's condition that breached first, whose value `value` is (absent: the first). */
  condition?: number;
  /** W3C traceparent of the event that led to the decision, when it had one. */
  traceparent?: string;
  /** The offer's rendered texts (offered decisions of a rule with `offer.template`). */
  texts?: OfferTexts;
  /** True when the ledger already held this decision (redelivery) and it is published again. */
  replay: boolean;
}
