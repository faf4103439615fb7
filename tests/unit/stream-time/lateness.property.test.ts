// Allowed lateness means what it says: an event delivered out of order, but less than the CPI's
// `allowedLateness` behind the newest event time before it, counts in its step exactly as if it had
// come in order. Every rule evaluation (boundary, value, transition) and every decision of a
// disordered delivery equals those of the same events sorted by time, and none is counted late.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { localRun, type LocalRun } from '../../support/local-run.js';

describe('events out of order within the allowed lateness', () => {
  let ruleSet: RuleSet;
  let sorted: { time: number; message: RawMessage }[];
  let want: LocalRun;

  beforeAll(async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']); // allowedLateness 2m
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    const day = mixedScenario({ start: Date.UTC(2026, 10, 20, 15), seed: 5, minutes: 60, customers: 300, disorderMs: 0, duplicateRate: 0 });
    sorted = day.events.map((e, i) => ({ time: Date.parse(e.event.time), message: { value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'e', partition: 0, offset: i } } }))
      .sort((a, b) => a.time - b.time);
    want = await localRun(ruleSet, sorted.map((s) => s.message), 100);
  }, 60_000);

  it('the in-order run fires, decides and counts nothing late', () => {
    expect(want.counts.late).toBe(0);
    expect(want.evaluations.filter((e) => e.endsWith(' fire')).length).toBeGreaterThan(0);
    expect(want.decisions.length).toBeGreaterThan(5);
  });

  it('gives the same evaluations and decisions for any delay below the lateness, any share of events delayed and any batching', async () => {
    await fc.assert(fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 119_000 }), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.integer({ min: 1, max: 500 }),
      async (seed, maxDelayMs, share, batch) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        // each event delivered at its time plus a delay under maxDelayMs: never more than that behind an earlier one
        const delivered = sorted.map((e, i) => ({ ...e, i, at: e.time + (rand() < share ? Math.floor(rand() * maxDelayMs) : 0) }))
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .map((e, offset) => ({ ...e.message, origin: { ...e.message.origin, offset } }));
        const got = await localRun(ruleSet, delivered, batch);
        expect(got.counts.late).toBe(0);
        expect(got.evaluations).toEqual(want.evaluations);
        expect(got.decisions).toEqual(want.decisions);
      },
    ), { numRuns: 12 });
  }, 240_000);
});
