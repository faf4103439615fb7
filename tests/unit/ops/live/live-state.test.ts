// The live page's memory: bounded rings fed by real batch results (the curbside scenario through
// the engine), customer ids and nothing else of the customer, and the snapshot built from them.
import { describe, expect, it } from 'vitest';
import { Ring } from '../../../../src/ops/live/ring.js';
import { LiveState } from '../../../../src/ops/live/live-state.js';
import { liveSnapshot } from '../../../../src/ops/live/live-snapshot.js';
import { createReplay } from '../../../../src/pipeline/replay.js';
import type { BatchResult } from '../../../../src/pipeline/types.js';
import { loadRuleSet } from '../../../../src/rules/load.js';
import type { RuleSet } from '../../../../src/rules/compiled.js';
import { curbsideScenario } from '../../../../src/samples/curbside-scenario.js';
import { conditionsText } from '../../../../src/rules/condition-words.js';

const START = Date.UTC(2026, 10, 23, 17, 0, 0);

async function scenarioResults(): Promise<{ ruleSet: RuleSet; results: BatchResult[]; scenario: ReturnType<typeof curbsideScenario> }> {
  const loaded = await loadRuleSet(['rules']);
  if (!loaded.ok) throw new Error('rules invalid');
  const scenario = curbsideScenario({ start: START, seed: 5, stores: 3, busyStores: 2, enRoutePerStore: 12 });
  const replay = createReplay(loaded.ruleSet, { batchSize: 50 });
  const messages = scenario.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'events', partition: 0, offset: i } }));
  const results: BatchResult[] = [];
  for (let i = 0; i < messages.length; i += 50) results.push(await replay.step(messages.slice(i, i + 50)));
  results.push(await replay.finish());
  return { ruleSet: loaded.ruleSet, results, scenario };
}

describe('Ring', () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const r = new Ring<number>(3);
    expect(r.toArray()).toEqual([]);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.toArray()).toEqual([5, 6, 7]);
    expect(r.length).toBe(3);
    expect(r.last()).toBe(7);
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});

describe('LiveState', () => {
  it('stays within its bounds: points per scope, scopes per rule, decisions', async () => {
    const { results } = await scenarioResults();
    const state = new LiveState({ pointsPerScope: 5, scopesPerRule: 2, decisions: 4 });
    for (const r of results) state.record(r);
    const curbside = state.rules.get('curbside-flash-drink')!;
    expect(curbside.size).toBe(2); // 3 stores evaluated, the least recently evaluated made room
    for (const s of curbside.values()) expect(s.points.length).toBe(5);
    expect(state.decisions.length).toBe(4);
    expect(state.batches).toBe(results.length);
  });

  it('keeps customer ids, rule ids, scopes, times and reasons only: no personal data', async () => {
    const { results, scenario, ruleSet } = await scenarioResults();
    const state = new LiveState();
    for (const r of results) state.record(r);
    const decisions = state.decisions.toArray();
    expect(decisions.some((d) => d.outcome === 'offered')).toBe(true);
    expect(decisions.some((d) => d.outcome === 'suppressed' && d.reason === 'holdout')).toBe(true);
    for (const d of decisions) for (const v of Object.values(d)) expect(['string', 'number']).toContain(typeof v);
    const json = JSON.stringify(liveSnapshot(state, ruleSet, { now: START + 3_600_000 }));
    const profiles = scenario.events.filter((e) => e.event.type === 'customer.profile').map((e) => e.event.data as { name: string; email: string });
    expect(profiles.length).toBeGreaterThan(0);
    for (const p of profiles) {
      expect(json).not.toContain(p.email);
      expect(json).not.toContain(`"${p.name}"`);
    }
  });

  it('snapshot: the firing store first, with its episode, chart and budget used', async () => {
    const { results, scenario, ruleSet } = await scenarioResults();
    const state = new LiveState();
    // up to the batch in which the first store fired
    const firstFire = results.findIndex((r) => r.evaluations.some((e) => e.ruleId === 'curbside-flash-drink' && e.transition === 'fire'));
    expect(firstFire).toBeGreaterThanOrEqual(0);
    for (const r of results.slice(0, firstFire + 1)) state.record(r);
    const fire = results[firstFire]!.evaluations.find((e) => e.transition === 'fire')!;
    const snap = liveSnapshot(state, ruleSet, { now: fire.at });
    expect(snap.ruleSet).toEqual({ version: ruleSet.version, rules: ruleSet.rules.length, killSwitch: false });
    const rule = snap.rules.find((r) => r.id === 'curbside-flash-drink')!;
    const busy = scenario.stores.filter((s) => s.busy).map((s) => `storeId=${s.storeId}`);
    expect(rule.scopes[0]).toMatchObject({ status: 'firing', firingSince: fire.at });
    expect(busy).toContain(rule.scopes[0]!.scope);
    expect(rule.firing).toBeGreaterThanOrEqual(1);
    for (const s of rule.scopes) expect(s.svg).toMatch(/^<svg class="chart"/);

    // the whole scenario: budget used per store is the offers made there this hour; decisions newest first
    for (const r of results.slice(firstFire + 1)) state.record(r);
    const end = liveSnapshot(state, ruleSet, { now: fire.at + 60_000 });
    const after = end.rules.find((r) => r.id === 'curbside-flash-drink')!;
    for (const sc of after.scopes) {
      const offered = end.decisions.filter((d) => d.outcome === 'offered' && d.ruleId === rule.id && d.scope === sc.scope);
      expect(sc.budget).toEqual({ used: offered.length, max: 50, perMs: 3_600_000 });
    }
    expect(end.decisions.map((d) => d.at)).toEqual([...end.decisions.map((d) => d.at)].sort((a, b) => b - a));
  });
});

describe('the live page of rules over several CPIs, trends and tiers', () => {
  it('says each rule\'s conditions and charts tier 0', async () => {
    const loaded = await loadRuleSet(['tests/unit/rule-tests/fixtures/conditions.yaml']);
    const tiered = await loadRuleSet(['tests/unit/rule-tests/fixtures/tiers.yaml']);
    if (!loaded.ok || !tiered.ok) throw new Error('fixtures invalid');
    const scenario = curbsideScenario({ start: START, seed: 5, stores: 2, busyStores: 2, enRoutePerStore: 6 });
    const messages = scenario.events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), origin: { topic: 'events', partition: 0, offset: i } }));
    for (const ruleSet of [loaded.ruleSet, tiered.ruleSet]) {
      const state = new LiveState();
      const replay = createReplay(ruleSet, { batchSize: 50 });
      for (let i = 0; i < messages.length; i += 50) state.record(await replay.step(messages.slice(i, i + 50)));
      state.record(await replay.finish());
      const snap = liveSnapshot(state, ruleSet, { now: START + 3_600_000 });
      for (const r of snap.rules) expect(r.conditions, r.id).toBe(conditionsText(ruleSet.rules.find((x) => x.id === r.id)!));
      if (ruleSet === tiered.ruleSet) {
        // one series per scope, of tier 0: its evaluations only (one per close)
        const s = state.rules.get('tiered-drink')!;
        for (const scope of s.values()) expect(new Set(scope.points.toArray().map((p) => p.at)).size).toBe(scope.points.length);
      }
    }
    expect(conditionsText(loaded.ruleSet.rules[0]!)).toBe('all of: p90 of wait-vs-promise above 1.25 (clears at 1), with at least 5 samples; count of heading-in above 2');
  });
});
