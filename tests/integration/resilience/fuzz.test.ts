// Hostile input on the real stack (issue: nothing stalls, nothing lost in silence): a processor on a
// 4-partition topic gets the curbside scenario with more than 10,000 hostile messages spliced in
// (tests/support/hostile-events.ts: mutated events, arbitrary JSON and bytes, lone surrogates and
// every Unicode plane in ids, keys and values, extreme and denormal numbers, reserved and colliding
// field names), values over 1 MB on a topic that allows 4 MB, and a burst of 3,000 small bad events
// in the backlog. Every partition of both topics reaches its end, every message is counted once as
// applied, late, duplicate, unmatched or dead-lettered, each dead letter is on the dead-letter topic
// with a code, and the process is ready at the end; whenever it was not ready, a check named why.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, produce, waitFor, waitForMessages, type ProduceInput } from '../../support/index.js';
import { hostileMessage, oddString, scenarioMessages } from '../../support/hostile-events.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { metricSum } from '../../support/metrics.js';

const SEED = Number(process.env.CPIWATCH_FUZZ_SEED ?? Date.now() % 1_000_000);
const HOSTILE = Number(process.env.CPIWATCH_FUZZ_MESSAGES ?? 10_000);
const PARTITIONS = 4;


/** Kafka keys as hostile producers send them: none, odd strings (as UTF-8), raw bytes. */
const keyOf = fc.oneof(fc.constant(null), oddString.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)));

describe(`hostile input on the real stack (seed ${SEED})`, () => {
  let running: RunningProcessor | undefined;
  afterAll(async () => { await running?.stop(); });

  it('every partition reaches its end, the counts add up, every dead letter is kept with its code', async () => {
    const { settings, topics } = testSettings('fuzz', { MAX_EVENT_BYTES: String(3 * 1024 * 1024) });
    await createTopic(topics.events, { partitions: PARTITIONS, config: { 'max.message.bytes': String(4 * 1024 * 1024) } });
    for (const t of [topics.offers, topics.decisions, topics.dlq]) await createTopic(t);
    const ruleSet = await exampleRules();

    const hostile = fc.sample(fc.tuple(hostileMessage, keyOf), { numRuns: HOSTILE, seed: SEED });
    const base = scenarioMessages();
    const messages: ProduceInput[] = [];
    let h = 0;
    for (const [i, m] of base.entries()) {
      messages.push({ key: m.key ?? null, value: m.value, ...(m.headers ? { headers: m.headers as Record<string, string> } : {}) });
      while (h < hostile.length && h * base.length < (i + 1) * hostile.length) {
        const [hm, key] = hostile[h++]!;
        messages.push({ key, value: hm.value, ...(hm.headers ? { headers: hm.headers as Record<string, string> } : {}) });
      }
    }
    // values past 1 MB (dead-lettered whole or truncated to fit the default dead-letter topic)
    for (const n of [1_048_400, 2 * 1024 * 1024]) messages.push({ key: 'big', value: Buffer.alloc(n, 0x7b) });
    // a burst of small bad events of an unknown type
    for (let i = 0; i < 3000; i++) messages.push({ key: `burst-${i % 7}`, value: JSON.stringify({ specversion: '1.0', id: `b-${i}`, source: 'urn:burst', type: 'curbside.teleported', time: new Date().toISOString(), data: {} }) });
    // the same ids with different encodings: each its own customer, none sharing state
    for (const id of ['josé', 'jose\u0301', 'jos%e9', 'a—20', 'a 1420', '客户1', '𝒸𝓊𝓈𝓉']) {
      messages.push({ key: id, value: JSON.stringify({ specversion: '1.0', id: `p-${id}`, source: 'urn:ids', type: 'customer.profile', time: new Date(Date.now() - 60_000).toISOString(), data: { customerId: id, valueTier: 'gold' } }) });
    }
    // in sends the topic's 4 MB limit takes (kafkajs puts one send's messages for a partition in one batch)
    for (let i = 0, bytes = 0, from = 0; i <= messages.length; i++) {
      const m = messages[i];
      const size = m === undefined ? 0 : typeof m === 'string' ? m.length : Buffer.byteLength((m.value as Buffer | string | null) ?? '') + 64;
      if (i === messages.length || (bytes + size > 3_000_000 && i > from)) {
        await produce(topics.events, messages.slice(from, i));
        from = i;
        bytes = 0;
      }
      bytes += size;
    }
    const total = messages.length;
    expect(total).toBeGreaterThan(10_000);

    // readiness sampled throughout: each time it is not ready, some check says why
    const unexplained: string[] = [];
    let sampling = true;
    running = await startProcessor({ settings, topics, ruleSet, createTopics: false, partitions: PARTITIONS });
    const { processor } = running;
    const sampler = (async () => {
      let wasReady = false;
      while (sampling) {
        const r = processor.health.report();
        wasReady ||= r.ready;
        if (wasReady && !r.ready && !Object.values(r.checks).some((c) => !c.ok && c.detail.length > 0)) unexplained.push(JSON.stringify(r.checks));
        await new Promise((res) => setTimeout(res, 200));
      }
    })();

    const started = Date.now();
    const text = await waitFor(async () => {
      const t = await processor.metrics.registry.metrics();
      const outcomes = metricSum(t, 'cpiwatch_events_total');
      const lags = t.split('\n').filter((l) => l.startsWith('cpiwatch_consumer_lag{'));
      return metricSum(t, 'cpiwatch_events_consumed_total') === total && outcomes === total && lags.length === 2 * PARTITIONS && lags.every((l) => l.endsWith(' 0')) ? t : undefined;
    }, { timeoutMs: 240_000, intervalMs: 500, what: 'every message consumed and counted, both topics at their end' });
    const drainedMs = Date.now() - started;
    sampling = false;
    await sampler;

    const outcome = (o: string) => metricSum(text, 'cpiwatch_events_total', `outcome="${o}"`);
    const deadLettered = outcome('dead_lettered');
    expect(outcome('applied') + outcome('late') + outcome('duplicate') + outcome('unmatched') + deadLettered).toBe(total);
    expect(deadLettered).toBeGreaterThan(3000);
    // every letter kept, each with a code of the registry
    const letters = await waitForMessages(topics.dlq, deadLettered, { timeoutMs: 60_000, settleMs: 1000 });
    expect(letters.length).toBe(deadLettered);
    expect(letters.filter((l) => !/^CPW\d{3}$/.test(l.headers['cpiwatch-dlq-code'] ?? ''))).toEqual([]);
    expect(unexplained).toEqual([]);
    const health = await waitFor(() => (processor.health.ready ? processor.health.report() : undefined), { timeoutMs: 20_000, what: 'ready at the end' });
    expect(health.checks.partitions.ok).toBe(true);
    const codes = new Map<string, number>();
    for (const l of letters) codes.set(l.headers['cpiwatch-dlq-code']!, (codes.get(l.headers['cpiwatch-dlq-code']!) ?? 0) + 1);
    console.log(`[fuzz] seed ${SEED}: ${total} messages (${hostile.length} hostile) drained in ${drainedMs} ms; applied ${outcome('applied')}, late ${outcome('late')}, duplicate ${outcome('duplicate')}, unmatched ${outcome('unmatched')}, dead-lettered ${deadLettered} ${JSON.stringify(Object.fromEntries(codes))}; poison ${metricSum(text, 'cpiwatch_poison_messages_total')}, batch errors ${metricSum(text, 'cpiwatch_batch_errors_total')}, offers ${metricSum(text, 'cpiwatch_offers_total')}`);
  }, 360_000);
});
