// Several owner partitions, each deciding on its own: the routing and owner stages of `run` (the
// real RouteStage and OwnerStage, with in-memory state, ledger and decision frontier) over 1-4
// partitions, with random keying, batch sizes and an arbitrary order in which the owners get to
// run. Whatever the order, a customer's candidates from several owners are decided in event-time
// order (pipeline/decision-frontier.ts), so the decisions are exactly the in-order pass's.
import fc from 'fast-check';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../../src/pipeline/local-engine.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { exampleRules } from '../../support/processor.js';
import { runOwners, wire } from '../../support/owners-in-memory.js';
import { scenarioEvents, writeScenarioRules } from '../../integration/rules/scenario.js';

describe('decisions of several owner partitions', () => {
  let ruleSet: RuleSet;
  let messages: RawMessage[];
  let expected: string[];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-owners-'));
    await writeScenarioRules(dir);
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    messages = scenarioEvents('op').map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'e', partition: 0, offset: i } }));
    const engine = new LocalEngine(ruleSet, new MemoryStore());
    expected = wire([...(await engine.process(messages)).decisions, ...(await engine.finish()).decisions]);
  });

  it('do not depend on the number of partitions, the keying, the batching or the order the owners run in', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.integer(), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 6 }),
      async (partitions, byKey, seed, routeMax, ownerMax) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const hash = (text: string) => { let h = 0; for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0; return h % partitions; };
        const got = await runOwners(ruleSet, messages, {
          partitions,
          sourceOf: byKey ? (m) => hash(String(m.key)) : () => Math.floor(rand() * partitions),
          routeBatch: () => 1 + Math.floor(rand() * routeMax),
          ownerBatch: () => 1 + Math.floor(rand() * ownerMax),
          pick: (ready) => ready[Math.floor(rand() * ready.length)]!,
        });
        expect(wire(got)).toEqual(expected);
      },
    ), { numRuns: 40 });
  }, 240_000);

  it('on a curbside day delivered out of order, with duplicates: any keying into 6 partitions, any batching and order of the owners', async () => {
    const rules = await exampleRules();
    // delivered out of order within the lateness (up to 45 s late, 2 min allowed) and with duplicates:
    // closes wait for the lateness, so no interleaving of the partitions changes what a close sees
    const day = mixedScenario({ start: Date.UTC(2026, 10, 20, 15), seed: 11, minutes: 90, customers: 1000 });
    const raw = day.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.keys.store), origin: { topic: 'e', partition: 0, offset: i } }));
    const engine = new LocalEngine(rules, new MemoryStore());
    const want = wire([...(await engine.process(raw)).decisions, ...(await engine.finish()).decisions]);
    expect(want.length).toBeGreaterThan(20);
    await fc.assert(fc.asyncProperty(fc.constantFrom('store', 'entity', 'random') , fc.integer(), fc.integer({ min: 50, max: 3000 }), fc.integer({ min: 1, max: 400 }),
      async (keying, seed, routeMax, ownerMax) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const hash = (text: string) => { let h = 0; for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0; return h % 6; };
        const got = await runOwners(rules, raw, {
          partitions: 6,
          sourceOf: (_m, i) => hash(day.events[i]!.keys[keying as 'store' | 'entity' | 'random']),
          routeBatch: () => 1 + Math.floor(rand() * routeMax),
          ownerBatch: () => 1 + Math.floor(rand() * ownerMax),
          pick: (ready) => ready[Math.floor(rand() * ready.length)]!,
        });
        expect(wire(got)).toEqual(want);
      },
    ), { numRuns: 6 });
  }, 240_000);
});
