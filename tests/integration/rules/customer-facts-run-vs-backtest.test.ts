// A CPI of some customers only (`customers:`, examples/rules/curbside-gold.yaml) on the real stack: two
// processors in one group over four partitions, events keyed by store and profiles by customer, so
// most customers' facts are owned by another partition than the store's window, and half of them
// by the other process (read from Redis). They publish exactly the offers and suppressions
// `cpiwatch backtest` writes for the same events, with customers changing tier during the hour.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixedScenario } from '../../../src/samples/mixed-scenario.js';
import { createProcessorTopics, exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { deleteKeys, produce, runCli, waitFor, waitForMessages, withRedis } from '../../support/index.js';

interface Wire { id: string; type: string; data: { outcome?: string; customerId: string; rule: { id: string } } }
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Wire);
const byId = (a: Wire, b: Wire) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const START = Date.UTC(2026, 10, 20, 15);

function hour() {
  const day = mixedScenario({ start: START, seed: 9, minutes: 45, customers: 200, stores: 4, idPrefix: 'cfr' });
  const changes = Array.from({ length: 60 }, (_, i) => {
    const customerId = `cfr-cust-${i * 3 + 2}`;
    const time = new Date(START + 60_000 * (8 + (i % 30))).toISOString();
    return { key: customerId, event: { specversion: '1.0', id: `cfr-tier-${i}`, source: 'urn:test:tiers', type: 'customer.profile', time, data: { customerId, valueTier: i % 2 === 0 ? 'platinum' : 'silver' } } };
  });
  const events = [...day.events.map((e) => ({ key: e.keys.store, event: e.event as unknown as Record<string, unknown> })), ...changes];
  const at = (e: { event: Record<string, unknown> }) => (typeof e.event.time === 'number' ? e.event.time : Date.parse(String(e.event.time)));
  return events.sort((a, b) => at(a) - at(b));
}

describe('run and backtest count the same customers in a CPI with customers:', () => {
  const running: RunningProcessor[] = [];
  let rulesDir: string;
  let eventsFile: string;
  const { settings, topics } = testSettings('customer-facts-rvb');
  const events = hour();

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-customer-facts-rvb-'));
    rulesDir = join(dir, 'rules');
    await mkdir(rulesDir);
    for (const f of ['examples/rules/curbside-gold.yaml', 'rules/policy.yaml']) await copyFile(f, join(rulesDir, basename(f)));
    eventsFile = join(dir, 'events.ndjson');
    await writeFile(eventsFile, events.map((e) => JSON.stringify(e.event)).join('\n'));
    await createProcessorTopics(topics, 4);
    const ruleSet = await exampleRules([rulesDir]);
    for (let k = 0; k < 2; k++) running.push(await startProcessor({ settings, topics, ruleSet, createTopics: false }));
    for (let i = 0; i < events.length; i += 97) await produce(topics.events, events.slice(i, i + 97).map((e) => ({ key: e.key, value: e.event })));
  });

  afterAll(async () => {
    for (const r of running) await r.stop();
    await withRedis((r) => deleteKeys(r, settings.REDIS_PREFIX));
  });

  it('publishes exactly the offers and suppressions the backtest writes', async () => {
    const fromFile = await runCli(['backtest', '--rules', rulesDir, '--events', eventsFile, '--decisions']);
    expect(fromFile.code, fromFile.err).toBe(0);
    const expected = lines(fromFile.out);
    const expectedOffers = expected.filter((e) => e.type === 'cpiwatch.offer.v1').sort(byId);
    expect(expectedOffers.length).toBeGreaterThan(5);

    const consumed = async () => {
      let n = 0;
      for (const r of running) n += (await r.processor.metrics.eventsConsumed.get()).values.reduce((s, v) => s + v.value, 0);
      return n;
    };
    await waitFor(async () => (await consumed()) >= events.length, { timeoutMs: 90_000, what: `${events.length} events consumed` });
    const offers = (await waitForMessages(topics.offers, expectedOffers.length, { timeoutMs: 60_000, settleMs: 2_000 })).map((m) => m.json as Wire).sort(byId);
    expect(offers).toEqual(expectedOffers);
    const decisions = (await waitForMessages(topics.decisions, expected.length, { timeoutMs: 30_000, settleMs: 1_000 })).map((m) => m.json as Wire).sort(byId);
    expect(decisions.map((d) => `${d.id} ${d.data.outcome}`)).toEqual([...expected].sort(byId).map((d) => `${d.id} ${d.type === 'cpiwatch.offer.v1' ? 'offered' : d.data.outcome}`));
  });
});
