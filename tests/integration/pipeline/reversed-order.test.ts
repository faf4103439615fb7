// Guardrails hold when one customer's candidates come from two owner partitions in reversed
// event-time order (real broker and Redis). Stores A and B sit on different partitions and both have
// bad waits for twenty minutes. A gold customer sets out for A, then (a minute earlier in event time,
// but produced only after A's has been processed) for B. Decisions go in due order whatever order the
// ops arrived in: one offer (B's), A's held by the rule's 24 h cooldown, exactly as the backtest of
// the same events in event-time order decides.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createReplay } from '../../../src/pipeline/replay.js';
import { CollectingSink } from '../../../src/pipeline/collecting-sink.js';
import { produce, sleep, waitFor, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, storeOn, testSettings, type RunningProcessor } from '../../support/processor.js';
import { curbsideDrinkRules } from '../../support/rule-texts.js';

const CE_JSON = 'application/cloudevents+json; charset=UTF-8';
const MIN = 60_000;

// a long lateness holds both candidates back (due = time + 30 min) while the events arrive
const RULES = curbsideDrinkRules('reversed', { window: '10m', resolution: '1m', allowedLateness: '30m', for: '1m', cooldown: '24h' });

describe('a customer\'s candidates from two partitions in reversed event-time order', () => {
  let running: RunningProcessor | undefined;
  afterAll(async () => {
    await running?.stop();
  });

  it('get the decisions of the backtest: the earlier offered, the later held by the cooldown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-reversed-'));
    writeFileSync(join(dir, 'reversed.yaml'), RULES);
    const ruleSet = await exampleRules([dir]);
    const { settings, topics } = testSettings('reversed');
    running = await startProcessor({ settings, topics, ruleSet, partitions: 3 });
    const p = settings.KAFKA_GROUP_ID.slice(-8);
    const storeA = storeOn(`${p}-a`, 0, 3);
    const storeB = storeOn(`${p}-b`, 1, 3);
    const customer = `${p}-gold`;
    let n = 0;
    const event = (type: string, time: number, data: Record<string, unknown>) =>
      ({ specversion: '1.0', id: `${p}-${++n}`, source: 'urn:cpiwatch:test', type, time: new Date(time).toISOString(), data });
    /** An order a minute for twenty minutes from `from`, each handed over at six times its 10 s promise. */
    const badWaits = (store: string, from: number) => Array.from({ length: 20 }, (_, i) => [
      event('curbside.arrived', from + i * MIN, { orderId: `${store}-o${i}`, storeId: store, customerId: `${store}-w${i}`, promisedWaitSeconds: 10 }),
      event('curbside.handed-over', from + i * MIN + MIN, { orderId: `${store}-o${i}`, storeId: store }),
    ]).flat().sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
    const base = Math.floor((Date.now() - 100 * MIN) / MIN) * MIN;
    const toA = event('customer.en-route', base + 15 * MIN, { customerId: customer, storeId: storeA, etaSeconds: 1800 });
    const toB = event('customer.en-route', base + 14 * MIN, { customerId: customer, storeId: storeB, etaSeconds: 1800 });
    const phase1 = { a: [...badWaits(storeA, base)], b: badWaits(storeB, base) };
    phase1.a.splice(phase1.a.findIndex((e) => Date.parse(e.time) > Date.parse(toA.time)), 0, toA);
    // both input partitions move on: stream time passes both candidates' due times (time + 30 min)
    const clock = [storeA, storeB].map((store) => event('curbside.arrived', base + 60 * MIN, { orderId: `${store}-clock`, storeId: store, customerId: `${store}-late`, promisedWaitSeconds: 300 }));
    const send = (store: string, events: ReturnType<typeof event>[]) =>
      produce(topics.events, events.map((e) => ({ key: store, value: JSON.stringify(e), headers: { 'content-type': CE_JSON } })));
    const counted = async () => (await running!.processor.metrics.events.get()).values.reduce((sum, v) => sum + v.value, 0);

    // A's and B's waits, and the customer's way to A, until all of it has been applied
    await send(storeA, phase1.a);
    await send(storeB, phase1.b);
    const n1 = phase1.a.length + phase1.b.length;
    await waitFor(async () => (await counted()) >= n1, { timeoutMs: 60_000, what: `the first ${n1} events counted` });
    await sleep(1000);
    // then the way to B, a minute earlier in event time, through B's partition
    await send(storeB, [toB]);
    await waitFor(async () => (await counted()) >= n1 + 1, { timeoutMs: 60_000, what: 'the way to B counted' });
    await send(storeA, [clock[0]!]);
    await send(storeB, [clock[1]!]);

    const sink = new CollectingSink();
    const replay = createReplay(ruleSet, { sink, batchSize: 100 });
    const all = [...phase1.a, ...phase1.b, toB, ...clock].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    await replay.feed(all.map((e, i) => ({ value: Buffer.from(JSON.stringify(e)), origin: { topic: 'e', partition: 0, offset: i } })));
    await replay.finish();
    const want = sink.decisions.filter((d) => d.customerId === customer).map((d) => `${d.offerId} ${d.outcome} ${d.reason ?? ''}`).sort();
    expect(want.map((w) => w.split(' ').slice(1).join(' ').trim()).sort()).toEqual(['offered', 'suppressed cooldown']);
    expect(sink.decisions.filter((d) => d.customerId !== customer), 'decisions for anyone else').toEqual([]);

    const offers = await waitForMessages(topics.offers, 1, { timeoutMs: 60_000, settleMs: 3000 });
    const decisions = await waitForMessages(topics.decisions, 2, { timeoutMs: 60_000, settleMs: 3000 });
    const got = decisions.map((m) => (m.json as { data: { offerId: string; outcome: string; reason?: string; customerId?: string } }).data)
      .filter((d) => d.offerId && want.some((w) => w.startsWith(d.offerId)))
      .map((d) => `${d.offerId} ${d.outcome} ${d.reason ?? ''}`).sort();
    expect(got).toEqual(want);
    const offered = offers.map((m) => m.json as { id: string; data: { scope?: Record<string, string> } });
    expect(offered).toHaveLength(1);
    expect(JSON.stringify(offered[0]!.data)).toContain(storeB);
  }, 180_000);
});
