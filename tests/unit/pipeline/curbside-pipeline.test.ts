import { describe, expect, it } from 'vitest';
import { isHeldOut } from '../../../src/guardrails/stateless.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { MemoryStore } from '../../../src/store/memory/memory-store.js';

const START = Date.UTC(2026, 10, 23, 18, 0, 0); // 12:00 in Chicago: outside quiet hours

async function exampleRules(): Promise<RuleSet> {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.ruleSet;
}

function messagesOf(events: ReturnType<typeof curbsideScenario>['events']): RawMessage[] {
  return events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'events', partition: 0, offset: i } }));
}

async function run(pipeline: Pipeline, messages: RawMessage[], batchSize: number) {
  for (let i = 0; i < messages.length; i += batchSize) await pipeline.processBatch(messages.slice(i, i + batchSize), 'events:0');
}

describe('curbside flash offer through the pipeline (in-memory store)', () => {
  it('offers a drink to exactly the high-value customers en route to the slow store, minus the holdout', async () => {
    const scenario = curbsideScenario({ start: START, seed: 7, enRoutePerStore: 16 });
    const sink = new CollectingSink();
    const pipeline = new Pipeline({ store: new MemoryStore(), sink, clock: () => Number.MAX_SAFE_INTEGER }, await exampleRules());
    await run(pipeline, messagesOf(scenario.events), 97);

    const busy = scenario.stores.find((s) => s.busy)!.storeId;
    const highValueToBusy = scenario.enRoute.filter((c) => c.storeId === busy && (c.valueTier === 'gold' || c.valueTier === 'platinum'));
    const expectOffered = highValueToBusy.filter((c) => !isHeldOut('curbside-flash-drink', c.customerId, 10)).map((c) => c.customerId).sort();
    const expectHeldOut = highValueToBusy.filter((c) => isHeldOut('curbside-flash-drink', c.customerId, 10)).map((c) => c.customerId).sort();

    expect(sink.deadLetters).toEqual([]);
    expect(sink.offers.map((d) => d.customerId).sort()).toEqual(expectOffered);
    expect(sink.decisions.filter((d) => d.reason === 'holdout').map((d) => d.customerId).sort()).toEqual(expectHeldOut);
    expect(sink.decisions.every((d) => d.rule.id === 'curbside-flash-drink' && d.scopeTag === `storeId=${busy}`)).toBe(true);
    expect(sink.offers.length).toBeGreaterThanOrEqual(6);
  });

  it('gives the same decisions whatever the batch size, and none on a replay', async () => {
    const scenario = curbsideScenario({ start: START, seed: 11 });
    const rules = await exampleRules();
    const messages = messagesOf(scenario.events);
    const outcomes: string[][] = [];
    for (const size of [1, 13, 500, messages.length]) {
      const sink = new CollectingSink();
      const store = new MemoryStore();
      const pipeline = new Pipeline({ store, sink, clock: () => Number.MAX_SAFE_INTEGER }, rules);
      await run(pipeline, messages, size);
      outcomes.push(sink.decisions.map((d) => `${d.offerId} ${d.outcome} ${d.reason ?? ''} ${d.value}`).sort());
      const before = sink.decisions.length;
      await run(pipeline, messages, size);
      expect(sink.decisions.length).toBe(before);
    }
    expect(outcomes[0]!.length).toBeGreaterThan(0);
    for (const o of outcomes) expect(o).toEqual(outcomes[0]);
  });
});
