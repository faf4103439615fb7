/**
 * Hostile input through both stages of `run` (decode -> ops -> owner: windows -> rules -> guardrails
 * -> ledger), in memory, with the example rules: whatever arrives, no batch
 * throws, and every consumed message ends up counted exactly once as applied, late, duplicate,
 * unmatched or dead-lettered, with a CPW2xx code and a reason for each dead letter.
 *
 * Inputs mix well-formed curbside events (so windows fill and rules fire) with: malformed JSON,
 * wrong JSON types, missing and extra fields, huge values and payloads, deep nesting, timestamps
 * far in the past or future, repeated ids and redelivered offsets, odd Unicode (lone surrogates,
 * NUL, RTL marks, astral characters) in ids and keys, binary-mode headers and raw bytes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors/codes.js';
import { decodeEvent } from '../../../src/events/decode.js';
import { EXAMPLE_EVENTS } from '../../../src/events/examples.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import type { BatchResult, RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { FUZZ_NOW, hostileMessage as message, scenarioMessages } from '../../support/hostile-events.js';
import { OnePartitionStages } from '../../support/one-partition-stages.js';

const NOW = FUZZ_NOW; // the pipeline's wall clock
const START = NOW - 30 * 60_000;
const LIMITS = { maxBytes: 64 * 1024 };
const RUNS = Number(process.env.CPIWATCH_FUZZ_RUNS ?? 60);
const EVENT_CODES = new Set(Object.values(ErrorCodes).map((e) => e.code as string).filter((c) => c.startsWith('CPW2')));

let rules: RuleSet;
beforeAll(async () => {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  rules = loaded.ruleSet;
});

// ---------------------------------------------------------------------------------------------
// The property

function checkCounts(result: BatchResult, consumed: number, sink: CollectingSink, dlBefore: number): void {
  const c = result.counts;
  expect(c.consumed).toBe(consumed);
  expect(c.applied + c.late + c.duplicate + c.unmatched + c.deadLettered).toBe(consumed);
  for (const n of Object.values(c)) expect(Number.isInteger(n) && n >= 0).toBe(true);
  expect(result.deadLetters.length).toBe(c.deadLettered);
  expect(sink.deadLetters.length - dlBefore).toBe(c.deadLettered);
  for (const dl of result.deadLetters) {
    expect(EVENT_CODES).toContain(dl.code);
    expect(dl.reason.length).toBeGreaterThan(0);
  }
}

describe('hostile events through both stages (in memory, example rules)', () => {
  it('never throws; every input is applied, late, duplicate, unmatched or dead-lettered, and the counts add up', async () => {
    const base = scenarioMessages();
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { minLength: 20, maxLength: 300, size: 'max' }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (fuzz, batchSize, seed) => {
          const sink = new CollectingSink();
          const stages = new OnePartitionStages(rules, { clock: () => NOW, maxBytes: LIMITS.maxBytes });
          // interleave: the scenario in order, fuzz spliced in at seeded places
          const all: RawMessage[] = [];
          let f = 0;
          let r = seed;
          for (const m of base) {
            r = (Math.imul(r, 1103515245) + 12345) >>> 0;
            if (f < fuzz.length && r % 3 === 0) all.push({ ...fuzz[f++]!, origin: { topic: 'events', partition: 0, offset: all.length } });
            all.push({ ...m, origin: { topic: 'events', partition: 0, offset: all.length } });
          }
          while (f < fuzz.length) all.push({ ...fuzz[f++]!, origin: { topic: 'events', partition: 0, offset: all.length } });

          const totals = { consumed: 0, applied: 0, late: 0, duplicate: 0, unmatched: 0, deadLettered: 0 };
          for (let i = 0; i < all.length; i += batchSize) {
            const batch = all.slice(i, i + batchSize);
            const dlBefore = sink.deadLetters.length;
            const result = await stages.step(batch, sink);
            checkCounts(result, batch.length, sink, dlBefore);
            for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result.counts[k];
          }
          expect(totals.consumed).toBe(all.length);

          // a redelivery of everything the owner read (same offsets) applies nothing twice and publishes
          // nothing new (the routing stage's output is exactly once by its Kafka transaction)
          const offersBefore = sink.offers.length;
          const decisionsBefore = sink.decisions.length;
          for (const result of await stages.redeliverOwner(sink, batchSize)) {
            expect(result.counts.applied + result.counts.late + result.counts.unmatched).toBe(0);
            expect(result.published).toEqual([]);
          }
          expect(sink.offers.length).toBe(offersBefore);
          expect(sink.decisions.length).toBe(decisionsBefore);
          // no offer id published twice, whatever came in
          const ids = sink.decisions.map((d) => d.offerId);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.CPIWATCH_FUZZ_SEED ?? 20260515) },
    );
  }, 120_000);

  it('the well-formed part still gets its offers when hostile events are mixed in', async () => {
    const base = scenarioMessages();
    const clean = new CollectingSink();
    await new OnePartitionStages(rules, { clock: () => NOW, maxBytes: LIMITS.maxBytes }).step(base.map((m, i) => ({ ...m, origin: { topic: 'events', partition: 0, offset: i } })), clean);
    expect(clean.offers.length).toBeGreaterThan(0);

    // hostile messages that cannot touch the scenario's stores or customers (other ids), every third
    // slot; of the valid ones, only those dated by the scenario's start: a valid event dated later
    // moves stream time for every entity (time is the stream's), and the scenario's events behind it
    // would be late
    const hostile = fc.sample(message, { numRuns: base.length * 3, seed: 7 }).map((m) => ({
      ...m, value: m.value && Buffer.from(m.value.toString('latin1').replace(/\bfz-/g, 'zz-'), 'latin1'),
    })).filter((m) => {
      const d = decodeEvent(m, LIMITS);
      return !d.ok || d.event.time <= START;
    });
    const mixed: RawMessage[] = [];
    base.forEach((m, i) => {
      if (i % 3 === 0) mixed.push({ ...hostile[i]!, origin: { topic: 'events', partition: 0, offset: mixed.length } });
      mixed.push({ ...m, origin: { topic: 'events', partition: 0, offset: mixed.length } });
    });
    const sink = new CollectingSink();
    const stages = new OnePartitionStages(rules, { clock: () => NOW, maxBytes: LIMITS.maxBytes });
    for (let i = 0; i < mixed.length; i += 37) await stages.step(mixed.slice(i, i + 37), sink);
    const scenarioOffers = (s: CollectingSink) => s.offers.filter((d) => d.customerId.startsWith('fz-')).map((d) => d.offerId).sort();
    expect(scenarioOffers(sink)).toEqual(scenarioOffers(clean));
  });

  it('dead-letters huge, deep, far-future and malformed events with the right codes, and applies far-past ones as late', async () => {
    const sink = new CollectingSink();
    const stages = new OnePartitionStages(rules, { clock: () => NOW });
    const ev = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => {
      const e = EXAMPLE_EVENTS['curbside.arrived'];
      return Buffer.from(JSON.stringify({ ...e, time: new Date(NOW - 60_000).toISOString(), ...over, data: { ...e.data, ...data } }));
    };
    const cases: [string, Buffer | null, string | 'ok'][] = [
      ['2 MiB payload', ev({}, { blob: 'x'.repeat(2 * 1024 * 1024) }), 'CPW204'],
      ['100k-deep nesting', Buffer.from(`{"specversion":"1.0","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), 'CPW207'],
      ['truncated JSON', ev().subarray(0, 40), 'CPW200'],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'CPW200'],
      ['JSON array', Buffer.from('[1,2,3]'), 'CPW201'],
      ['__proto__ key', Buffer.from(ev().toString().replace('"spot"', '"__proto__"')), 'CPW209'],
      ['future time', ev({ time: new Date(NOW + 3_600_000).toISOString() }), 'CPW205'],
      ['time is a number', ev({ time: NOW }), 'CPW205'],
      ['unknown type', ev({ type: 'curbside.exploded' }), 'CPW202'],
      ['storeId a number', ev({}, { storeId: 42 }), 'CPW203'],
      ['1e400 in an open field', Buffer.from(ev().toString().replace('"B4"', '1e400')), 'CPW203'],
      ['null value', null, 'CPW200'],
      ['far past time', ev({ time: '0001-01-01T00:00:00Z' }), 'ok'],
    ];
    const messages: RawMessage[] = cases.map(([, value], i) => ({ value, origin: { topic: 'events', partition: 0, offset: i } }));
    const t0 = performance.now();
    const result = await stages.step(messages, sink);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(result.counts.consumed).toBe(cases.length);
    const byOffset = new Map(result.deadLetters.map((d) => [d.message.origin.offset, d.code]));
    cases.forEach(([what, , code], i) => {
      expect({ what, code: byOffset.get(i) ?? 'ok' }).toEqual({ what, code });
    });
  });
});
