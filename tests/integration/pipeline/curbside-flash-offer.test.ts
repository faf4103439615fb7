// The seeds' scenario end to end on the real stack: Kafka in, Redis windows, offers on Kafka,
// e-mails through a real SMTP server, and a replay that adds nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferData, WireCloudEvent } from '../../../src/actions/offer-event.js';
import { isHeldOut } from '../../../src/guardrails/stateless.js';
import { curbsideScenario, type Scenario } from '../../../src/samples/curbside-scenario.js';
import { produce, sleep, startSmtpServer, waitFor, waitForMessages, type TestSmtpServer } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';

const START = Date.now() - 40 * 60_000;
const RULE = 'curbside-flash-drink';

describe('curbside flash offer on the real stack', () => {
  let smtp: TestSmtpServer;
  let running: RunningProcessor;
  let scenario: Scenario;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    const { settings, topics } = testSettings('curbside', { SMTP_URL: smtp.url });
    // a fixed zone where it is midday for the scenario, so quiet hours stay out of this test
    const offset = 12 - new Date(START).getUTCHours();
    const zone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    // a fixed id prefix: the holdout group is a hash of rule and customer id, so random ids left
    // fewer than 8 customers outside it on some runs (topics and the Redis prefix isolate the test)
    scenario = curbsideScenario({ start: START, seed: 99, idPrefix: 'flash', enRoutePerStore: 20, timeZone: zone });
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules(), partitions: 3 });
  });

  afterAll(async () => {
    await running?.stop();
    await smtp?.stop();
  });

  const send = (events: Scenario['events']) => produce(running.topics.events, events.map((e) => ({ key: e.key, value: e.event as unknown as Record<string, unknown> })));

  it('offers exactly the high-value customers en route to the slow store, once each, by Kafka and e-mail', async () => {
    const profiles = scenario.events.filter((e) => e.event.type.endsWith('.profile'));
    await send(profiles);
    await sleep(1500); // facts first: they live on other partitions than the stores' events
    await send(scenario.events.filter((e) => !e.event.type.endsWith('.profile')));

    const slow = scenario.stores.find((s) => s.busy)!.storeId;
    const highValueToSlow = scenario.enRoute.filter((c) => c.storeId === slow && ['gold', 'platinum'].includes(c.valueTier));
    const offered = highValueToSlow.filter((c) => !isHeldOut(RULE, c.customerId, 10)).map((c) => c.customerId).sort();
    const heldOut = highValueToSlow.filter((c) => isHeldOut(RULE, c.customerId, 10)).map((c) => c.customerId).sort();
    expect(offered.length).toBeGreaterThanOrEqual(8);

    const offers = await waitForMessages(running.topics.offers, offered.length, { timeoutMs: 60_000, settleMs: 2000 });
    const events = offers.map((m) => m.json as WireCloudEvent<OfferData>);
    expect(events.map((e) => e.data.customerId).sort()).toEqual(offered);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const e of events) {
      expect(e.data.rule.id).toBe(RULE);
      expect(e.data.trigger.scope).toEqual({ dimension: 'storeId', value: slow });
      expect(e.data.trigger.value).toBeGreaterThan(1.25);
    }

    const decisions = await waitForMessages(running.topics.decisions, offered.length + heldOut.length, { timeoutMs: 30_000, settleMs: 1000 });
    const suppressed = decisions.map((m) => m.json as { data: { outcome: string; reason?: string; customerId: string } }).filter((d) => d.data.outcome === 'suppressed');
    expect(suppressed.map((d) => d.data.customerId).sort()).toEqual(heldOut);
    expect(suppressed.every((d) => d.data.reason === 'holdout')).toBe(true);

    const mails = await smtp.waitForMessages(offered.length, 30_000);
    expect(mails.map((m) => m.headers['x-cpiwatch-offer-id']).sort()).toEqual(events.map((e) => e.id).sort());
    for (const mail of mails) expect(mail.to[0]).toMatch(/@example\.com$/);
  });

  it('a second replay of the same events adds no offer and no e-mail', async () => {
    const offersBefore = (await waitForMessages(running.topics.offers, 1, { settleMs: 2000 })).length;
    const mailsBefore = smtp.messages.length;
    await send(scenario.events);
    // the replay is fully processed once the consumer group's lag is back to zero
    await waitFor(async () => {
      const admin = running.processor.kafka.admin();
      await admin.connect();
      try {
        const [offsets] = await admin.fetchOffsets({ groupId: running.settings.KAFKA_GROUP_ID, topics: [running.topics.events] });
        const ends = await admin.fetchTopicOffsets(running.topics.events);
        return offsets!.partitions.every((p) => p.offset === ends.find((e) => e.partition === p.partition)!.high);
      } finally {
        await admin.disconnect();
      }
    }, { timeoutMs: 60_000, what: 'the replay to be consumed and committed' });
    await sleep(3000);
    expect((await waitForMessages(running.topics.offers, offersBefore, { settleMs: 1000 })).length).toBe(offersBefore);
    expect(smtp.messages.length).toBe(mailsBefore);
  });
});
