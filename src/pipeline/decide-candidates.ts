/**
 * The decision on candidates: filter on the customer's facts as of the decision time, the stateless
 * guardrails (kill switch, holdout, quiet hours), then the offer ledger and the stateful guardrails
 * (cooldowns, frequency cap, budget) through the LedgerPort, atomically and in the order given. An
 * offer of a rule with `offer.template` gets its texts rendered from the same facts (offer-texts.ts).
 */
import type { Decision } from '../actions/decision.js';
import type { EmailTemplates } from '../actions/email/template-library.js';
import { shippedTemplates } from '../actions/email/templates.js';
import { offerTextsOf } from '../actions/offer-texts.js';
import { predicateHolds } from '../cpis/predicate.js';
import { customerTag } from '../cpis/tags.js';
import type { FactValue } from '../entities/facts.js';
import { retentionMs, statelessSuppression } from '../guardrails/stateless.js';
import type { CompiledPolicy, CompiledRule } from '../rules/compiled.js';
import type { LedgerVerdict, OfferCandidate } from '../store/state-store.js';
import type { Candidate } from './candidate-queue.js';

/** Facts of entities as of given event times (local state, or the owning partition's). */
export interface FactsPort {
  factsAt(queries: readonly { tag: string; time: number }[]): Promise<(Record<string, FactValue> | null)[]>;
}

/** The offer ledger and the stateful guardrails (store/memory/decide.ts, store/redis/lua/decide-offers.lua). */
export interface LedgerPort {
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
}

/** A candidate left out by the rule's filter, or (customerTier set) of a threshold tier that is not the customer's. */
export interface FilteredCandidate { candidate: Candidate; facts: Record<string, FactValue> | null; customerTier?: number }

/** The customer's threshold tier: the first whose `when` holds on their facts (0: none, the rule's own thresholds). */
export function tierOfCustomer(rule: CompiledRule, facts: Record<string, FactValue> | null): number {
  const tiers = rule.tiers ?? [];
  for (let k = 0; k < tiers.length; k++) if (predicateHolds(facts ?? {}, tiers[k]!.when)) return k + 1;
  return 0;
}

export interface DecideOutcome {
  /** New decisions and replays the ledger had not seen published. */
  decisions: (Decision & { published: boolean })[];
  filteredOut: FilteredCandidate[];
}

/** `templates`: the rule set's (offer texts); default the shipped ones. */
export async function decideCandidates(candidates: readonly Candidate[], policy: CompiledPolicy, facts: FactsPort, ledger: LedgerPort, templates?: EmailTemplates): Promise<DecideOutcome> {
  if (candidates.length === 0) return { decisions: [], filteredOut: [] };
  const queries: { tag: string; time: number }[] = [];
  for (const c of candidates) {
    queries.push({ tag: customerTag(c.customerId), time: c.time });
    queries.push({ tag: c.tag, time: c.time });
  }
  const known = await facts.factsAt(queries);
  const eligible: { c: Candidate; i: number }[] = [];
  const filteredOut: FilteredCandidate[] = [];
  const requests: OfferCandidate[] = [];
  candidates.forEach((c, i) => {
    const rule = c.rule;
    const customerFacts = known[2 * i] ?? null;
    if (rule.filter && !predicateHolds(customerFacts ?? {}, rule.filter)) { filteredOut.push({ candidate: c, facts: customerFacts }); return; }
    if (rule.tiers) {
      const tier = tierOfCustomer(rule, customerFacts);
      if (tier !== (c.tier ?? 0)) { filteredOut.push({ candidate: c, facts: customerFacts, customerTier: tier }); return; }
    }
    const zone = known[2 * i + 1]?.timeZone;
    const presuppressed = statelessSuppression({ rule, policy, customerId: c.customerId, time: c.time, ...(typeof zone === 'string' ? { scopeTimeZone: zone } : {}) });
    const g = rule.guardrails;
    eligible.push({ c, i });
    requests.push({
      offerId: c.offerId, ruleId: rule.id, customer: c.customerId, scopeTag: c.tag, time: c.time, retainMs: retentionMs(rule, policy),
      ...(presuppressed ? { presuppressed } : {}),
      ...(g.cooldownMs !== undefined ? { ruleCooldownMs: g.cooldownMs } : {}),
      ...(g.budget ? { budget: g.budget } : {}),
      ...(policy.customerCooldownMs !== undefined ? { customerCooldownMs: policy.customerCooldownMs } : {}),
      ...(policy.frequencyCap ? { frequencyCap: policy.frequencyCap } : {}),
    });
  });
  const verdicts = requests.length > 0 ? await ledger.decide(requests) : [];
  const decisions = verdicts.map((v, k) => {
    const { c, i } = eligible[k]!;
    const d: Decision & { published: boolean } = {
      offerId: v.offerId, outcome: v.outcome, ...(v.reason ? { reason: v.reason } : {}), rule: c.rule, customerId: c.customerId,
      scopeTag: c.tag, time: c.time, episode: c.episode, value: c.value, ...(c.tier ? { tier: c.tier } : {}), ...(c.condition ? { condition: c.condition } : {}), ...(c.traceparent ? { traceparent: c.traceparent } : {}),
      replay: v.replay, published: v.published,
    };
    if (d.outcome !== 'offered' || c.rule.offer.template === undefined) return d;
    const texts = offerTextsOf(d, { customer: known[2 * i] ?? null, scope: known[2 * i + 1] ?? null }, templates ?? shippedTemplates());
    return texts ? { ...d, texts } : d;
  });
  return { decisions, filteredOut };
}
