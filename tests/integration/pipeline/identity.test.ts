// Identity on the real stack: the curbside scenario with every store, customer and order id renamed to
// odd strings (lookalikes such as "josé" / "jose\u0301" / "jos%e9", "a—20" / "a 1420", astral and
// control characters, braces, percent signs), keyed by customer id on 3 partitions. The offers on the
// offers topic are the ones the engine decides in a backtest of the same events, each with its
// customer's exact id (read back byte for byte), none twice.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { produce, waitForMessages } from '../../support/index.js';
import { asMessages, localRun } from '../../support/local-run.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { oddId, renamableScenario } from '../../support/renamed-ids.js';

const SEED = Number(process.env.CPIWATCH_IDENTITY_SEED ?? 20261207);

describe(`odd ids end to end (seed ${SEED})`, () => {
  let running: RunningProcessor | undefined;
  afterAll(async () => { await running?.stop(); });

  it('every offer carries its customer\'s exact id, and the offers are the backtest\'s', async () => {
    const { settings, topics } = testSettings('identity');
    const ruleSet = await exampleRules();
    const scenario = renamableScenario({ start: Date.now() - 50 * 60_000, stores: 3, busyStores: 2, minutes: 40, enRoutePerStore: 6, seed: 5, idPrefix: 'id' });
    const [names] = fc.sample(fc.uniqueArray(oddId, { minLength: scenario.ids.length, maxLength: scenario.ids.length }), { numRuns: 1, seed: SEED });
    const { events, map } = scenario.renamed(names!);
    const customers = new Set([...map].filter(([id]) => id.includes('-cust-')).map(([, name]) => name));

    const expected = (await localRun(ruleSet, asMessages(events), 100)).decisions
      .map((d) => JSON.parse(d) as { id: string; data: { customerId: string; outcome: string } })
      .filter((d) => d.data.outcome === 'offered');
    expect(expected.length).toBeGreaterThan(0);

    running = await startProcessor({ settings, topics, ruleSet, partitions: 3 });
    await produce(topics.events, events.map((e) => ({ key: (e as { data: { customerId?: string; storeId?: string } }).data.customerId ?? (e as { data: { storeId?: string } }).data.storeId ?? null, value: e as Record<string, unknown> })));
    const offers = await waitForMessages(topics.offers, expected.length, { timeoutMs: 90_000, settleMs: 3000 });
    const got = offers.map((m) => m.json as { id: string; data: { customerId: string } });
    expect(got.map((o) => o.id).sort()).toEqual(expected.map((o) => o.id).sort());
    const byId = new Map(expected.map((o) => [o.id, o.data.customerId]));
    for (const o of got) {
      expect(o.data.customerId).toBe(byId.get(o.id));
      expect(customers.has(o.data.customerId)).toBe(true);
    }
    // the Kafka key of each offer is its customer's id, byte for byte
    for (const m of offers) expect(m.key).toBe((m.json as { data: { customerId: string } }).data.customerId);
    console.log(`[identity] ${events.length} events, ${map.size} ids renamed (${[...customers].slice(0, 6).map((c) => JSON.stringify(c)).join(', ')}, ...): ${got.length} offers, each to its exact customer`);
  }, 180_000);
});
