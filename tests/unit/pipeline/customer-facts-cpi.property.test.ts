// A CPI counted only for some customers (`customers:`) joins the scope's events with the facts of
// customers owned by other partitions (pipeline/fact-checks.ts). Whatever the number of partitions,
// the keying, the batching and the order the owners run in, `run`'s stages decide exactly what the
// one-partition engine of backtests and rule tests decides, with tiers that change during the day.
import fc from 'fast-check';
import { mkdtemp, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../../src/pipeline/local-engine.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { runOwners, wire } from '../../support/owners-in-memory.js';

const START = Date.UTC(2026, 10, 20, 15);

describe('a CPI of some customers only, across owner partitions', () => {
  let ruleSet: RuleSet;
  let raw: RawMessage[];
  let keys: { store: string; entity: string; random: string }[];
  let want: string[];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-gold-cpi-'));
    for (const f of ['examples/rules/curbside-gold.yaml', 'rules/policy.yaml']) await copyFile(f, join(dir, basename(f)));
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    const day = mixedScenario({ start: START, seed: 5, minutes: 60, customers: 300, stores: 6 });
    // a hundred customers change tier during the day: their events before the change count by the old tier
    const changes = Array.from({ length: 100 }, (_, i) => {
      const customerId = `mix-cust-${i * 3 + 1}`;
      const time = START + 60_000 * (10 + (i % 40));
      return {
        event: { specversion: '1.0', id: `tier-${i}`, source: 'urn:test:tiers', type: 'customer.profile', time: new Date(time).toISOString(), data: { customerId, valueTier: i % 2 === 0 ? 'gold' : 'bronze' } },
        keys: { store: customerId, entity: customerId, random: `t${i}` },
      };
    });
    const all = [...day.events.map((e) => ({ event: e.event, keys: e.keys })), ...changes]
      .map((e) => ({ ...e, at: Date.parse(String((e.event as { time: unknown }).time)) || Number((e.event as { time: unknown }).time) }))
      .sort((a, b) => a.at - b.at);
    raw = all.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.keys.store), origin: { topic: 'e', partition: 0, offset: i } }));
    keys = all.map((e) => e.keys);
    const engine = new LocalEngine(ruleSet, new MemoryStore());
    want = wire([...(await engine.process(raw)).decisions, ...(await engine.finish()).decisions]);
  });

  it('fires on the gold customers\' own waits, and offers only customers who were gold or platinum while they waited', async () => {
    const offered = want.map((w) => JSON.parse(w) as { data: { customerId: string; outcome: string; trigger: { episodeStartedAt: string } } })
      .filter((d) => d.data.outcome === 'offered');
    expect(offered.length).toBeGreaterThan(5);
    const engine = new LocalEngine(ruleSet, new MemoryStore());
    await engine.process(raw);
    // a contributor waited within the 30 minutes before the episode began (or joined while it ran)
    const tierWhile = (customerId: string, until: number) => {
      const facts = engine.task.entities.get(`customerId=${customerId}`)!.facts;
      return Array.from({ length: 61 }, (_, m) => facts.at(until - 30 * 60_000 + m * 60_000)?.valueTier);
    };
    for (const d of offered) {
      expect(tierWhile(d.data.customerId, Date.parse(d.data.trigger.episodeStartedAt)).some((t) => t === 'gold' || t === 'platinum')).toBe(true);
    }
    // and some customers who were bronze or silver all along waited at the same stores, unoffered
    const never = new Set([...engine.task.entities.keys()].filter((t) => t.startsWith('customerId=') && !tierWhile(t.slice(11), START + 2 * 3_600_000).some((x) => x === 'gold' || x === 'platinum')));
    expect(never.size).toBeGreaterThan(50);
    expect(offered.filter((d) => never.has(`customerId=${d.data.customerId}`))).toEqual([]);
  });

  it('decides the same in any number of partitions, keying, batching and order of the owners', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 2, max: 6 }), fc.constantFrom('store', 'entity', 'random'), fc.integer(), fc.integer({ min: 20, max: 2000 }), fc.integer({ min: 1, max: 200 }),
      async (partitions, keying, seed, routeMax, ownerMax) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const hash = (text: string) => { let h = 0; for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0; return h % partitions; };
        const got = await runOwners(ruleSet, raw, {
          partitions,
          sourceOf: (_m, i) => hash(keys[i]![keying as 'store' | 'entity' | 'random']),
          routeBatch: () => 1 + Math.floor(rand() * routeMax),
          ownerBatch: () => 1 + Math.floor(rand() * ownerMax),
          pick: (ready) => ready[Math.floor(rand() * ready.length)]!,
        });
        expect(wire(got)).toEqual(want);
      },
    ), { numRuns: 12 });
  }, 240_000);

  it('decides the same when the owner partitions run their batches side by side (one reads another\'s state while its facts are being read)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.constantFrom('store', 'entity', 'random'), fc.integer(), fc.integer({ min: 20, max: 2000 }), fc.integer({ min: 1, max: 200 }),
      async (partitions, keying, seed, routeMax, ownerMax) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const hash = (text: string) => { let h = 0; for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0; return h % partitions; };
        const got = await runOwners(ruleSet, raw, {
          partitions, concurrent: true,
          sourceOf: (_m, i) => hash(keys[i]![keying as 'store' | 'entity' | 'random']),
          routeBatch: () => 1 + Math.floor(rand() * routeMax),
          ownerBatch: () => 1 + Math.floor(rand() * ownerMax),
          pick: (ready) => ready[0]!,
        });
        expect(wire(got)).toEqual(want);
      },
    ), { numRuns: 12 });
  }, 240_000);

  it('decides the same when the owners restart from their persisted state while observations wait for facts', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer(), fc.integer({ min: 1, max: 30 }), async (partitions, seed, restartEvery) => {
      let s = seed >>> 0;
      const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const got = await runOwners(ruleSet, raw, {
        partitions, restartEvery,
        sourceOf: () => Math.floor(rand() * partitions),
        routeBatch: () => 1 + Math.floor(rand() * 500),
        ownerBatch: () => 1 + Math.floor(rand() * 100),
        pick: (ready) => ready[Math.floor(rand() * ready.length)]!,
      });
      expect(wire(got)).toEqual(want);
    }), { numRuns: 8 });
  }, 240_000);
});
