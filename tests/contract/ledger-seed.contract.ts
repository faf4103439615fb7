/**
 * The ledger-seed contract (`cpiwatch rebuild`): decisions already published, seeded into an empty
 * ledger, are replays marked published when decided again, and count in the stateful guardrails
 * as the offers they are. One suite, run on the memory version (tests/unit/store) and on Redis
 * (tests/integration/store), so seed-decisions.lua and store/memory/seed-decisions.ts cannot drift.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerSeed, SeedCounts } from '../../src/store/redis/ledger-seed.js';
import type { LedgerVerdict, OfferCandidate } from '../../src/store/state-store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const RETAIN = 7 * 24 * HOUR;

export interface SeededLedger {
  seed(seeds: LedgerSeed[]): Promise<SeedCounts>;
  decide(candidates: OfferCandidate[]): Promise<LedgerVerdict[]>;
  done(): Promise<void>;
}

let seq = 0;
const unique = () => `${process.pid}-${Date.now()}-${seq++}`;

export function ledgerSeedContract(name: string, open: () => Promise<SeededLedger>): void {
  describe(`ledger seed contract: ${name}`, () => {
    async function withLedger(fn: (l: SeededLedger, u: string) => Promise<void>): Promise<void> {
      const l = await open();
      try {
        await fn(l, unique());
      } finally {
        await l.done();
      }
    }
    const seed = (u: string, over: Partial<LedgerSeed> & { offerId: string }): LedgerSeed => ({
      outcome: 'offered', ruleId: 'r1', customer: `C-${u}`, scopeTag: `storeId=S-${u}`, time: T0, retainMs: RETAIN, source: 'ops:0', ...over,
    });
    const candidate = (u: string, over: Partial<OfferCandidate> & { offerId: string }): OfferCandidate => ({
      ruleId: 'r1', customer: `C-${u}`, scopeTag: `storeId=S-${u}`, time: T0, retainMs: RETAIN, source: 'ops:0', ...over,
    });

    it('a seeded offer or suppression decided again is a replay, published: not sent again', () =>
      withLedger(async (l, u) => {
        expect(await l.seed([seed(u, { offerId: `${u}-a` }), seed(u, { offerId: `${u}-b`, outcome: 'suppressed', reason: 'holdout' })])).toEqual({ offered: 1, suppressed: 1, known: 0 });
        // the same owner partition, or another one (src differs): published either way
        expect(await l.decide([candidate(u, { offerId: `${u}-a` }), candidate(u, { offerId: `${u}-b`, source: 'ops:1' })])).toEqual([
          { offerId: `${u}-a`, outcome: 'offered', replay: true, published: true },
          { offerId: `${u}-b`, outcome: 'suppressed', reason: 'holdout', replay: true, published: true },
        ]);
      }));

    it('seeded offers hold cooldowns both ways in event time and the frequency cap; suppressions count in none', () =>
      withLedger(async (l, u) => {
        await l.seed([
          seed(u, { offerId: `${u}-a`, time: T0 }),
          seed(u, { offerId: `${u}-s`, time: T0 + 10 * HOUR, outcome: 'suppressed', reason: 'quiet-hours' }),
        ]);
        const verdicts = await l.decide([
          // before the seeded offer, within the rule's cooldown
          candidate(u, { offerId: `${u}-b`, time: T0 - 30 * MIN, ruleCooldownMs: HOUR }),
          // another rule, within the customer cooldown
          candidate(u, { offerId: `${u}-c`, ruleId: 'r2', time: T0 + 20 * MIN, customerCooldownMs: HOUR }),
          // another rule, outside the cooldowns but within a cap of 1 per 3 hours
          candidate(u, { offerId: `${u}-d`, ruleId: 'r3', time: T0 + 2 * HOUR, frequencyCap: { max: 1, perMs: 3 * HOUR } }),
          // next to the seeded suppression: nothing holds it
          candidate(u, { offerId: `${u}-e`, time: T0 + 10 * HOUR + MIN, ruleCooldownMs: HOUR, customerCooldownMs: HOUR }),
        ]);
        expect(verdicts.map((v) => [v.outcome, v.reason ?? null, v.replay])).toEqual([
          ['suppressed', 'cooldown', false],
          ['suppressed', 'customer-cooldown', false],
          ['suppressed', 'frequency-cap', false],
          ['offered', null, false],
        ]);
      }));

    it('seeded offers fill their budget period; the next period is free', () =>
      withLedger(async (l, u) => {
        const budget = { max: 2, perMs: HOUR };
        const scope = { scopeTag: `storeId=B-${u}` };
        await l.seed([
          seed(u, { offerId: `${u}-a`, customer: `A-${u}`, time: T0 + MIN, budgetPerMs: HOUR, ...scope }),
          seed(u, { offerId: `${u}-b`, customer: `B-${u}`, time: T0 + 2 * MIN, budgetPerMs: HOUR, ...scope }),
        ]);
        const verdicts = await l.decide([
          candidate(u, { offerId: `${u}-c`, customer: `C-${u}`, time: T0 + 3 * MIN, budget, ...scope }),
          candidate(u, { offerId: `${u}-d`, customer: `D-${u}`, time: T0 + HOUR + MIN, budget, ...scope }),
        ]);
        expect(verdicts.map((v) => [v.outcome, v.reason ?? null])).toEqual([['suppressed', 'budget'], ['offered', null]]);
      }));

    it('a decision seeded twice (both topics, or a rebuild run again) counts once', () =>
      withLedger(async (l, u) => {
        const scope = { scopeTag: `storeId=T-${u}` };
        const twice = seed(u, { offerId: `${u}-a`, budgetPerMs: HOUR, ...scope });
        expect(await l.seed([twice, twice])).toEqual({ offered: 1, suppressed: 0, known: 1 });
        expect(await l.seed([twice, seed(u, { offerId: `${u}-a`, outcome: 'suppressed', reason: 'budget' })])).toEqual({ offered: 0, suppressed: 0, known: 2 });
        // one of a budget of 2 used: a second customer gets the other
        const [v] = await l.decide([candidate(u, { offerId: `${u}-b`, customer: `other-${u}`, time: T0 + MIN, budget: { max: 2, perMs: HOUR }, ...scope })]);
        expect([v!.outcome, v!.replay]).toEqual(['offered', false]);
        const [again] = await l.decide([candidate(u, { offerId: `${u}-a` })]);
        expect(again).toEqual({ offerId: `${u}-a`, outcome: 'offered', replay: true, published: true });
      }));
  });
}
