// Output the broker refuses for good (CPW604), on the real stack (docs/operations.md, "Poison
// messages"). An internal ops topic that takes only 4,000-byte records: a routing batch whose ops
// record is bigger fails on its input, and is split until its parts fit; nothing is lost, the offers
// are those of a clean run. An offers topic that takes 1,500-byte records, less than any offer: each
// offer goes to the dead-letter topic instead (CPW604, the offer as the value), the decisions still
// reach the decisions topic, and the partitions move on.
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, produce, waitFor, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { asProduced, opsScenario, uninterrupted } from './scenario.js';
import { metricSum } from '../../support/metrics.js';


async function scenarioRun(label: string, topicConfig: { offers?: Record<string, string>; ops?: Record<string, string> }) {
  const { settings, topics } = testSettings(label);
  await createTopic(topics.events, { partitions: 2 });
  await createTopic(topics.offers, { config: topicConfig.offers ?? {} });
  await createTopic(topics.decisions);
  await createTopic(topics.dlq);
  if (topicConfig.ops) await createTopic(`${settings.KAFKA_GROUP_ID}.ops`, { partitions: 2, config: topicConfig.ops });
  const ruleSet = await exampleRules();
  const scenario = opsScenario(settings.REDIS_PREFIX);
  const clean = await uninterrupted(ruleSet, scenario);
  expect(clean.offered.length).toBeGreaterThan(0);
  await produce(topics.events, asProduced(scenario.profiles));
  await produce(topics.events, asProduced(scenario.rest));
  const running = await startProcessor({ settings, topics, ruleSet, createTopics: false, partitions: 2 });
  const { processor } = running;
  const total = scenario.events.length;
  const metrics = () => processor.metrics.registry.metrics();
  // every event consumed and, per the lag gauge (broker end offsets against the groups' committed
  // offsets), both topics' partitions at their end
  await waitFor(async () => {
    const t = await metrics();
    const lags = t.split('\n').filter((l) => l.startsWith('cpiwatch_consumer_lag{'));
    return metricSum(t, 'cpiwatch_events_consumed_total') === total && lags.length === 4 && lags.every((l) => l.endsWith(' 0')) ? t : undefined;
  }, { timeoutMs: 120_000, what: 'every event consumed, no lag on any partition' });
  const health = await waitFor(() => (processor.health.ready ? processor.health.report() : undefined), { timeoutMs: 20_000, what: 'ready' });
  expect(health.checks.partitions).toEqual({ ok: true, detail: 'every partition is moving' });
  return { running, topics, clean, total, metrics };
}

describe('output the broker refuses for good', () => {
  const running: RunningProcessor[] = [];
  afterAll(async () => { for (const r of running) await r.stop(); });

  it('an ops record too big for the ops topic: the routing batch is split until its parts fit, nothing lost', async () => {
    const r = await scenarioRun('poison-ops', { ops: { 'max.message.bytes': '4000' } });
    running.push(r.running);
    const offers = await waitForMessages(r.topics.offers, r.clean.offered.length, { timeoutMs: 30_000, settleMs: 1000 });
    expect(offers.map((m) => (m.json as { id: string }).id).sort()).toEqual(r.clean.offered.map((d) => d.offerId).sort());
    const text = await r.metrics();
    // the splits were attempts the input caused, none retried as an outage, nothing dead-lettered
    expect(metricSum(text, 'cpiwatch_batch_errors_total', 'retriable="false"')).toBeGreaterThan(0);
    expect(metricSum(text, 'cpiwatch_batch_errors_total', 'retriable="true"')).toBe(0);
    expect(metricSum(text, 'cpiwatch_poison_messages_total')).toBe(0);
    expect(metricSum(text, 'cpiwatch_offers_total')).toBe(r.clean.offered.length);
    console.log(`[poison] ops topic of 4,000-byte records: ${r.total} events in ${metricSum(text, 'cpiwatch_batch_errors_total')} splits, ${offers.length} offers as in a clean run`);
  }, 180_000);

  it('an offer too big for the offers topic: dead-lettered with CPW604 (the offer as the value), the partition moves on', async () => {
    const r = await scenarioRun('poison-offers', { offers: { 'max.message.bytes': '1500' } });
    running.push(r.running);
    const ids = r.clean.offered.map((d) => d.offerId).sort();
    const letters = await waitForMessages(r.topics.dlq, ids.length, { timeoutMs: 30_000, settleMs: 1000 });
    expect(letters.map((l) => l.headers['cpiwatch-dlq-code'])).toEqual(ids.map(() => 'CPW604'));
    expect(letters.map((l) => (l.json as { id: string; type: string }).id).sort()).toEqual(ids);
    for (const l of letters) expect(l.headers['cpiwatch-dlq-reason']).toContain(`${r.topics.offers}: a record of`);
    const decisions = await waitForMessages(r.topics.decisions, r.clean.decisions.length, { timeoutMs: 30_000, settleMs: 1000 });
    expect(decisions.map((m) => (m.json as { id: string }).id).sort()).toEqual(r.clean.decisions.map((d) => d.offerId).sort());
    expect(await waitForMessages(r.topics.offers, 0, { timeoutMs: 2_000, settleMs: 500 })).toHaveLength(0);
    const text = await r.metrics();
    expect(metricSum(text, 'cpiwatch_offers_total')).toBe(0);
    expect(metricSum(text, 'cpiwatch_events_invalid_total', 'code="CPW604"')).toBe(ids.length);
    expect(metricSum(text, 'cpiwatch_batch_errors_total')).toBe(0);
    console.log(`[poison] offers topic of 1,500-byte records: ${letters.length} offers dead-lettered with CPW604, ${decisions.length} decisions published`);
  }, 180_000);
});
