// The processor's metrics from real batch results: the curbside scenario through the engine
// (the local engine of backtests, in memory), once with every customer profile and once with the profiles of some
// high-value customers held back, as when profiles sit on a partition processed later.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/ops/metrics.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { createReplay } from '../../../src/pipeline/replay.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { curbsideScenario, type ScenarioEvent } from '../../../src/samples/curbside-scenario.js';

const START = Date.UTC(2026, 10, 23, 18, 0, 0); // 12:00 in Chicago: outside quiet hours

async function metricsOf(events: ScenarioEvent[], rules = 'rules'): Promise<{ metrics: Metrics; offers: number; suppressed: number }> {
  const loaded = await loadRuleSet([rules]);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const sink = new CollectingSink();
  const replay = createReplay(loaded.ruleSet, { sink, batchSize: 50 });
  const metrics = new Metrics({ defaultMetrics: false });
  const messages = events.map((e, i) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key), origin: { topic: 'events', partition: 0, offset: i } }));
  await replay.feed(messages, (result) => metrics.recordBatch(result, 1));
  metrics.recordBatch(await replay.finish(), 1);
  return { metrics, offers: sink.offers.length, suppressed: sink.decisions.length - sink.offers.length };
}

async function filtered(metrics: Metrics, facts: 'missing' | 'present'): Promise<number> {
  const m = await metrics.filtered.get();
  return m.values.filter((v) => v.labels.facts === facts && v.labels.rule === 'curbside-flash-drink').reduce((a, v) => a + v.value, 0);
}

describe('metrics of the pipeline', () => {
  const scenario = curbsideScenario({ start: START, seed: 7, enRoutePerStore: 16 });
  const busy = scenario.stores.find((s) => s.busy)!.storeId;
  const toBusy = scenario.enRoute.filter((c) => c.storeId === busy);
  const regular = toBusy.filter((c) => c.valueTier !== 'gold' && c.valueTier !== 'platinum');
  const highValue = toBusy.filter((c) => c.valueTier === 'gold' || c.valueTier === 'platinum');

  it('counts each decision once: offered as an offer, suppressed under its reason', async () => {
    const { metrics, offers, suppressed } = await metricsOf(scenario.events);
    const total = async (c: { get(): Promise<{ values: { value: number }[] }> }) => (await c.get()).values.reduce((a, v) => a + v.value, 0);
    expect(suppressed).toBeGreaterThan(0);
    expect(await total(metrics.offers)).toBe(offers);
    expect(await total(metrics.suppressed)).toBe(suppressed);
  });

  it('counts the events a CPI with customers: counted and left out, per CPI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-metrics-gold-'));
    cpSync('rules', dir, { recursive: true });
    cpSync('examples/rules/curbside-gold.yaml', join(dir, 'curbside-gold.yaml'));
    const { metrics } = await metricsOf(scenario.events, dir);
    rmSync(dir, { recursive: true, force: true });
    const values = (await metrics.customerChecks.get()).values.filter((v) => v.labels.cpi === 'gold-curbside-wait');
    const of = (outcome: string) => values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    // both halves of every curbside order name the customer: two checks per order, by the customer's tier
    const orders = scenario.events.filter((e) => e.event.type === 'curbside.arrived').length;
    expect(of('counted') + of('left_out')).toBe(2 * orders);
    expect(of('counted')).toBeGreaterThan(0);
    expect(of('left_out')).toBeGreaterThan(0);
  });

  it('counts the candidates the filter left out, with their facts present', async () => {
    const { metrics, offers } = await metricsOf(scenario.events);
    expect(offers).toBeGreaterThan(0);
    expect(regular.length).toBeGreaterThan(0);
    expect(await filtered(metrics, 'present')).toBe(regular.length);
    expect(await filtered(metrics, 'missing')).toBe(0);
    const applied = (await metrics.events.get()).values.find((v) => v.labels.outcome === 'applied')?.value;
    expect(applied).toBe(scenario.events.length);
  });

  it('counts every offer whose template failed to render, per rule (the offer still published)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-metrics-texts-'));
    try {
      cpSync('rules', dir, { recursive: true });
      const curbside = join(dir, 'curbside.yaml');
      writeFileSync(curbside, readFileSync(curbside, 'utf8').replace('      code: CURBSIDE-DRINK\n', '      code: CURBSIDE-DRINK\n      template: drink-texts\n'));
      // a computed key the store's facts do not have: an error at render time, not in validate
      writeFileSync(join(dir, 'templates', 'drink-texts.liquid'), '--- title\nA drink at {{ store[trigger.cpi] }}\n');
      const { metrics, offers } = await metricsOf(scenario.events, dir);
      expect(offers).toBeGreaterThan(0);
      const counted = (await metrics.offerTextFallbacks.get()).values;
      expect(counted.map((v) => [v.labels.rule, v.value])).toEqual([['curbside-flash-drink', offers]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts candidates without a profile yet as facts="missing", and they get no offer', async () => {
    const late = new Set(highValue.slice(0, 3).map((c) => c.customerId));
    expect(late.size).toBe(3);
    const withoutSome = scenario.events.filter((e) => !(e.event.type === 'customer.profile' && late.has((e.event.data as { customerId: string }).customerId)));
    const all = await metricsOf(scenario.events);
    const { metrics, offers } = await metricsOf(withoutSome);
    expect(await filtered(metrics, 'missing')).toBe(3);
    expect(await filtered(metrics, 'present')).toBe(regular.length);
    expect(offers).toBeLessThan(all.offers);
  });
});
