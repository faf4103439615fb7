/**
 * What `cpiwatch rebuild` learns from a record of the offers or the decisions topic: the decision
 * already published, as a ledger seed (store/redis/ledger-seed.ts). Both topics carry enough of a
 * decision for the ledger: its offer id, outcome and reason, rule, customer, scope and event time.
 * How long the ledger keeps it and the budget period it counts in come from the rules loaded now
 * (the ones the replay decides with); a decision of a rule no longer loaded is kept as long as the
 * policy's guardrails need (at least 7 days) and counts in no budget. Pure.
 */
import { DecisionEvent, OfferEvent, DECISION_EVENT_TYPE, OFFER_EVENT_TYPE } from '../actions/offer-schema.js';
import { tagOf } from '../cpis/tags.js';
import { retentionMs } from '../guardrails/stateless.js';
import { ownerOf } from '../pipeline/owner-of.js';
import type { CompiledRule, RuleSet } from '../rules/compiled.js';
import type { LedgerSeed } from '../store/redis/ledger-seed.js';

const DAY_MS = 86_400_000;

export interface SeedContext {
  ruleSet: RuleSet;
  /** The ops topic and its partition count: the owner partition of an offer's scope decides it. */
  opsTopic: string;
  partitions: number;
}

export type SeedOrSkip = { seed: LedgerSeed } | { skip: string };

function retainOf(rule: CompiledRule | undefined, ruleSet: RuleSet): number {
  if (rule) return retentionMs(rule, ruleSet.policy);
  const p = ruleSet.policy;
  return Math.max(7 * DAY_MS, p.customerCooldownMs ?? 0, p.frequencyCap?.perMs ?? 0);
}

/** The ledger seed of one record of the offers or decisions topic, or why it is none. */
export function seedOf(value: Buffer | string | null, ctx: SeedContext, rules = rulesById(ctx.ruleSet)): SeedOrSkip {
  if (value === null) return { skip: 'empty record' };
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return { skip: 'not JSON' };
  }
  const type = (json as { type?: unknown } | null)?.type;
  let d: { offerId: string; outcome: 'offered' | 'suppressed'; reason?: LedgerSeed['reason']; customerId: string; rule: { id: string }; trigger: { scope: { dimension: string; value: string } }; time: string };
  if (type === OFFER_EVENT_TYPE) {
    const parsed = OfferEvent.safeParse(json);
    if (!parsed.success) return { skip: `not an offer event v1: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    d = { ...parsed.data.data, outcome: 'offered', time: parsed.data.time };
  } else if (type === DECISION_EVENT_TYPE) {
    const parsed = DecisionEvent.safeParse(json);
    if (!parsed.success) return { skip: `not a decision event v1: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    d = { ...parsed.data.data, time: parsed.data.data.decidedAt };
  } else {
    return { skip: `unknown type ${JSON.stringify(type)}` };
  }
  const time = Date.parse(d.time);
  if (!Number.isFinite(time)) return { skip: `unreadable time ${d.time}` };
  const rule = rules.get(d.rule.id);
  const scopeTag = tagOf(d.trigger.scope.dimension, d.trigger.scope.value);
  const budget = rule?.guardrails.budget;
  return {
    seed: {
      offerId: d.offerId,
      outcome: d.outcome,
      ...(d.outcome === 'suppressed' && d.reason ? { reason: d.reason } : {}),
      ruleId: d.rule.id,
      customer: d.customerId,
      scopeTag,
      time,
      retainMs: retainOf(rule, ctx.ruleSet),
      ...(budget ? { budgetPerMs: budget.perMs } : {}),
      source: `${ctx.opsTopic}:${ownerOf(scopeTag, ctx.partitions)}`,
    },
  };
}

export function rulesById(ruleSet: RuleSet): Map<string, CompiledRule> {
  return new Map(ruleSet.rules.map((r) => [r.id, r]));
}
