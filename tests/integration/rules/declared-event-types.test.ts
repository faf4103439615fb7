// Event types as data, end to end on the real stack: a rule folder declares survey.answered (not a
// built-in type) and adds cesScore to the built-in ticket.resolved; events of both are produced to
// Kafka, decoded by the running processor with the folder's declarations, feed a CPI and its rule,
// and yield exactly the offers `cpiwatch backtest` computes from the same events. An event that
// breaks the declaration is dead-lettered with CPW203 and the declared field named.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, produce, runCli, waitFor, waitForMessages, withRedis } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';

const DECLARATIONS = `eventTypes:
  - type: survey.answered
    description: A customer answered the survey after a support contact or a store visit.
    fields:
      surveyId: { type: id }
      customerId: { type: id, role: customer }
      storeId: { type: id }
      channel: { type: enum, values: [store, web, phone] }
      cesScore: { type: integer, min: 1, max: 7, description: "Customer effort score: 1 (very easy) to 7 (very hard)" }
    example: { surveyId: s-1, customerId: cust-1, storeId: store-1, channel: store, cesScore: 6 }
  - type: ticket.resolved
    extend: true
    fields:
      cesScore: { type: integer, min: 1, max: 7, optional: true }
`;

const RULES = `cpis:
  - id: store-effort
    description: Average customer effort score per store.
    measure:
      value: { event: survey.answered, field: cesScore }
    groupBy: storeId
    window: 10m
    resolution: 1m
  - id: support-effort
    measure:
      value: { event: ticket.resolved, field: cesScore }
    groupBy: channel
    window: 10m
    resolution: 1m
rules:
  - id: store-effort-apology
    cpi: store-effort
    aggregate: avg
    threshold: { above: 5, clear: 4 }
    minSamples: 3
    target: { contributors: { within: 10m, where: { cesScore: { gte: 5 } } } }
    offer: { kind: voucher, code: EASIER-NEXT-TIME, title: Sorry it was hard work, expiresAfter: 7d }
  - id: support-effort-apology
    cpi: support-effort
    aggregate: max
    threshold: { above: 6 }
    target: { contributors: { within: 10m } }
    offer: { kind: voucher, code: SUPPORT-SORRY, title: Sorry for the effort, expiresAfter: 7d }
`;

const START = Date.UTC(2026, 10, 20, 12, 0, 0);

interface Wire { id: string; type: string; subject?: string; data: { rule?: { id: string }; customerId?: string } }

function ce(id: string, type: string, at: number, data: Record<string, unknown>) {
  return { specversion: '1.0', id, source: 'urn:test:declared-types', type, time: new Date(at).toISOString(), data };
}

/** Store A's customers find it hard work (scores 5-7), store B's do not; one phone ticket took effort. */
function scenario(prefix: string) {
  const events: ReturnType<typeof ce>[] = [];
  for (let i = 0; i < 12; i++) {
    const at = START + i * 20_000;
    events.push(ce(`${prefix}-a${i}`, 'survey.answered', at, { surveyId: `${prefix}-sa${i}`, customerId: `${prefix}-ca${i}`, storeId: `${prefix}-store-a`, channel: 'store', cesScore: 5 + (i % 3), comment: 'an undeclared field is kept' }));
    events.push(ce(`${prefix}-b${i}`, 'survey.answered', at + 5_000, { surveyId: `${prefix}-sb${i}`, customerId: `${prefix}-cb${i}`, storeId: `${prefix}-store-b`, channel: 'web', cesScore: 1 + (i % 2) }));
  }
  events.push(ce(`${prefix}-t1`, 'ticket.resolved', START + 60_000, { ticketId: `${prefix}-t1`, customerId: `${prefix}-ct1`, channel: 'phone', contacts: 3, cesScore: 7 }));
  events.push(ce(`${prefix}-t2`, 'ticket.resolved', START + 70_000, { ticketId: `${prefix}-t2`, customerId: `${prefix}-ct2`, channel: 'web', contacts: 1 }));
  // later traffic moves stream time past the closes of the busy minutes
  for (let i = 0; i < 4; i++) {
    events.push(ce(`${prefix}-late${i}`, 'survey.answered', START + 20 * 60_000 + i * 60_000, { surveyId: `${prefix}-sl${i}`, customerId: `${prefix}-cl${i}`, storeId: `${prefix}-store-c`, channel: 'web', cesScore: 2 }));
  }
  return events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Wire);
const byId = (a: Wire, b: Wire) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('a declared event type on the real stack', () => {
  let running: RunningProcessor;
  let rulesDir: string;
  let eventsFile: string;
  const { settings, topics } = testSettings('declared-types');
  const events = scenario('dt');
  const hostile = ce('dt-bad', 'survey.answered', START + 30_000, { surveyId: 'dt-sx', customerId: 'dt-cx', storeId: 'dt-store-a', channel: 'kiosk', cesScore: 9 });

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpiwatch-declared-types-'));
    rulesDir = join(dir, 'rules');
    await mkdir(rulesDir);
    await writeFile(join(rulesDir, 'survey-events.yaml'), DECLARATIONS);
    await writeFile(join(rulesDir, 'effort.yaml'), RULES);
    eventsFile = join(dir, 'events.ndjson');
    await writeFile(eventsFile, events.map((e) => JSON.stringify(e)).join('\n'));
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules([rulesDir]) });
    await produce(topics.events, [...events.slice(0, 10), hostile, ...events.slice(10)].map((e) => ({ key: e.id, value: e as unknown as Record<string, unknown> })));
  });

  afterAll(async () => {
    await running?.stop();
    await withRedis((r) => deleteKeys(r, settings.REDIS_PREFIX));
  });

  it('validates with the built-in types, and without the declarations the rules name unknown types and fields', async () => {
    const ok = await runCli(['validate', rulesDir]);
    expect(ok.code, ok.err).toBe(0);
    const alone = await runCli(['validate', join(rulesDir, 'effort.yaml')]);
    expect(alone.code).toBe(1);
    expect(alone.err + alone.out).toContain('CPW304 unknown event type "survey.answered"');
    expect(alone.err + alone.out).toContain('CPW314 event type ticket.resolved has no field "cesScore"; declare it in a rule file');
  });

  it('decodes on the broker, feeds the rules and yields the offers the backtest computes', async () => {
    const backtest = await runCli(['backtest', '--rules', rulesDir, '--events', eventsFile]);
    expect(backtest.code, backtest.err).toBe(0);
    const expected = lines(backtest.out).sort(byId);
    const offered = (rule: string) => expected.filter((o) => o.data.rule?.id === rule).map((o) => o.subject).sort();
    // store A's customers with a score of 5 or more (all of them), none of store B's; the phone ticket's customer
    expect(offered('store-effort-apology')).toEqual(Array.from({ length: 12 }, (_, i) => `dt-ca${i}`).sort());
    expect(offered('support-effort-apology')).toEqual(['dt-ct1']);

    await waitFor(async () => (await running.processor.metrics.eventsConsumed.get()).values[0]?.value === events.length + 1, { timeoutMs: 40_000, what: `${events.length + 1} events consumed` });
    const offers = (await waitForMessages(topics.offers, expected.length, { timeoutMs: 30_000, settleMs: 1_000 })).map((m) => m.json as Wire).sort(byId);
    expect(offers).toEqual(expected);

    const fromTopic = await runCli(['backtest', '--rules', rulesDir, '--topic', topics.events], { KAFKA_BROKERS: settings.KAFKA_BROKERS.join(',') });
    expect(fromTopic.code, fromTopic.err).toBe(0);
    expect(lines(fromTopic.out).sort(byId)).toEqual(expected);
  });

  it('dead-letters an event that breaks the declaration, naming each declared field it breaks', async () => {
    const [letter] = await waitForMessages(topics.dlq, 1, { timeoutMs: 30_000 });
    expect(letter!.key).toBe('dt-bad');
    expect(letter!.headers['cpiwatch-dlq-code']).toBe('CPW203');
    expect(letter!.headers['cpiwatch-dlq-reason']).toBe(
      'event data does not match the schema of survey.answered: data.channel: expected one of "store" | "web" | "phone", got "kiosk"; data.cesScore: expected <= 7, got 9',
    );
  });
});
