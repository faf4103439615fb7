/**
 * `cpiwatch demo`: the quick start. Runs the processor on the example rules against Kafka and Redis,
 * replays the curbside scenario (store A's waits go bad, store B's do not) and prints the offers as
 * they arrive on the offers topic.
 */
import { randomUUID } from 'node:crypto';
import { Processor } from '../../app/processor.js';
import { ensureTopics } from '../../adapters/kafka/topics.js';
import { loadSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { curbsideScenario } from '../../samples/curbside-scenario.js';
import { produceEvents } from '../../samples/produce.js';
import type { OfferData, WireCloudEvent } from '../../actions/offer-event.js';
import { defineCommand } from '../flags.js';

/** A fixed-offset zone where it is about noon now, so quiet hours do not hide the demo's offers. */
function middayZone(now: number): string {
  const offset = Math.max(-12, Math.min(14, 12 - new Date(now).getUTCHours()));
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

export const demoCommand = defineCommand({
  name: 'demo',
  usage: ['cpiwatch demo [--rules <dir>] [--timeout <seconds>]'],
  description: `Runs the processor on the example rules, replays a sample curbside scenario to EVENTS_TOPIC and
prints the offers that appear on OFFERS_TOPIC. Needs Kafka and Redis (npm run stack -- up).`,
  options: {
    rules: { type: 'string', value: 'dir', description: 'the rule files (default: RULES_DIR, else rules)' },
    timeout: { type: 'positive-integer', value: 'seconds', default: 90, description: 'how long to wait for the offers' },
  },
}, async ({ rules, timeout }, _args, io) => {
  const run = randomUUID().slice(0, 8);
  const settings = loadSettings({
    ...process.env,
    EVENTS_TOPIC: process.env.EVENTS_TOPIC ?? `cpiwatch.demo.${run}.events`,
    OFFERS_TOPIC: process.env.OFFERS_TOPIC ?? `cpiwatch.demo.${run}.offers`,
    DECISIONS_TOPIC: process.env.DECISIONS_TOPIC ?? `cpiwatch.demo.${run}.decisions`,
    DLQ_TOPIC: process.env.DLQ_TOPIC ?? `cpiwatch.demo.${run}.dlq`,
    KAFKA_GROUP_ID: process.env.KAFKA_GROUP_ID ?? `cpiwatch-demo-${run}`,
    // its own e-mail group too: joining the shared default group would wait for the members an
    // earlier demo left behind (up to the session timeout) before any e-mail goes out
    EMAIL_GROUP_ID: process.env.EMAIL_GROUP_ID ?? `cpiwatch-demo-${run}-email`,
    REDIS_PREFIX: process.env.REDIS_PREFIX ?? `cpiwatch-demo-${run}`,
    HTTP_PORT: process.env.HTTP_PORT ?? '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...(rules !== undefined ? { RULES_DIR: rules } : {}),
  });
  const timeoutMs = timeout * 1000;
  const log = createLogger(settings.LOG_LEVEL);
  const loaded = await loadRuleSet([settings.RULES_DIR]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    return 1;
  }
  const processor = new Processor({ settings, ruleSet: loaded.ruleSet, log });
  await ensureTopics(processor.kafka, [settings.EVENTS_TOPIC, settings.OFFERS_TOPIC, settings.DECISIONS_TOPIC, settings.DLQ_TOPIC].map((topic) => ({ topic })));
  const offers = processor.kafka.consumer({ groupId: `cpiwatch-demo-reader-${run}` });
  const seen: WireCloudEvent<OfferData>[] = [];
  let lastOfferAt = Date.now();
  await offers.connect();
  await offers.subscribe({ topic: settings.OFFERS_TOPIC, fromBeginning: true });
  await offers.run({
    eachMessage: async ({ message }) => {
      const offer = JSON.parse(String(message.value)) as WireCloudEvent<OfferData>;
      seen.push(offer);
      lastOfferAt = Date.now();
      const t = offer.data.trigger;
      io.stdout(`offer ${offer.id}  ${offer.data.customerId}  "${offer.data.offer.title}"  (${t.cpi} ${t.aggregate}=${Number(t.value.toPrecision(3))} ${t.direction} ${t.threshold} at ${t.scope.dimension}=${t.scope.value})`);
    },
  });
  await processor.start();
  io.stderr(`live page: http://${settings.HTTP_HOST}:${processor.httpPort}/live (while the demo runs)`);

  const now = Date.now();
  const scenario = curbsideScenario({ start: now - 30 * 60_000, seed: 2026, idPrefix: `demo-${run}`, timeZone: middayZone(now), enRoutePerStore: 12 });
  const producer = processor.kafka.producer();
  await producer.connect();
  io.stderr(`replaying ${scenario.events.length} curbside events for ${scenario.stores.length} stores to ${settings.EVENTS_TOPIC} ...`);
  // Facts first: profiles live on other partitions (keyed by customer) than the store's events, and a
  // rule's filter can only see facts that were processed before it fires.
  const isProfile = (e: (typeof scenario.events)[number]) => e.event.type.endsWith('.profile');
  await produceEvents(producer, settings.EVENTS_TOPIC, scenario.events.filter(isProfile));
  await new Promise((r) => setTimeout(r, 1500));
  await produceEvents(producer, settings.EVENTS_TOPIC, scenario.events.filter((e) => !isProfile(e)));
  await producer.disconnect();

  const deadline = Date.now() + timeoutMs;
  const pause = () => new Promise((r) => setTimeout(r, 250));
  while (Date.now() < deadline && (seen.length === 0 || Date.now() - lastOfferAt < 5000)) await pause();
  // the e-mail channel reads the offers topic on its own: wait until it has handled every offer that asks for an e-mail
  const emailResults = async (): Promise<Record<string, number>> => Object.fromEntries((await processor.metrics.emails.get()).values.map((v) => [String(v.labels.result), v.value]));
  const handled = (r: Record<string, number>) => Object.entries(r).reduce((n, [result, count]) => n + (result === 'failed' ? 0 : count), 0);
  const emailsWanted = seen.filter((o) => o.data.channels.email).length;
  if (settings.SMTP_URL) while (Date.now() < deadline && handled(await emailResults()) < emailsWanted) await pause();
  const emails = await emailResults();
  await offers.disconnect();
  await processor.stop();
  const busy = scenario.stores.filter((s) => s.busy).map((s) => s.storeId).join(', ');
  io.stderr(`${seen.length} offer(s) published; slow store(s): ${busy}. Decisions (incl. suppressed) are on ${settings.DECISIONS_TOPIC}.`);
  io.stderr(settings.SMTP_URL
    ? `${emails.sent ?? 0} of ${emailsWanted} offer e-mail(s) sent over SMTP${emails.gave_up ? ` (${emails.gave_up} given up)` : ''}; the local stack's catcher writes them to .stack/mail/.`
    : 'No e-mails: SMTP_URL is not set.');
  return seen.length > 0 ? 0 : 1;
});
