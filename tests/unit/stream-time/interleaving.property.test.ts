// Stream time makes the decisions a property of the events, not of how they reached the owner:
// whatever the keying (which input partition each event took), the batch sizes of each stage and
// the interleaving of the partitions at the owner, every run takes exactly the decisions of one
// in-order pass over all the events (the backtest's), with every guardrail in play.
import fc from 'fast-check';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decisionEventOf } from '../../../src/actions/offer-event.js';
import type { Decision } from '../../../src/actions/decision.js';
import { LocalEngine } from '../../../src/pipeline/local-engine.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';
import { scenarioEvents, writeScenarioRules } from '../../integration/rules/scenario.js';
import { runMultiSource } from '../../support/stream-engine.js';

const wire = (ds: Decision[]) => ds.map((d) => JSON.stringify(decisionEventOf(d))).sort();

describe('decisions do not depend on keying, batching or interleaving', () => {
  let ruleSet: RuleSet;
  let messages: RawMessage[];
  let expected: string[];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-interleave-'));
    await writeScenarioRules(dir);
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    messages = scenarioEvents('il').map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'e', partition: 0, offset: i } }));
    const engine = new LocalEngine(ruleSet, new MemoryStore());
    const all = [...(await engine.process(messages)).decisions, ...(await engine.finish()).decisions];
    expected = wire(all);
  });

  it('the in-order pass has every guardrail in play', () => {
    const reasons = new Set(expected.map((d) => (JSON.parse(d) as { data: { reason?: string } }).data.reason ?? 'offered'));
    expect([...reasons].sort()).toEqual(['budget', 'cooldown', 'customer-cooldown', 'holdout', 'kill-switch', 'offered', 'quiet-hours']);
  });

  it('gives the same decisions for any keying into 1-6 partitions, any batch sizes and any interleaving', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 2 }), fc.integer(), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 8 }),
      async (sources, keying, seed, routeMax, ownerMax) => {
        let s = seed >>> 0;
        const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const byKey = (m: RawMessage) => { let h = 0; for (const c of String(m.key)) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0; return h % sources; };
        const byId = (m: RawMessage) => { const id = (JSON.parse(String(m.value)) as { id: string }).id; let h = 7; for (const c of id) h = (Math.imul(h, 33) + c.charCodeAt(0)) >>> 0; return h % sources; };
        const got = await runMultiSource(ruleSet, messages, {
          sources,
          sourceOf: keying === 0 ? byKey : keying === 1 ? byId : () => Math.floor(rand() * sources),
          routeBatch: () => 1 + Math.floor(rand() * routeMax),
          ownerBatch: () => 1 + Math.floor(rand() * ownerMax),
          pick: (ready) => ready[Math.floor(rand() * ready.length)]!,
        });
        expect(wire(got)).toEqual(expected);
      },
    ), { numRuns: 25 });
  }, 120_000);
});
