/**
 * The state-store contract: one suite, run against the in-memory store (tests/unit/store) and the
 * Redis store on a real Redis (tests/integration/store). Both must behave identically.
 */
import { describe, expect, it } from 'vitest';
import { binOf } from '../../src/windows/sketch.js';
import type { CpiWindowSpec, OfferCandidate, StateOp, StateStore, TagBatch } from '../../src/store/state-store.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const WAIT: CpiWindowSpec = { cpi: 'wait', resolutionMs: MIN, buckets: 15, latenessMs: 2 * MIN, ttlMs: 18 * MIN };
const DAMAGE: CpiWindowSpec = { cpi: 'damage', resolutionMs: MIN, buckets: 10, latenessMs: 0, ttlMs: 11 * MIN };

let seq = 0;
function uniqueTag(): string {
  return `storeId=S${process.pid}-${Date.now()}-${seq++}`;
}

function batch(tag: string, ops: StateOp[], cpis: CpiWindowSpec[] = [WAIT], source = 'events:0'): TagBatch {
  return { tag, source, ops, cpis, readCurrent: true };
}

function sample(offset: number, time: number, value: number, cpi = 'wait'): StateOp {
  return { kind: 'sample', offset, time, cpi, value };
}

function candidate(over: Partial<OfferCandidate> & { offerId: string }): OfferCandidate {
  return { ruleId: 'r1', customer: `C-${over.offerId}`, scopeTag: 'storeId=S1', time: T0, retainMs: 7 * 24 * 60 * MIN, ...over };
}

export function stateStoreContract(name: string, open: () => Promise<{ store: StateStore; done: () => Promise<void> }>): void {
  describe(`state store contract: ${name}`, () => {
    async function withStore(fn: (s: StateStore) => Promise<void>): Promise<void> {
      const { store, done } = await open();
      try {
        await fn(store);
      } finally {
        await done();
      }
    }

    it('aggregates samples over the window and reports the watermark', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const [r] = await store.applyOps([batch(tag, [sample(1, T0, 2), sample(2, T0 + MIN, 4), sample(3, T0 + 2 * MIN, 9)])]);
        expect(r!.statuses).toEqual(['applied', 'applied', 'applied']);
        const snap = r!.snapshots[0]!;
        expect(snap).toMatchObject({ cpi: 'wait', watermark: T0 + 2 * MIN, count: 3, sum: 15, min: 2, max: 9 });
        expect(Object.values(snap.bins).reduce((a, b) => a + b, 0)).toBe(3);
      }));

    it('bins samples exactly like windows/sketch.ts (values below 1, zero and negatives too)', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const values = [0.004, 0.5, 0.99, 1, 1.0201, 2.5, 300, -3, 0, 1e-10];
        const [r] = await store.applyOps([batch(tag, values.map((v, i) => sample(i + 1, T0 + i, v)))]);
        const expected: Record<string, number> = {};
        for (const v of values) expected[binOf(v)] = (expected[binOf(v)] ?? 0) + 1;
        expect(r!.snapshots[0]!.bins).toEqual(expected);
        expect(r!.snapshots[0]).toMatchObject({ min: -3, max: 300 });
      }));

    it('slides: buckets older than the window no longer count', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        await store.applyOps([batch(tag, [sample(1, T0, 100)])]);
        const [r] = await store.applyOps([batch(tag, [sample(2, T0 + 15 * MIN, 1)])]);
        expect(r!.snapshots[0]).toMatchObject({ count: 1, sum: 1, min: 1, max: 1 });
        const [r2] = await store.applyOps([batch(tag, [sample(3, T0 + 14 * MIN + 59_999, 3)])]);
        expect(r2!.snapshots[0]).toMatchObject({ count: 2, sum: 4 });
      }));

    it('applies out-of-order events inside the allowed lateness and rejects later ones as late', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const [r] = await store.applyOps([
          batch(tag, [sample(1, T0 + 10 * MIN, 1), sample(2, T0 + 9 * MIN, 2), sample(3, T0 + 8 * MIN - 1, 3)]),
        ]);
        expect(r!.statuses).toEqual(['applied', 'applied', 'late']);
        expect(r!.snapshots[0]).toMatchObject({ count: 2, sum: 3, watermark: T0 + 10 * MIN });
      }));

    it('reports each bucket close with the window as it stood, at the end of the closed bucket', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const noCurrent = (ops: StateOp[]): TagBatch => ({ ...batch(tag, ops), readCurrent: false });
        const [r] = await store.applyOps([noCurrent([sample(1, T0 + 1000, 1), sample(2, T0 + 2000, 3), sample(3, T0 + MIN, 10), sample(4, T0 + 30_000, 5)])]);
        expect(r!.snapshots).toEqual([]);
        expect(r!.closes).toHaveLength(1);
        expect(r!.closes[0]).toMatchObject({ cpi: 'wait', at: T0 + MIN, watermark: T0 + 2000, count: 2, sum: 4, min: 1, max: 3 });
        await store.saveRuleStates([{ tag, states: {} }]);
        const [r2] = await store.applyOps([noCurrent([sample(5, T0 + 5 * MIN, 1)])]);
        expect(r2!.closes).toHaveLength(1);
        expect(r2!.closes[0]).toMatchObject({ at: T0 + 2 * MIN, watermark: T0 + MIN, count: 4, sum: 19 });
      }));

    it('returns closes again, first, until their rule states are saved (a crash in between loses none)', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const ops = [sample(1, T0 + 1000, 1), sample(2, T0 + MIN, 10)];
        const [r] = await store.applyOps([batch(tag, ops)]);
        expect(r!.closes).toHaveLength(1);
        // the process died before saving rule states: the redelivered batch closes nothing itself
        const [again] = await store.applyOps([batch(tag, [...ops, sample(3, T0 + 2 * MIN, 5)])]);
        expect(again!.statuses).toEqual(['duplicate', 'duplicate', 'applied']);
        expect(again!.closes.map((c) => c.at)).toEqual([T0 + MIN, T0 + 2 * MIN]);
        expect(again!.closes[0]).toEqual(r!.closes[0]);
        await store.saveRuleStates([{ tag, states: { r1: { status: 'pending', since: T0 + 2 * MIN, episode: null, version: 'v1' } } }]);
        const [after] = await store.applyOps([batch(tag, [])]);
        expect(after!.closes).toEqual([]);
        expect(after!.ruleStates.r1).toMatchObject({ status: 'pending' });
      }));

    it('answers a call of facts alone without closes or rule states, and keeps its journal of closes for the next window op', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const ops = [sample(1, T0 + 1000, 1), sample(2, T0 + MIN, 10)];
        await store.saveRuleStates([{ tag, states: { r1: { status: 'firing', since: T0, episode: T0, version: 'v1' } } }]);
        const [r] = await store.applyOps([batch(tag, ops)]);
        expect(r!.closes).toHaveLength(1);
        // died before the save; the redelivery's first batch for this entity holds only facts
        const fact = (offset: number, time: number, facts: Record<string, string>): StateOp => ({ kind: 'fact', offset, time, facts });
        const factsOnly = (ops: StateOp[]): TagBatch => ({ tag, source: 'events:0', ops, cpis: [] });
        const [facts] = await store.applyOps([factsOnly([fact(3, T0, { tier: 'gold' }), fact(3, T0, { tier: 'gold' }), fact(4, T0 - 1, { tier: 'bronze' }), fact(5, T0 + 5, {})])]);
        expect(facts).toMatchObject({ statuses: ['applied', 'applied', 'late', 'applied'], closes: [], ruleStates: {}, snapshots: [] });
        const [again] = await store.applyOps([factsOnly([fact(3, T0, { tier: 'gold' }), fact(6, T0 + 4, { tier: 'silver' })])]);
        expect(again!.statuses).toEqual(['duplicate', 'late']);
        expect(await store.readFacts([tag])).toEqual([{ tier: 'gold' }]);
        const [next] = await store.applyOps([batch(tag, [...ops, sample(7, T0 + MIN + 1, 3)])]);
        expect(next!.statuses).toEqual(['duplicate', 'duplicate', 'applied']);
        expect(next!.closes).toEqual(r!.closes);
        expect(next!.ruleStates.r1).toMatchObject({ status: 'firing' });
      }));

    it('is idempotent per source offset: a redelivered batch changes nothing', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const ops = [sample(10, T0, 5), sample(11, T0 + 1000, 7)];
        await store.applyOps([batch(tag, ops)]);
        const [again] = await store.applyOps([batch(tag, [...ops, sample(12, T0 + 2000, 1)])]);
        expect(again!.statuses).toEqual(['duplicate', 'duplicate', 'applied']);
        expect(again!.snapshots[0]).toMatchObject({ count: 3, sum: 13 });
        const [other] = await store.applyOps([batch(tag, [sample(10, T0 + 3000, 1)], [WAIT], 'events:1')]);
        expect(other!.statuses).toEqual(['applied']);
      }));

    it('keeps ratio numerators and denominators', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const ops: StateOp[] = [1, 0, 0, 1, 0].map((n, i) => ({ kind: 'count', cpi: 'damage', offset: i + 1, time: T0 + i * 1000, num: n as 0 | 1, den: 1 }));
        const [r] = await store.applyOps([batch(tag, ops, [DAMAGE])]);
        expect(r!.snapshots[0]).toMatchObject({ num: 2, den: 5, count: 0 });
      }));

    it('joins correlated starts and ends in either order into duration samples', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const ops: StateOp[] = [
          { kind: 'start', cpi: 'wait', key: 'o1', offset: 1, time: T0, divisorMs: 300_000, maxPendingMs: 60 * MIN },
          { kind: 'end', cpi: 'wait', key: 'o2', offset: 2, time: T0 + 4 * MIN, maxPendingMs: 60 * MIN },
          { kind: 'end', cpi: 'wait', key: 'o1', offset: 3, time: T0 + 6 * MIN, maxPendingMs: 60 * MIN },
          { kind: 'start', cpi: 'wait', key: 'o2', offset: 4, time: T0 + MIN, divisorMs: 1000, maxPendingMs: 60 * MIN },
          { kind: 'end', cpi: 'wait', key: 'nobody', offset: 5, time: T0 + 7 * MIN, maxPendingMs: 60 * MIN },
          { kind: 'end', cpi: 'wait', key: 'o1', offset: 6, time: T0 + 8 * MIN, maxPendingMs: 60 * MIN },
        ];
        const [r] = await store.applyOps([batch(tag, ops)]);
        expect(r!.statuses).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'applied']);
        expect(r!.samples).toEqual({ 2: 1.2, 3: 180 });
        expect(r!.snapshots[0]).toMatchObject({ count: 2, min: 1.2, max: 180 });
        const [r2] = await store.applyOps([
          batch(tag, [{ kind: 'end', cpi: 'wait', key: 'nobody', offset: 7, time: T0 + 8 * MIN, maxPendingMs: 60 * MIN }]),
        ]);
        expect(r2!.statuses).toEqual(['unmatched']);
      }));

    it('takes the expected duration from the scope\'s facts when the start has none', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const start = (offset: number, key: string, fallback?: number): StateOp => ({
          kind: 'start', cpi: 'wait', key, offset, time: T0 + offset, divisorMs: null, divisorFact: 'promisedWaitSeconds',
          ...(fallback ? { fallbackDivisorMs: fallback } : {}), maxPendingMs: 60 * MIN,
        });
        const end = (offset: number, key: string): StateOp => ({ kind: 'end', cpi: 'wait', key, offset, time: T0 + 10 * MIN + offset, maxPendingMs: 60 * MIN });
        const [r] = await store.applyOps([batch(tag, [start(1, 'a'), start(2, 'b', 300_000)])]);
        expect(r!.statuses).toEqual(['unmatched', 'applied']);
        const [r2] = await store.applyOps([batch(tag, [
          { kind: 'fact', offset: 3, time: T0, facts: { promisedWaitSeconds: 600 } }, start(4, 'c', 300_000), end(5, 'b'), end(6, 'c'),
        ])]);
        expect(r2!.statuses).toEqual(['applied', 'applied', 'applied', 'applied']);
        expect(Object.values(r2!.samples).map((v) => Number(v.toFixed(3)))).toEqual([2, 1]);
      }));

    it('drops a duration whose end came later than maxPending', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        const [r] = await store.applyOps([
          batch(tag, [
            { kind: 'start', cpi: 'wait', key: 'o1', offset: 1, time: T0, divisorMs: 1000, maxPendingMs: 10 * MIN },
            { kind: 'end', cpi: 'wait', key: 'o1', offset: 2, time: T0 + 11 * MIN, maxPendingMs: 10 * MIN },
          ]),
        ]);
        expect(r!.statuses).toEqual(['applied', 'unmatched']);
        expect(r!.snapshots).toEqual([]);
        expect(r!.closes).toEqual([]);
      }));

    it('keeps the newest facts, en-route customers and contributors', () =>
      withStore(async (store) => {
        const store1 = uniqueTag();
        const cust = `customerId=${store1}`;
        const [facts, route] = await store.applyOps([
          batch(cust, [
            { kind: 'fact', offset: 1, time: T0 + 10, facts: { valueTier: 'gold', lifetimeValue: 1200 } },
            { kind: 'fact', offset: 2, time: T0, facts: { valueTier: 'bronze' } },
          ], []),
          batch(store1, [
            { kind: 'enroute', offset: 3, time: T0, customer: 'c1', etaMs: 600_000, keepMs: 60 * MIN },
            { kind: 'enroute', offset: 4, time: T0 + MIN, customer: 'c2', etaMs: 60_000, keepMs: 60 * MIN },
            { kind: 'contrib', offset: 5, time: T0 + MIN, customer: 'c3', cpi: 'wait', keepMs: 60 * MIN },
          ], []),
        ]);
        expect(facts!.statuses).toEqual(['applied', 'late']);
        expect(route!.statuses).toEqual(['applied', 'applied', 'applied']);
        expect(await store.readFacts([cust, `customerId=nobody-${store1}`])).toEqual([{ valueTier: 'gold', lifetimeValue: 1200 }, null]);
        const [enRoute, recent, contrib] = await store.readAudience([
          { tag: store1, kind: 'enroute', since: T0, until: T0 + MIN },
          { tag: store1, kind: 'enroute', since: T0 + 1, until: T0 + 2 * MIN },
          { tag: store1, kind: 'contrib', cpi: 'wait', since: T0, until: T0 + MIN },
        ]);
        expect(enRoute).toEqual([{ customer: 'c1', time: T0, etaMs: 600_000 }, { customer: 'c2', time: T0 + MIN, etaMs: 60_000 }]);
        expect(recent!.map((m) => m.customer)).toEqual(['c2']);
        expect(contrib).toEqual([{ customer: 'c3', time: T0 + MIN }]);
      }));

    it('saves and returns rule states with the next batch', () =>
      withStore(async (store) => {
        const tag = uniqueTag();
        await store.saveRuleStates([{ tag, states: { r1: { status: 'firing', since: T0, episode: T0, version: 'v1' }, r2: { status: 'pending', since: T0, episode: null, version: 'v1' } } }]);
        await store.saveRuleStates([{ tag, states: { r2: null } }]);
        const [r] = await store.applyOps([batch(tag, [sample(1, T0, 1)])]);
        expect(r!.ruleStates).toEqual({ r1: { status: 'firing', since: T0, episode: T0, version: 'v1' } });
      }));

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
  });
}
