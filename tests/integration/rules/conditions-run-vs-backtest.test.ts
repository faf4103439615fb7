// One engine for rules over several CPIs, trends and tiers: a running processor (real Kafka, Redis)
// publishes exactly the offers and suppressions `cpiwatch backtest` writes for the same events: a
// calm day, then the same hour a day later with two of three stores slow (the trend compares with
// the day before), delivered in chunks so the processor sees batches of many sizes.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curbsideScenario } from '../../../src/samples/curbside-scenario.js';
import { deleteKeys, produce, runCli, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';

interface Wire { id: string; type: string; data: { outcome?: string; reason?: string; rule: { id: string } } }
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Wire);
const byId = (a: Wire, b: Wire) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const START = Date.UTC(2026, 10, 20, 15);
function twoDays(prefix: string) {
  const day1 = curbsideScenario({ start: START, seed: 3, stores: 3, busyStores: 0, minutes: 40, enRoutePerStore: 6, idPrefix: `${prefix}1` });
  const day2 = curbsideScenario({ start: START + 86_400_000, seed: 4, stores: 3, busyStores: 2, minutes: 40, enRoutePerStore: 6, idPrefix: `${prefix}2` });
  // the same stores on both days (every other id apart)
  const same = day2.events.map((e) => {
    const data = e.event.data as Record<string, unknown>;
    if (typeof data.storeId !== 'string') return e;
    const storeId = data.storeId.replace(`${prefix}2`, `${prefix}1`);
    return { key: e.key === data.storeId ? storeId : e.key, event: { ...e.event, data: { ...data, storeId } } };
  });
  return [...day1.events, ...same].sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time) || (a.event.id < b.event.id ? -1 : 1));
}

describe('run and backtest take the same decisions on rules over several CPIs, trends and tiers', () => {
  let running: RunningProcessor;
  let rulesDir: string;
  let eventsFile: string;
  const { settings, topics } = testSettings('conditions-rvb');
  const events = twoDays('crvb');

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-conditions-rvb-'));
    rulesDir = join(dir, 'rules');
    await mkdir(rulesDir);
    for (const f of ['conditions.yaml', 'tiers.yaml']) await copyFile(join('tests/unit/rule-tests/fixtures', f), join(rulesDir, f));
    eventsFile = join(dir, 'events.ndjson');
    await writeFile(eventsFile, events.map((e) => JSON.stringify(e.event)).join('\n'));
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules([rulesDir]) });
    for (let i = 0; i < events.length; i += 83) {
      await produce(topics.events, events.slice(i, i + 83).map((e) => ({ key: e.key, value: e.event as unknown as Record<string, unknown> })));
    }
  });

  afterAll(async () => {
    await running?.stop();
    await withRedis((r) => deleteKeys(r, settings.REDIS_PREFIX));
  });

  it('publishes exactly the offers and suppressions the backtest writes', async () => {
    const fromFile = await runCli(['backtest', '--rules', rulesDir, '--events', eventsFile, '--decisions']);
    expect(fromFile.code, fromFile.err).toBe(0);
    const expected = lines(fromFile.out);
    const expectedOffers = expected.filter((e) => e.type === 'cpiwatch.offer.v1').sort(byId);
    expect(new Set(expectedOffers.map((o) => o.data.rule.id))).toEqual(new Set(['slow-and-busy', 'slower-than-yesterday', 'tiered-drink']));

    await waitFor(async () => (await running.processor.metrics.eventsConsumed.get()).values[0]?.value === events.length, { timeoutMs: 60_000, what: `${events.length} events consumed` });
    const offers = (await waitForMessages(topics.offers, expectedOffers.length, { timeoutMs: 30_000, settleMs: 1_000 })).map((m) => m.json as Wire).sort(byId);
    expect(offers).toEqual(expectedOffers);
    const decisions = (await waitForMessages(topics.decisions, expected.length, { timeoutMs: 30_000, settleMs: 1_000 })).map((m) => m.json as Wire).sort(byId);
    expect(decisions.map((d) => `${d.id} ${d.data.outcome}`)).toEqual([...expected].sort(byId).map((d) => `${d.id} ${d.type === 'cpiwatch.offer.v1' ? 'offered' : d.data.outcome}`));
  });
});
