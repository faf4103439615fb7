// A rule over two CPIs of a store through the real processor (real broker, Redis, live event times):
// slow curbside waits AND at least two customers heading in. The store with both gets its offers,
// one per customer on the way; the store with slow waits and one customer on the way gets none.
// Fast CPIs (5 s steps, 1 m window) keep it short; the shipped 1 m steps are the same path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { produce, sleep, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, storeOn, testSettings, type RunningProcessor } from '../../support/processor.js';

const CE_JSON = 'application/cloudevents+json; charset=UTF-8';

const RULES = `
cpis:
  - id: fast-wait
    measure:
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }
        relativeTo: promisedWaitSeconds
    groupBy: storeId
    window: 1m
    resolution: 5s
    allowedLateness: 2s
  - id: fast-heading-in
    measure: { value: { event: customer.en-route, field: etaSeconds } }
    groupBy: storeId
    window: 1m
    resolution: 5s
rules:
  - id: slow-and-busy-fast
    when:
      all:
        - { cpi: fast-wait, aggregate: p90, threshold: { above: 1.25 }, minSamples: 3 }
        - { cpi: fast-heading-in, aggregate: count, threshold: { above: 1 } }
    target: { enRoute: { within: 5m } }
    offer: { kind: complimentary-drink, code: BUSY-DRINK, title: A drink on us while you wait, expiresAfter: 2h }
`;

describe('a rule over two CPIs on the real stack', () => {
  let running: RunningProcessor | undefined;
  afterAll(async () => {
    await running?.stop();
  });

  it('offers to the customers heading to the store with both slow waits and a crowd, and nothing to the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-conditions-'));
    writeFileSync(join(dir, 'conditions.yaml'), RULES);
    const { settings, topics } = testSettings('conditions');
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules([dir]), partitions: 3 });
    const p = settings.KAFKA_GROUP_ID.slice(-8);
    const crowded = storeOn(`${p}-crowded`, 0, 3);
    const lone = storeOn(`${p}-lone`, 1, 3);
    let n = 0;
    const event = (type: string, time: number, data: Record<string, unknown>, key: string) =>
      ({ key, value: JSON.stringify({ specversion: '1.0', id: `${p}-${++n}`, source: 'urn:cpiwatch:test', type, time: new Date(time).toISOString(), data }), headers: { 'content-type': CE_JSON } });

    const now = Date.now();
    const onTheWay = (store: string, who: string[]) => who.map((c) => event('customer.en-route', now - 20_000, { customerId: c, storeId: store, etaSeconds: 900 }, store));
    const arrivals = (store: string) => [0, 1, 2, 3].map((i) => event('curbside.arrived', now - 30_000 + i * 1000, { orderId: `${store}-o${i}`, storeId: store, customerId: `${store}-w${i}`, promisedWaitSeconds: 10 }, store));
    await produce(topics.events, [...onTheWay(crowded, [`${p}-c1`, `${p}-c2`]), ...onTheWay(lone, [`${p}-c3`]), ...arrivals(crowded), ...arrivals(lone)]);
    // three times the promise at both stores
    await produce(topics.events, [crowded, lone].flatMap((s) => [0, 1, 2, 3].map((i) => event('curbside.handed-over', Date.now(), { orderId: `${s}-o${i}`, storeId: s }, s))));

    // stream time moves on with the processor's idle marks; the rule fires at the next step close
    const offers = await waitForMessages(topics.offers, 2, { timeoutMs: 60_000, settleMs: 8_000 });
    const got = offers.map((o) => o.json as { subject: string; data: { rule: { id: string }; trigger: { scope: { value: string }; cpi: string } } });
    expect(got.map((o) => o.subject).sort()).toEqual([`${p}-c1`, `${p}-c2`]);
    expect(got.every((o) => o.data.rule.id === 'slow-and-busy-fast' && o.data.trigger.scope.value === crowded)).toBe(true);
    // nothing for the customer heading to the store with one customer on the way, a few steps on
    await sleep(2_000);
    const after = await waitForMessages(topics.offers, 2, { timeoutMs: 10_000, settleMs: 2_000 });
    expect(after.map((o) => o.json as { subject: string }).map((o) => o.subject).sort()).toEqual([`${p}-c1`, `${p}-c2`]);
  }, 120_000);
});
