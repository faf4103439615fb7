/**
 * One record of decisions, as `cpiwatch lift` reads it: a decision event (the decisions topic, or
 * `cpiwatch backtest --decisions`) or an offer event (the offers topic, or what `cpiwatch backtest`
 * prints), validated against the published schemas (actions/offer-schema.ts). Anything else is
 * a problem with its reason, never an exception. Pure.
 */
import { DECISION_EVENT_TYPE, DecisionEvent, OFFER_EVENT_TYPE, OfferEvent } from '../actions/offer-schema.js';
import type { SuppressionReason } from '../guardrails/suppression.js';

export interface LiftDecision {
  offerId: string;
  ruleId: string;
  ruleVersion: string;
  customerId: string;
  outcome: 'offered' | 'suppressed';
  reason?: SuppressionReason;
  /** event time of the decision, epoch ms */
  time: number;
}

export type DecisionOrProblem = { decision: LiftDecision } | { problem: string };

const firstIssue = (issues: readonly { path: PropertyKey[]; message: string }[]) => {
  const i = issues[0];
  return i ? `${i.path.map(String).join('.') || '(event)'}: ${i.message}` : 'invalid';
};

export function decisionOf(value: Buffer | string | null): DecisionOrProblem {
  if (value === null) return { problem: 'empty record' };
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  const type = (json as { type?: unknown } | null)?.type;
  let d: Omit<LiftDecision, 'time'> & { time: string };
  if (type === OFFER_EVENT_TYPE) {
    const parsed = OfferEvent.safeParse(json);
    if (!parsed.success) return { problem: `not a valid ${OFFER_EVENT_TYPE} event: ${firstIssue(parsed.error.issues)}` };
    const o = parsed.data.data;
    d = { offerId: o.offerId, ruleId: o.rule.id, ruleVersion: o.rule.version, customerId: o.customerId, outcome: 'offered', time: parsed.data.time };
  } else if (type === DECISION_EVENT_TYPE) {
    const parsed = DecisionEvent.safeParse(json);
    if (!parsed.success) return { problem: `not a valid ${DECISION_EVENT_TYPE} event: ${firstIssue(parsed.error.issues)}` };
    const o = parsed.data.data;
    d = { offerId: o.offerId, ruleId: o.rule.id, ruleVersion: o.rule.version, customerId: o.customerId, outcome: o.outcome, ...(o.reason ? { reason: o.reason } : {}), time: o.decidedAt };
  } else {
    return { problem: `type ${JSON.stringify(type)} is neither ${OFFER_EVENT_TYPE} nor ${DECISION_EVENT_TYPE}` };
  }
  const time = Date.parse(d.time);
  if (!Number.isFinite(time)) return { problem: `unreadable time "${d.time}"` };
  if (d.outcome === 'suppressed' && d.reason === undefined) return { problem: 'a suppressed decision without its reason' };
  return { decision: { ...d, time } };
}
