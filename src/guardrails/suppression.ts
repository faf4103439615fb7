/**
 * Why a decision was suppressed: a stateless guardrail (guardrails/stateless.ts) or a stateful one
 * the offer ledger decides (store/). Published on the decisions topic (actions/offer-schema.ts) and
 * named in rule tests' expectations.
 */
export const SUPPRESSION_REASONS = ['kill-switch', 'holdout', 'quiet-hours', 'cooldown', 'customer-cooldown', 'frequency-cap', 'budget'] as const;

export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];
