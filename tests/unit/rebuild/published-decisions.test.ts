// What `cpiwatch rebuild` learns from a record of the offers or decisions topic: the decision as a
// ledger seed, with the retention and budget period of the rule loaded now.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/actions/decision.js';
import { decisionEventOf, offerEventOf } from '../../../src/actions/offer-event.js';
import { offerIdOf } from '../../../src/actions/offer-id.js';
import { tagOf } from '../../../src/cpis/tags.js';
import { retentionMs } from '../../../src/guardrails/stateless.js';
import { ownerOf } from '../../../src/pipeline/owner-of.js';
import { seedOf, type SeedContext } from '../../../src/rebuild/published-decisions.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';

async function ruleSet(): Promise<RuleSet> {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error('example rules invalid');
  return loaded.ruleSet;
}

describe('ledger seeds from the output topics', async () => {
  const rules = await ruleSet();
  const rule = rules.rules.find((r) => r.id === 'curbside-flash-drink')!;
  const ctx: SeedContext = { ruleSet: rules, opsTopic: 'g.ops', partitions: 6 };
  // a store id that needs percent-encoding: the scope tag comes back byte for byte
  const scopeTag = tagOf('storeId', 'São Paulo #3');
  const time = Date.UTC(2026, 10, 23, 18, 6, 30, 125);
  const decision = (over: Partial<Decision> = {}): Decision => ({
    offerId: offerIdOf(rule.id, 'C1', scopeTag, time - 60_000), outcome: 'offered', rule, customerId: 'C1', scopeTag,
    time, episode: time - 60_000, value: 1.62, replay: false, ...over,
  });

  it('an offer: offered, its rule, customer, scope, time, retention, budget period and deciding partition', () => {
    const d = decision();
    const got = seedOf(JSON.stringify(offerEventOf(d)), ctx);
    expect(got).toEqual({
      seed: {
        offerId: d.offerId, outcome: 'offered', ruleId: rule.id, customer: 'C1', scopeTag, time,
        retainMs: retentionMs(rule, rules.policy), budgetPerMs: 3_600_000, source: `g.ops:${ownerOf(scopeTag, 6)}`,
      },
    });
  });

  it('a decision record: offered or suppressed with the reason (as bytes, as Kafka hands them)', () => {
    const offered = decision();
    expect(seedOf(Buffer.from(JSON.stringify(decisionEventOf(offered))), ctx)).toEqual(seedOf(JSON.stringify(offerEventOf(offered)), ctx));
    const held = decision({ outcome: 'suppressed', reason: 'holdout', customerId: 'C2', offerId: offerIdOf(rule.id, 'C2', scopeTag, time - 60_000) });
    const got = seedOf(JSON.stringify(decisionEventOf(held)), ctx);
    expect(got).toMatchObject({ seed: { offerId: held.offerId, outcome: 'suppressed', reason: 'holdout', customer: 'C2', time } });
  });

  it('a rule no longer loaded: kept as long as the policy needs (at least 7 days), in no budget', () => {
    const other = { ...rule, id: 'retired-rule' };
    const got = seedOf(JSON.stringify(offerEventOf(decision({ rule: other }))), ctx);
    expect('seed' in got && got.seed.retainMs).toBe(Math.max(7 * 86_400_000, rules.policy.customerCooldownMs ?? 0, rules.policy.frequencyCap?.perMs ?? 0));
    expect('seed' in got && got.seed.budgetPerMs).toBeUndefined();
    expect('seed' in got && got.seed.ruleId).toBe('retired-rule');
  });

  it('anything else is skipped, with the reason', () => {
    expect(seedOf(null, ctx)).toEqual({ skip: 'empty record' });
    expect(seedOf('{not json', ctx)).toEqual({ skip: 'not JSON' });
    expect(seedOf(JSON.stringify({ type: 'cpiwatch.offer.v2' }), ctx)).toEqual({ skip: 'unknown type "cpiwatch.offer.v2"' });
    const broken = { ...offerEventOf(decision()), id: 'not-a-uuid' };
    expect(seedOf(JSON.stringify(broken), ctx)).toMatchObject({ skip: expect.stringMatching(/^not an offer event v1: /) });
  });
});
