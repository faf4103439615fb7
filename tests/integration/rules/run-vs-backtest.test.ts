// One engine: the offers a running processor publishes (real Kafka, Redis) are exactly the offers
// `cpiwatch backtest` writes for the same events, ids and content, on a scenario with several
// stores, out-of-order events and every guardrail in play. Also the suppressed decisions, and the
// offer texts a rule renders from a template (customer and store facts as of the decision, by locale).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, produce, runCli, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { scenarioEvents, writeScenarioRules } from './scenario.js';

interface Wire { id: string; type: string; data: { outcome?: string; reason?: string; rule?: { id: string }; offer?: { title: string; terms?: string; locale?: string } } }

const cli = runCli;

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Wire);
const byId = (a: Wire, b: Wire) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('run and backtest take the same decisions', () => {
  let running: RunningProcessor;
  let rulesDir: string;
  let eventsFile: string;
  const { settings, topics } = testSettings('run-vs-backtest');
  // A fixed id prefix: the holdout group is a hash of rule and customer id, so random ids would put
  // no customer in it on some runs (topics and the Redis prefix already isolate this test).
  const events = scenarioEvents('rvb');

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-run-vs-backtest-'));
    rulesDir = join(dir, 'rules');
    await writeScenarioRules(rulesDir);
    eventsFile = join(dir, 'events.ndjson');
    await writeFile(eventsFile, events.map((e) => JSON.stringify(e.event)).join('\n'));
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules([rulesDir]) });
    // in chunks while the processor runs, so it sees batches of many sizes
    for (let i = 0; i < events.length; i += 97) {
      await produce(topics.events, events.slice(i, i + 97).map((e) => ({ key: e.key, value: e.event as unknown as Record<string, unknown> })));
    }
  });

  afterAll(async () => {
    await running?.stop();
    await withRedis((r) => deleteKeys(r, settings.REDIS_PREFIX));
  });

  it('publishes exactly the offers and suppressions the backtest writes, from a file and from the topic', async () => {
    const fromFile = await cli(['backtest', '--rules', rulesDir, '--events', eventsFile, '--decisions']);
    expect(fromFile.code, fromFile.err).toBe(0);
    const expected = lines(fromFile.out);
    const expectedOffers = expected.filter((e) => e.type === 'cpiwatch.offer.v1').sort(byId);
    const expectedSuppressed = expected.filter((e) => e.type !== 'cpiwatch.offer.v1').sort(byId);
    const reasons = new Set(expectedSuppressed.map((e) => e.data.reason));
    expect([...reasons].sort()).toEqual(['budget', 'cooldown', 'customer-cooldown', 'holdout', 'kill-switch', 'quiet-hours']);
    expect(expectedOffers.length).toBeGreaterThan(10);

    await waitFor(async () => (await running.processor.metrics.eventsConsumed.get()).values[0]?.value === events.length, { timeoutMs: 40_000, what: `${events.length} events consumed` });
    const offers = (await waitForMessages(topics.offers, expectedOffers.length, { timeoutMs: 20_000, settleMs: 500 })).map((m) => m.json as Wire).sort(byId);
    const decisions = (await waitForMessages(topics.decisions, expectedOffers.length + expectedSuppressed.length, { timeoutMs: 20_000, settleMs: 500 })).map((m) => m.json as Wire);
    expect(offers).toEqual(expectedOffers);
    // the templated texts of curbside-apology: rendered, in both languages, the same in run and backtest
    const apologies = offers.filter((o) => o.data.rule?.id === 'curbside-apology').map((o) => o.data.offer!);
    expect(apologies.length).toBeGreaterThan(3);
    for (const t of apologies) {
      expect(t.title).toMatch(t.locale === 'fr' ? /^Customer \d+, pardon pour l'attente à Store \S+$/ : /^Customer \d+, sorry for the wait at Store \S+$/);
      expect(t.terms).toMatch(/^(Waits ran|Attente de) \d+(\.\d+)? x /);
    }
    expect(new Set(apologies.map((t) => t.locale ?? 'default'))).toEqual(new Set(['fr', 'default']));
    // curbside-flash-drink's title fails for en-US customers: the rule's own title, counted, in run as in backtest
    const drinks = offers.filter((o) => o.data.rule?.id === 'curbside-flash-drink').map((o) => o.data.offer!.title);
    const fellBack = drinks.filter((t) => t === 'A drink on us while you wait').length;
    expect(fellBack).toBeGreaterThan(0);
    expect(drinks.length - fellBack).toBeGreaterThan(0);
    for (const t of drinks) expect(t).toMatch(/^(A drink on us while you wait|Customer \d+, a drink on us at Store \S+)$/);
    const counted = (await running.processor.metrics.offerTextFallbacks.get()).values;
    expect(counted.map((v) => [v.labels.rule, v.value])).toEqual([['curbside-flash-drink', fellBack]]);
    expect(decisions.filter((d) => d.data.outcome === 'suppressed').sort(byId)).toEqual(expectedSuppressed);
    expect(decisions.filter((d) => d.data.outcome === 'offered').map((d) => d.id).sort()).toEqual(expectedOffers.map((o) => o.id));

    const fromTopic = await cli(['backtest', '--rules', rulesDir, '--topic', topics.events], { KAFKA_BROKERS: settings.KAFKA_BROKERS.join(',') });
    expect(fromTopic.code, fromTopic.err).toBe(0);
    expect(lines(fromTopic.out).sort(byId)).toEqual(expectedOffers);
    expect(fromTopic.err).toContain(`partition 0 offsets 0..${events.length - 1}`);
  });

  it('explains a running system\'s decision from the decisions topic and the Redis ledger', async () => {
    const decided = (await waitForMessages(topics.decisions, 1)).map((m) => m.json as Wire & { subject: string; data: { rule: { id: string } } });
    const held = decided.find((d) => d.data.reason === 'holdout') ?? decided[0]!;
    const env = {
      KAFKA_BROKERS: settings.KAFKA_BROKERS.join(','), REDIS_URL: settings.REDIS_URL, REDIS_PREFIX: settings.REDIS_PREFIX, DECISIONS_TOPIC: topics.decisions,
    };
    const { code, out, err } = await cli(['explain', '--customer', held.subject, '--rules', rulesDir], env);
    expect(code, err).toBe(0);
    if (process.env.SHOW_EXPLAIN) console.log(out);
    expect(out).toContain(`customer ${held.subject} (running system: ${topics.decisions} and the Redis ledger)`);
    expect(out).toMatch(new RegExp(`${held.data.rule.id}:\\n  (OFFERED|SUPPRESSED \\(\\w[\\w-]*\\)) at .*ledger: published; id ${held.id}`));
  });

  it('backtests a range of the topic, by offsets or by time', async () => {
    const env = { KAFKA_BROKERS: settings.KAFKA_BROKERS.join(',') };
    const some = await cli(['backtest', '--rules', rulesDir, '--topic', topics.events, '--from', '100', '--to', '300'], env);
    expect(some.code, some.err).toBe(0);
    expect(some.err).toContain('partition 0 offsets 100..299');
    expect(some.err).toMatch(/backtest: 200 events \(/);
    const later = await cli(['backtest', '--rules', rulesDir, '--topic', topics.events, '--from', new Date(Date.now() + 3_600_000).toISOString()], env);
    expect(later.code, later.err).toBe(0);
    expect(later.err).toContain('partition 0 nothing in range');
    expect(later.out).toBe('');
    const all = await cli(['backtest', '--rules', rulesDir, '--topic', topics.events, '--from', new Date(Date.now() - 3_600_000).toISOString()], env);
    expect(all.err).toMatch(new RegExp(`backtest: ${events.length} events \\(`));
  });
});
