/**
 * Explain against a running system: the customer's decisions on the decisions topic (each carries
 * the rule and its version, the CPI value and threshold, the outcome and the reason), their state in
 * the Redis offer ledger, and the customer's facts now against each rule's filter. A rule with no
 * decision for the customer cannot be told apart further from here (not in the audience, or left
 * out by the filter, which records no decision): the output says so and points to backtest mode.
 */
import type { Kafka } from 'kafkajs';
import type { DecisionData, WireCloudEvent } from '../actions/offer-event.js';
import { DecisionEvent } from '../actions/offer-schema.js';
import { customerTag } from '../cpis/tags.js';
import type { RuleSet } from '../rules/compiled.js';
import { fmt } from '../rule-tests/format.js';
import type { FactsReader } from '../pipeline/latest-facts.js';
import type { FactValue, OfferLedger } from '../store/state-store.js';
import { kafkaRangeSource, resolveRanges, type RangeBound } from '../backtest/kafka-source.js';
import { factsText, filterLines, personalFacts } from './explain.js';

export interface LiveOptions {
  kafka: Kafka;
  /** The offer ledger. */
  store: Pick<OfferLedger, 'readLedger'>;
  /** The customer's facts now. */
  facts: FactsReader;
  decisionsTopic: string;
  customerId: string;
  ruleId?: string;
  /** The rules as loaded now (filters and thresholds); optional. */
  ruleSet?: RuleSet;
  since?: RangeBound;
}

export async function readCustomerDecisions(kafka: Kafka, topic: string, customerId: string, since?: RangeBound): Promise<WireCloudEvent<DecisionData>[]> {
  const ranges = await resolveRanges(kafka, topic, since);
  const source = await kafkaRangeSource(kafka, topic, ranges);
  const needle = Buffer.from(customerId);
  const out: WireCloudEvent<DecisionData>[] = [];
  for await (const batch of source.batches()) {
    for (const m of batch) {
      if (!m.value || !m.value.includes(needle)) continue;
      let parsed: unknown;
      try { parsed = JSON.parse(m.value.toString('utf8')); } catch { continue; }
      const ok = DecisionEvent.safeParse(parsed);
      if (ok.success && ok.data.data.customerId === customerId) out.push(parsed as WireCloudEvent<DecisionData>);
    }
  }
  return out;
}

export async function explainLive(o: LiveOptions): Promise<string> {
  const decisions = (await readCustomerDecisions(o.kafka, o.decisionsTopic, o.customerId, o.since))
    .filter((d) => o.ruleId === undefined || d.data.rule.id === o.ruleId);
  const ledger = await o.store.readLedger(decisions.map((d) => d.id));
  const [facts] = await o.facts.readFacts([customerTag(o.customerId)]);
  const out = [`customer ${o.customerId} (running system: ${o.decisionsTopic} and the Redis ledger)`,
    `facts now: ${facts ? factsText(facts as Record<string, FactValue>, personalFacts(o.ruleSet)) : 'no customer profile in Redis'}`];
  const ruleIds = new Set<string>(decisions.map((d) => d.data.rule.id));
  for (const r of o.ruleSet?.rules ?? []) if (o.ruleId === undefined || r.id === o.ruleId) ruleIds.add(r.id);
  if (o.ruleId !== undefined) ruleIds.add(o.ruleId);
  for (const id of [...ruleIds].sort()) {
    const rule = o.ruleSet?.rules.find((r) => r.id === id);
    const mine = decisions.map((d, i) => ({ d, l: ledger[i] })).filter(({ d }) => d.data.rule.id === id);
    out.push('', `${id}:${rule ? '' : ' (not in the loaded rules)'}`);
    for (const { d, l } of mine) {
      const t = d.data.trigger;
      const state = l === null || l === undefined ? 'no longer in the ledger (expired)' : l.published ? 'published' : 'decided, not yet published';
      out.push(`  ${d.data.outcome === 'offered' ? 'OFFERED' : `SUPPRESSED (${d.data.reason})`} at ${d.data.decidedAt}: ${t.aggregate} of ${t.cpi} was ${fmt(t.value)} ${t.direction} ${fmt(t.threshold)} in ${t.scope.dimension}=${t.scope.value} (episode from ${t.episodeStartedAt}); rule version ${d.data.rule.version}; ledger: ${state}; id ${d.id}`);
    }
    if (mine.length === 0) {
      out.push(`  NO DECISION recorded for this customer on ${o.decisionsTopic}: the rule did not fire where the customer was, the customer was not in its audience, or its filter left them out (a filtered-out candidate records no decision).`);
      out.push('  To tell which, replay the events: cpiwatch explain --customer <id> --rules <dir> --events <file.ndjson>');
    }
    if (rule?.filter) out.push('  filter on customer facts, against the facts now:', ...filterLines(rule, (facts ?? null) as Record<string, FactValue> | null, personalFacts(o.ruleSet)).map((l) => `    ${l}`));
  }
  return `${out.join('\n')}\n`;
}
