// Bad input on the real broker: events that are not JSON, not CloudEvents, of an unknown type or
// with data failing their schema, interleaved with good ones on one partition. The good ones are
// applied (the partition is not blocked), the bad ones land on the dead-letter topic byte for byte
// with their headers and the reason, the counts on /metrics add up, and `cpiwatch dlq` lists them
// and re-publishes them without the dead-letter headers, once per replay group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, produce, runCli, waitFor, waitForMessages, type ProduceInput, type ReadMessage } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';
import { metricSum } from '../../support/metrics.js';

interface Bad { input: { key: string; value: string; headers: Record<string, string> }; code: string }

function badEvents(prefix: string): Bad[] {
  const ce = (type: string, data: unknown, id: string) => JSON.stringify({ specversion: '1.0', id: `${prefix}-${id}`, source: 'urn:test', type, time: new Date(Date.now() - 60_000).toISOString(), data });
  return [
    { code: 'CPW200', input: { key: 'bad-1', value: '{"specversion":"1.0", not json', headers: { 'x-producer': 'pos-7', 'content-type': 'application/cloudevents+json' } } },
    { code: 'CPW201', input: { key: 'bad-2', value: JSON.stringify({ hello: 'world' }), headers: { 'x-producer': 'pos-8' } } },
    { code: 'CPW202', input: { key: 'bad-3', value: ce('curbside.teleported', { storeId: 'S' }, 'unknown'), headers: { 'x-producer': 'pos-9' } } },
    { code: 'CPW203', input: { key: 'bad-4', value: ce('curbside.arrived', { orderId: 'o', storeId: 'S', customerId: 'c', promisedWaitSeconds: 'five minutes' }, 'schema'), headers: { 'x-producer': 'pos-10' } } },
    { code: 'CPW203', input: { key: 'bad-5', value: ce('customer.en-route', { customerId: 42 }, 'schema-2'), headers: { 'x-producer': 'pos-11' } } },
  ];
}

async function metricsText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}


const cli = (argv: string[]) => runCli(argv);

describe('dead letters on the real broker', () => {
  let running: RunningProcessor;
  let bad: Bad[];
  let events: ReadMessage[];
  let expectedOffers: string[];

  beforeAll(async () => {
    const { settings, topics } = testSettings('dlq');
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules(), partitions: 1 });
    const port = running.processor.httpPort!;
    expect(metricSum(await metricsText(port), 'cpiwatch_events_consumed_total')).toBe(0);

    const scenario = opsScenario(settings.REDIS_PREFIX);
    expectedOffers = (await uninterrupted(running.processor.rules, scenario)).offered.map((d) => d.offerId).sort();
    bad = badEvents(settings.REDIS_PREFIX);
    await produce(topics.events, asProduced(scenario.profiles));
    // bad ones spread through the stream, on the same (only) partition as the good ones
    const good = asProduced(scenario.rest);
    const stream: ProduceInput[] = [];
    const every = Math.floor(good.length / bad.length);
    good.forEach((g, i) => {
      stream.push(g);
      if (i % every === 3 && bad[i / every | 0]) stream.push(bad[i / every | 0]!.input);
    });
    expect(stream.length).toBe(good.length + bad.length);
    await produce(topics.events, stream);
    events = await waitForMessages(topics.events, scenario.events.length + bad.length, { timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('applies the good events around the bad ones and dead-letters each bad one with its origin', async () => {
    const { topics } = running;
    const offers = await waitForMessages(topics.offers, expectedOffers.length, { timeoutMs: 45_000, settleMs: 1000 });
    expect(offers.map((m) => (m.json as { id: string }).id).sort()).toEqual(expectedOffers);

    const letters = await waitForMessages(topics.dlq, bad.length, { timeoutMs: 30_000, settleMs: 500 });
    expect(letters).toHaveLength(bad.length);
    for (const b of bad) {
      const letter = letters.find((l) => l.key === b.input.key)!;
      const original = events.find((e) => e.key === b.input.key)!;
      expect(letter, b.input.key).toBeDefined();
      expect(letter.value).toBe(b.input.value);
      expect(letter.headers).toMatchObject({
        ...b.input.headers,
        'cpiwatch-dlq-code': b.code,
        'cpiwatch-dlq-topic': topics.events,
        'cpiwatch-dlq-partition': '0',
        'cpiwatch-dlq-offset': original.offset,
      });
      expect(letter.headers['cpiwatch-dlq-reason']!.length).toBeGreaterThan(10);
      expect(Date.parse(letter.headers['cpiwatch-dlq-time']!)).toBeGreaterThan(Date.now() - 120_000);
    }
  });

  it('counts every event once on /metrics, by outcome and by dead-letter code', async () => {
    const total = events.length;
    const port = running.processor.httpPort!;
    const text = await waitFor(async () => {
      const t = await metricsText(port);
      return metricSum(t, 'cpiwatch_events_consumed_total') >= total ? t : undefined;
    }, { timeoutMs: 30_000, what: 'all events consumed' });
    expect(metricSum(text, 'cpiwatch_events_consumed_total')).toBe(total);
    const outcomes = ['applied', 'late', 'duplicate', 'unmatched', 'dead_lettered'].map((o) => metricSum(text, 'cpiwatch_events_total', `outcome="${o}"`));
    expect(outcomes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(metricSum(text, 'cpiwatch_events_total', 'outcome="dead_lettered"')).toBe(bad.length);
    expect(metricSum(text, 'cpiwatch_events_invalid_total', 'code="CPW200"')).toBe(1);
    expect(metricSum(text, 'cpiwatch_events_invalid_total', 'code="CPW201"')).toBe(1);
    expect(metricSum(text, 'cpiwatch_events_invalid_total', 'code="CPW202"')).toBe(1);
    expect(metricSum(text, 'cpiwatch_events_invalid_total', 'code="CPW203"')).toBe(2);
    expect(metricSum(text, 'cpiwatch_offers_total', 'rule="curbside-flash-drink"')).toBe(expectedOffers.length);
    expect(metricSum(text, 'cpiwatch_ready')).toBe(1);
    expect(metricSum(text, 'cpiwatch_rules_loaded')).toBe(running.processor.rules.rules.length);
    expect(metricSum(text, 'cpiwatch_batch_duration_seconds_count')).toBeGreaterThan(0);
    // offers and dead letters leave in Kafka transactions, one or more batches each
    const transactions = metricSum(text, 'cpiwatch_kafka_transaction_seconds_count');
    expect(transactions).toBeGreaterThan(0);
    expect(metricSum(text, 'cpiwatch_kafka_transaction_batches_count')).toBe(transactions);
    expect(metricSum(text, 'cpiwatch_kafka_transaction_batches_sum')).toBeGreaterThanOrEqual(transactions);
    expect(metricSum(text, 'cpiwatch_kafka_transaction_batches_sum')).toBeLessThanOrEqual(metricSum(text, 'cpiwatch_batch_duration_seconds_count'));
    expect(metricSum(text, 'cpiwatch_consumer_lag', `partition="0",topic="${running.topics.events}"`)).toBe(0);
    expect(text).toContain('cpiwatch_process_nodejs_eventloop_lag_seconds');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('cpiwatch dlq list shows every dead letter with code, reason and origin', async () => {
    const { topics } = running;
    const all = await cli(['dlq', 'list', '--topic', topics.dlq, '--format', 'json']);
    expect(all.code, all.err).toBe(0);
    const listed = JSON.parse(all.out) as { code: string; key: string; value: string; reason: string; origin: { topic: string; offset: number }; headers: Record<string, string> }[];
    expect(listed.map((l) => l.key)).toEqual(bad.map((b) => b.input.key));
    expect(listed.map((l) => l.code)).toEqual(bad.map((b) => b.code));
    expect(listed[0]!.value).toBe(bad[0]!.input.value);
    expect(listed[0]!.origin.topic).toBe(topics.events);
    expect(listed[0]!.headers).toEqual(bad[0]!.input.headers);

    const only = await cli(['dlq', 'list', '--topic', topics.dlq, '--code', 'cpw203']);
    expect(only.code).toBe(0);
    expect(only.err).toContain('2 dead letter(s)');
    expect(only.out).toContain('CPW203');
    expect(only.out).not.toContain('CPW200');
    const limited = await cli(['dlq', 'list', '--topic', topics.dlq, '--limit', '2', '--format', 'json']);
    expect((JSON.parse(limited.out) as unknown[]).length).toBe(2);
  });

  it('cpiwatch dlq replay re-publishes the original bytes and headers, once per replay group', async () => {
    const { topics } = running;
    const target = await createTopic(`${topics.events}.fixed`);
    const group = `${running.settings.KAFKA_GROUP_ID}-replay`;
    const dry = await cli(['dlq', 'replay', '--topic', topics.dlq, '--to', target, '--code', 'CPW203', '--dry-run']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.err).toContain('would replay 2 dead letter(s)');

    const first = await cli(['dlq', 'replay', '--topic', topics.dlq, '--to', target, '--code', 'CPW203', '--group', group]);
    expect(first.code, first.err).toBe(0);
    expect(first.err).toContain('replayed 2 dead letter(s)');
    expect(first.err).toContain('3 with another code passed over');
    const replayed = await waitForMessages(target, 2, { timeoutMs: 20_000, settleMs: 500 });
    const schemaFailures = bad.filter((b) => b.code === 'CPW203');
    expect(replayed.map((m) => m.key)).toEqual(schemaFailures.map((b) => b.input.key));
    for (const [i, m] of replayed.entries()) {
      expect(m.value).toBe(schemaFailures[i]!.input.value);
      expect(m.headers).toEqual(schemaFailures[i]!.input.headers);
    }

    const again = await cli(['dlq', 'replay', '--topic', topics.dlq, '--to', target, '--group', group]);
    expect(again.code).toBe(0);
    expect(again.err).toContain('replayed 0 dead letter(s)');
    expect(await waitForMessages(target, 2, { settleMs: 1000 })).toHaveLength(2);

    const everything = await cli(['dlq', 'replay', '--topic', topics.dlq, '--to', target, '--group', `${group}-all`, '--limit', '4']);
    expect(everything.err).toContain('replayed 4 dead letter(s)');
    const rest = await cli(['dlq', 'replay', '--topic', topics.dlq, '--to', target, '--group', `${group}-all`]);
    expect(rest.err).toContain('replayed 1 dead letter(s)');
    expect(await waitForMessages(target, 7, { settleMs: 1000 })).toHaveLength(7);
  });
});
