// Dead letters against the broker's message size limit (docs/operations.md, "Dead letters that do
// not fit"), on the real broker. A backlog on one partition: a 1,048,400-byte non-JSON value, a
// 10 MB value (the events topic allows 16 MB, the dead-letter topic has the default 1,048,588),
// 3,000 small events of an unknown type (about 1.7 MB of letters), then the curbside scenario.
// The committed offset moves past all of it, every letter is on the dead-letter topic (the big ones
// truncated, with size, hash and origin headers), and the good events after them make their offers.
// A second processor whose dead-letter topic allows 16 MB too sends the 10 MB letter whole: the
// limit is read from the broker, not assumed.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, kafkaClient, produce, waitFor, waitForMessages, type ProduceInput } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type ProcessorTopics, type RunningProcessor } from '../../support/processor.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';
import { metricSum } from '../../support/metrics.js';

const MB16 = String(16 * 1024 * 1024);

/** A non-JSON ASCII value of `n` bytes (deterministic, not compressible to nothing). */
function blob(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = 0x61 + ((x >>> 16) % 26); }
  b[0] = 0x3c; // '<': never JSON
  return b;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function createTopics(topics: ProcessorTopics, config: { events?: Record<string, string>; dlq?: Record<string, string> }): Promise<void> {
  await createTopic(topics.events, { config: config.events ?? {} });
  await createTopic(topics.offers);
  await createTopic(topics.decisions);
  await createTopic(topics.dlq, { config: config.dlq ?? {} });
}

async function committedAndEnd(group: string, topic: string): Promise<{ committed: number; end: number }> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return { committed: Number(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? -1), end: Number(ends.find((e) => e.partition === 0)!.high) };
  } finally {
    await admin.disconnect();
  }
}

describe('dead letters that do not fit the dead-letter topic', () => {
  const running: RunningProcessor[] = [];
  afterAll(async () => { for (const r of running) await r.stop(); });

  it('a hostile backlog never stalls the partition: big letters truncated, 3,000 letters in batches that fit', async () => {
    const { settings, topics } = testSettings('dlqsize');
    await createTopics(topics, { events: { 'max.message.bytes': MB16 } });
    const ruleSet = await exampleRules();
    const scenario = opsScenario(settings.REDIS_PREFIX);
    const expectedOffers = (await uninterrupted(ruleSet, scenario)).offered.map((d) => d.offerId).sort();

    const big = blob(1_048_400, 1);
    const huge = blob(10 * 1024 * 1024, 2);
    // the backlog, all there before the processor starts
    await produce(topics.events, [{ key: 'big', value: big, headers: { 'x-producer': 'hostile' } }]);
    await produce(topics.events, [{ key: 'huge', value: huge, headers: { 'x-producer': 'hostile' } }]);
    const unknown = Array.from({ length: 3000 }, (_, i) => ({
      key: `u-${i}`,
      value: JSON.stringify({ specversion: '1.0', id: `${settings.REDIS_PREFIX}-u-${i}`, source: 'urn:hostile', type: 'curbside.teleported', time: new Date(Date.now() - 50 * 60_000).toISOString(), data: { storeId: 'S', n: i } }),
      headers: { 'content-type': 'application/cloudevents+json', 'x-producer': 'hostile' },
    } satisfies ProduceInput));
    await produce(topics.events, unknown);
    await produce(topics.events, asProduced(scenario.profiles));
    await produce(topics.events, asProduced(scenario.rest));
    const total = 2 + unknown.length + scenario.events.length;

    const started = Date.now();
    const r = await startProcessor({ settings, topics, ruleSet, createTopics: false });
    running.push(r);

    // the partition reaches its end
    const { committed, end } = await waitFor(async () => {
      const o = await committedAndEnd(settings.KAFKA_GROUP_ID, topics.events);
      return o.committed === o.end ? o : undefined;
    }, { timeoutMs: 90_000, what: 'committed offset at the end of the partition' });
    expect(end).toBe(total);
    expect(committed).toBe(total);
    const drainedMs = Date.now() - started;

    // every letter on the dead-letter topic, once, in order
    const letters = await waitForMessages(topics.dlq, 3002, { timeoutMs: 60_000, settleMs: 1000 });
    expect(letters).toHaveLength(3002);
    expect(letters.map((l) => Number(l.headers['cpiwatch-dlq-offset']))).toEqual(Array.from({ length: 3002 }, (_, i) => i));
    expect(letters.slice(2).every((l, i) => l.key === `u-${i}` && l.headers['cpiwatch-dlq-code'] === 'CPW202' && l.value === unknown[i]!.value && l.headers['cpiwatch-dlq-truncated'] === undefined)).toBe(true);
    for (const [l, original] of [[letters[0]!, big], [letters[1]!, huge]] as const) {
      expect(l.headers).toMatchObject({
        'x-producer': 'hostile',
        'cpiwatch-dlq-code': 'CPW204',
        'cpiwatch-dlq-topic': topics.events,
        'cpiwatch-dlq-partition': '0',
        'cpiwatch-dlq-truncated': 'value',
        'cpiwatch-dlq-original-size': String(original.length),
        'cpiwatch-dlq-sha256': sha(original),
      });
      const kept = Buffer.from(l.value!, 'utf8');
      expect(kept.length).toBeGreaterThan(1_040_000);
      expect(kept.length).toBeLessThan(1_048_400);
      expect(kept.equals(original.subarray(0, kept.length))).toBe(true);
    }

    // the good events behind them were processed: the uninterrupted run's offers, each once
    const offers = await waitForMessages(topics.offers, expectedOffers.length, { timeoutMs: 45_000, settleMs: 1000 });
    expect(offers.map((m) => (m.json as { id: string }).id).sort()).toEqual(expectedOffers);
    expect(expectedOffers.length).toBeGreaterThan(0);
    const text = await r.processor.metrics.registry.metrics();
    const metric = (name: string) => metricSum(text, name);
    expect(metric('cpiwatch_events_consumed_total')).toBe(total);
    expect(text).toContain('cpiwatch_events_invalid_total{code="CPW204"} 2');
    expect(text).toContain('cpiwatch_events_invalid_total{code="CPW202"} 3000');
    console.log(`[dead-letter-size] ${total} events (3002 dead letters, 2 truncated to ${Buffer.byteLength(letters[0]!.value!)} and ${Buffer.byteLength(letters[1]!.value!)} bytes) committed in ${drainedMs} ms; batch errors ${metric('cpiwatch_batch_errors_total')}`);
    expect(metric('cpiwatch_batch_errors_total')).toBe(0);
  });

  it('a dead-letter topic that allows 16 MB gets the 10 MB letter whole (max.message.bytes read from the broker)', async () => {
    const { settings, topics } = testSettings('dlqsize16');
    await createTopics(topics, { events: { 'max.message.bytes': MB16 }, dlq: { 'max.message.bytes': MB16 } });
    const huge = blob(10 * 1024 * 1024, 3);
    await produce(topics.events, [{ key: 'huge', value: huge }]);
    const r = await startProcessor({ settings, topics, ruleSet: await exampleRules(), createTopics: false });
    running.push(r);
    const [letter] = await waitForMessages(topics.dlq, 1, { timeoutMs: 60_000 });
    expect(letter!.headers['cpiwatch-dlq-code']).toBe('CPW204');
    expect(letter!.headers['cpiwatch-dlq-truncated']).toBeUndefined();
    expect(Buffer.from(letter!.value!, 'utf8').equals(huge)).toBe(true);
    await waitFor(async () => {
      const o = await committedAndEnd(settings.KAFKA_GROUP_ID, topics.events);
      return o.committed === 1 ? o : undefined;
    }, { timeoutMs: 30_000, what: 'offset committed' });
  });
});
