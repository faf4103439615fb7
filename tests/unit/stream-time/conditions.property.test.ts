// Rules over several CPIs and trends against earlier closes give the same evaluations and decisions
// whatever the batching and however the events are disordered within the allowed lateness: the
// conditions of a rule read final steps of every CPI (their close group waits for the largest
// lateness), and the recorded values a trend reads are those of final closes.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { compileRuleSources } from '../../../src/rules/load.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { localRun, type LocalRun } from '../../support/local-run.js';

// the rules of the rule test fixture, and one rule of each other kind: any, and a trend against the previous window
const MORE = `
rules:
  - id: slow-or-crowded
    when:
      any:
        - { cpi: wait-vs-promise, aggregate: p90, threshold: { above: 1.5, clear: 1.2 }, minSamples: 5 }
        - { cpi: heading-in, aggregate: count, threshold: { above: 6, clear: 3 } }
    for: 2m
    target: { enRoute: { within: 45m } }
    offer: { kind: drink, code: ANY-DRINK, title: A drink on us, expiresAfter: 2h }
  - id: worse-than-before
    cpi: wait-vs-promise
    aggregate: avg
    compare: { to: previousWindow, as: difference, minSamples: 3 }
    threshold: { above: 0.2 }
    minSamples: 3
    target: { enRoute: { within: 45m } }
    offer: { kind: drink, code: PREV-DRINK, title: A drink on us, expiresAfter: 2h }
  - id: tiered
    cpi: wait-vs-promise
    aggregate: p90
    threshold: { above: 1.8, clear: 1.4, tiers: [{ when: { valueTier: { in: [gold, platinum] } }, above: 1.3, clear: 1.1 }, { when: { valueTier: silver }, above: 1.5 }] }
    minSamples: 5
    target: { enRoute: { within: 45m } }
    offer: { kind: drink, code: TIER-DRINK, title: A drink on us, expiresAfter: 2h }
`;

describe('conditions over several CPIs and trends, batched and disordered', () => {
  let ruleSet: RuleSet;
  let sorted: { time: number; enRoute: boolean; message: RawMessage }[];
  let want: LocalRun;

  beforeAll(async () => {
    const result = compileRuleSources([
      { file: 'conditions.yaml', text: readFileSync('tests/unit/rule-tests/fixtures/conditions.yaml', 'utf8') },
      { file: 'more.yaml', text: MORE },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    ruleSet = result.ruleSet;
    // a calm day, then the same hour a day later with two of the three stores slow
    const start = Date.UTC(2026, 10, 20, 15);
    const day1 = curbsideScenario({ start, seed: 3, stores: 3, busyStores: 0, minutes: 40, enRoutePerStore: 6, idPrefix: 'd1-' });
    const day2 = curbsideScenario({ start: start + 86_400_000, seed: 4, stores: 3, busyStores: 2, minutes: 40, enRoutePerStore: 6, idPrefix: 'd2-' });
    // the same stores on both days (every other id apart)
    const sameStores = day2.events.map((e) => {
      const data = e.event.data as Record<string, unknown>;
      return typeof data.storeId === 'string' ? { ...e, event: { ...e.event, data: { ...data, storeId: data.storeId.replace('d2-', 'd1-') } } } : e;
    });
    sorted = [...day1.events, ...sameStores]
      .map((e, i) => ({ time: Date.parse(e.event.time), i, enRoute: e.event.type === 'customer.en-route', message: { value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } } }))
      .sort((a, b) => a.time - b.time || a.i - b.i);
    want = await localRun(ruleSet, sorted.map((s, offset) => ({ ...s.message, origin: { ...s.message.origin, offset } })), 100);
  }, 60_000);

  it('the in-order run fires every kind of rule, and counts nothing late', () => {
    expect(want.counts.late).toBe(0);
    const fired = new Set(want.evaluations.filter((e) => e.endsWith(' fire')).map((e) => e.split(' ')[0]));
    expect([...fired].sort()).toEqual(['slow-and-busy', 'slow-or-crowded', 'slower-than-yesterday', 'tiered', 'worse-than-before']);
    expect(want.decisions.length).toBeGreaterThan(5);
    // each tier offers to its own customers: at least two tiers did
    const tiers = new Set(want.decisions.map((d) => JSON.parse(d) as { data: { rule: { id: string }; customerId: string } }).filter((d) => d.data.rule.id === 'tiered').map((d) => d.data.customerId));
    expect(tiers.size).toBeGreaterThan(1);
  });

  it('gives the same evaluations and decisions for any batching and any delay below the lateness', async () => {
    await fc.assert(fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 119_000 }), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.integer({ min: 1, max: 400 }),
      async (seed, maxDelayMs, share, batch) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        // heading-in (en-route events) allows 30 s of lateness, the waits 2 minutes: the rules over both wait for 2
        const delivered = sorted.map((e, i) => ({ ...e, i, at: e.time + (rand() < share ? Math.floor(rand() * (e.enRoute ? Math.min(maxDelayMs, 29_000) : maxDelayMs)) : 0) }))
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .map((e, offset) => ({ ...e.message, origin: { ...e.message.origin, offset } }));
        const got = await localRun(ruleSet, delivered, batch);
        expect(got.counts.late).toBe(0);
        expect(got.evaluations).toEqual(want.evaluations);
        expect(got.decisions).toEqual(want.decisions);
      },
    ), { numRuns: 10 });
  }, 240_000);
});
