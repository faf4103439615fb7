/**
 * Step 5 of a batch: filter candidates on customer facts, apply the stateless guardrails, then take
 * them through the ledger and the stateful guardrails (one atomic store call).
 */
import type { Decision } from '../actions/decision.js';
import { predicateHolds } from '../cpis/predicate.js';
import { customerTag } from '../cpis/tags.js';
import { retentionMs, statelessSuppression } from '../guardrails/stateless.js';
import type { CompiledPolicy } from '../rules/compiled.js';
import type { FactValue, OfferCandidate, StateStore } from '../store/state-store.js';
import type { Candidate } from './candidates.js';

export interface FilteredCandidate {
  candidate: Candidate;
  /** The customer's facts the filter was tested on (null: no profile seen). */
  facts: Record<string, FactValue> | null;
}

export interface DecideOutcome {
  decisions: Decision[];
  /** Candidates whose facts did not pass the rule's filter (no decision is recorded). */
  filteredOut: FilteredCandidate[];
}

export async function decide(candidates: Candidate[], policy: CompiledPolicy, store: StateStore, source?: string): Promise<DecideOutcome> {
  if (candidates.length === 0) return { decisions: [], filteredOut: [] };
  const tags = new Set<string>();
  for (const c of candidates) {
    tags.add(customerTag(c.customerId));
    if (c.episode.rule.guardrails.quietHours?.timeZone === 'scope') tags.add(c.episode.tag);
  }
  const tagList = [...tags];
  const facts = new Map<string, Record<string, FactValue> | null>();
  (await store.readFacts(tagList)).forEach((f, i) => facts.set(tagList[i]!, f));

  const eligible: Candidate[] = [];
  const filteredOut: FilteredCandidate[] = [];
  const requests: OfferCandidate[] = [];
  for (const c of candidates) {
    const rule = c.episode.rule;
    const customerFacts = facts.get(customerTag(c.customerId)) ?? null;
    if (rule.filter && !predicateHolds(customerFacts ?? {}, rule.filter)) { filteredOut.push({ candidate: c, facts: customerFacts }); continue; }
    const zone = facts.get(c.episode.tag)?.timeZone;
    const presuppressed = statelessSuppression({
      rule, policy, customerId: c.customerId, time: c.time, ...(typeof zone === 'string' ? { scopeTimeZone: zone } : {}),
    });
    const g = rule.guardrails;
    eligible.push(c);
    requests.push({
      offerId: c.offerId,
      ruleId: rule.id,
      customer: c.customerId,
      scopeTag: c.episode.tag,
      time: c.time,
      retainMs: retentionMs(rule, policy),
      ...(source !== undefined ? { source } : {}),
      ...(presuppressed ? { presuppressed } : {}),
      ...(g.cooldownMs !== undefined ? { ruleCooldownMs: g.cooldownMs } : {}),
      ...(g.budget ? { budget: g.budget } : {}),
      ...(policy.customerCooldownMs !== undefined ? { customerCooldownMs: policy.customerCooldownMs } : {}),
      ...(policy.frequencyCap ? { frequencyCap: policy.frequencyCap } : {}),
    });
  }
  const verdicts = await store.decide(requests);
  const decisions = verdicts.map((v, i): Decision & { published: boolean } => {
    const c = eligible[i]!;
    return {
      offerId: v.offerId,
      outcome: v.outcome,
      ...(v.reason ? { reason: v.reason } : {}),
      rule: c.episode.rule,
      customerId: c.customerId,
      scopeTag: c.episode.tag,
      time: c.time,
      episode: c.episode.start,
      value: c.episode.value,
      ...(c.traceparent ? { traceparent: c.traceparent } : {}),
      replay: v.replay,
      published: v.published,
    };
  });
  return { decisions, filteredOut };
}
