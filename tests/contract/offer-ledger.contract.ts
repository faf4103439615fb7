/**
 * The offer-ledger contract: one suite, run against the in-memory ledger (tests/unit/store) and the
 * Redis ledger on a real Redis, a Redis Cluster, over TLS and as a least-privilege ACL user
 * (tests/integration). Both must decide identically, and keep the e-mail state of an offer alike.
 */
import { describe, expect, it } from 'vitest';
import type { OfferCandidate, OfferLedger } from '../../src/store/state-store.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

let seq = 0;
function uniqueTag(): string {
  return `storeId=S${process.pid}-${Date.now()}-${seq++}`;
}

function candidate(over: Partial<OfferCandidate> & { offerId: string }): OfferCandidate {
  return { ruleId: 'r1', customer: `C-${over.offerId}`, scopeTag: 'storeId=S1', time: T0, retainMs: 7 * 24 * 60 * MIN, ...over };
}

export function offerLedgerContract(name: string, open: () => Promise<{ store: OfferLedger; done: () => Promise<void> }>): void {
  describe(`offer ledger contract: ${name}`, () => {
    async function withStore(fn: (s: OfferLedger) => Promise<void>): Promise<void> {
      const { store, done } = await open();
      try {
        await fn(store);
      } finally {
        await done();
      }
    }

    it('decides offers once: the ledger replays, guardrails suppress in order', () =>
      withStore(async (store) => {
        const u = uniqueTag();
        const cust = `cust-${u}`;
        const first = await store.decide([
          candidate({ offerId: `${u}-a`, customer: cust, ruleCooldownMs: 60 * MIN }),
          candidate({ offerId: `${u}-b`, customer: cust, time: T0 + MIN, ruleCooldownMs: 60 * MIN }),
          candidate({ offerId: `${u}-c`, customer: cust, ruleId: 'r2', time: T0 + MIN, customerCooldownMs: 30 * MIN }),
          candidate({ offerId: `${u}-d`, customer: cust, ruleId: 'r3', time: T0 + 40 * MIN, frequencyCap: { max: 1, perMs: 60 * MIN } }),
          candidate({ offerId: `${u}-e`, customer: `other-${u}`, presuppressed: 'holdout' }),
        ]);
        expect(first.map((v) => [v.outcome, v.reason ?? null, v.replay])).toEqual([
          ['offered', null, false],
          ['suppressed', 'cooldown', false],
          ['suppressed', 'customer-cooldown', false],
          ['suppressed', 'frequency-cap', false],
          ['suppressed', 'holdout', false],
        ]);
        await store.markPublished([`${u}-a`]);
        const again = await store.decide([candidate({ offerId: `${u}-a`, customer: cust }), candidate({ offerId: `${u}-e`, customer: `other-${u}` })]);
        expect(again).toEqual([
          { offerId: `${u}-a`, outcome: 'offered', replay: true, published: true },
          { offerId: `${u}-e`, outcome: 'suppressed', reason: 'holdout', replay: true, published: false },
        ]);
        expect(await store.readLedger([`${u}-a`, `${u}-zzz`])).toEqual([{ offerId: `${u}-a`, outcome: 'offered', replay: false, published: true }, null]);
      }));

    it('holds cooldowns and the frequency cap when a later candidate was decided first (both ways in event time)', () =>
      withStore(async (store) => {
        const u = uniqueTag();
        const cust = `cust-${u}`;
        // decided in reverse event-time order, as two partitions may decide them
        const verdicts = await store.decide([
          candidate({ offerId: `${u}-late`, customer: cust, time: T0 + 50 * MIN, ruleCooldownMs: 60 * MIN }),
          candidate({ offerId: `${u}-early`, customer: cust, time: T0, ruleCooldownMs: 60 * MIN }),
          candidate({ offerId: `${u}-other`, customer: cust, ruleId: 'r2', time: T0 + 30 * MIN, customerCooldownMs: 30 * MIN }),
          candidate({ offerId: `${u}-far`, customer: cust, ruleId: 'r2', time: T0 + 2 * 60 * MIN, customerCooldownMs: 30 * MIN }),
          // the cap: two offers per 3 h; T0 + 50m and T0 + 2h share a 3-h window with T0 - 30m
          candidate({ offerId: `${u}-cap`, customer: cust, ruleId: 'r3', time: T0 - 30 * MIN, frequencyCap: { max: 2, perMs: 3 * 60 * MIN } }),
          candidate({ offerId: `${u}-cap2`, customer: cust, ruleId: 'r3', time: T0 - 6 * 60 * MIN, frequencyCap: { max: 2, perMs: 3 * 60 * MIN } }),
        ]);
        expect(verdicts.map((v) => v.reason ?? v.outcome)).toEqual(['offered', 'cooldown', 'customer-cooldown', 'offered', 'frequency-cap', 'offered']);
      }));

    it('leaves publishing an offer to the source that decided it first (no offer id goes out twice)', () =>
      withStore(async (store) => {
        const u = uniqueTag();
        const [first] = await store.decide([candidate({ offerId: `${u}-x`, customer: `c-${u}`, source: 'events:0' })]);
        const [same] = await store.decide([candidate({ offerId: `${u}-x`, customer: `c-${u}`, source: 'events:0' })]);
        const [other] = await store.decide([candidate({ offerId: `${u}-x`, customer: `c-${u}`, source: 'events:3' })]);
        expect([first!.replay, first!.published]).toEqual([false, false]);
        expect([same!.replay, same!.published]).toEqual([true, false]); // its own redelivery publishes it
        expect([other!.replay, other!.published]).toEqual([true, true]);
      }));

    it('enforces a per-scope budget per period', () =>
      withStore(async (store) => {
        const u = uniqueTag();
        const budget = { max: 2, perMs: 60 * MIN };
        const verdicts = await store.decide(
          [0, 1, 2].map((i) => candidate({ offerId: `${u}-${i}`, customer: `${u}-c${i}`, scopeTag: u, time: T0 + i, budget })),
        );
        expect(verdicts.map((v) => v.reason ?? v.outcome)).toEqual(['offered', 'offered', 'budget']);
        const next = await store.decide([candidate({ offerId: `${u}-next`, customer: `${u}-c9`, scopeTag: u, time: T0 + 60 * MIN, budget })]);
        expect(next[0]!.outcome).toBe('offered');
      }));

    it("keeps what became of an offer's e-mail, by offer id", () =>
      withStore(async (store) => {
        const u = uniqueTag();
        expect(await store.emailState(`${u}-a`)).toBeNull();
        await store.markEmail(`${u}-a`, { status: 'sent' }, 60 * MIN);
        await store.markEmail(`${u}-b`, { status: 'no-address' }, 60 * MIN);
        await store.markEmail(`${u}-c`, { status: 'gave-up', error: '451 mailbox busy' }, 60 * MIN);
        expect(await Promise.all([`${u}-a`, `${u}-b`, `${u}-c`, `${u}-d`].map((id) => store.emailState(id)))).toEqual([
          { status: 'sent' },
          { status: 'no-address' },
          { status: 'gave-up', error: '451 mailbox busy' },
          null,
        ]);
        // the e-mail state is apart from the decision
        expect(await store.readLedger([`${u}-a`])).toEqual([null]);
      }));
  });
}
