// Traces on the real broker: with an SDK registered (here an in-memory exporter; `cpiwatch run`
// registers the OTLP one), each batch is a CONSUMER span linked to the producing span of each
// event, from the CloudEvents `traceparent` attribute (structured mode) or a `traceparent` header;
// offers carry the traceparent of the event that led to them. The routing stage's spans (input topic)
// and the owners' spans (ops topic) both link the producers' traces.
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produce, waitFor, waitForMessages } from '../../support/index.js';
import { exampleRules, startProcessor, testSettings, type RunningProcessor } from '../../support/processor.js';
import { CE_JSON, opsScenario } from './scenario.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const hex = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');

describe('batch spans', () => {
  let running: RunningProcessor;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    const { settings, topics } = testSettings('tracing');
    running = await startProcessor({ settings, topics, ruleSet: await exampleRules(), partitions: 1 });
  });

  afterAll(async () => {
    await running?.stop();
    await provider.shutdown();
    trace.disable();
  });

  it('links the span of a batch to the producing span of each event and carries the trace to the offers', async () => {
    const scenario = opsScenario(running.settings.REDIS_PREFIX);
    // every event gets its own producer trace: half as the CloudEvents attribute, half as a Kafka header
    const traceparentOf = new Map<string, string>();
    const messages = [...scenario.profiles, ...scenario.rest].map((e, i) => {
      const tp = `00-${hex(32, i + 1)}-${hex(16, i + 3)}-01`;
      traceparentOf.set(e.event.id, tp);
      if (i % 2 === 0) return { key: e.key, value: JSON.stringify({ ...e.event, traceparent: tp }), headers: { 'content-type': CE_JSON } };
      return { key: e.key, value: JSON.stringify(e.event), headers: { 'content-type': CE_JSON, traceparent: tp } };
    });
    await produce(running.topics.events, messages.slice(0, scenario.profiles.length));
    await produce(running.topics.events, messages.slice(scenario.profiles.length));

    const spans = await waitFor(() => {
      const ended = exporter.getFinishedSpans().filter((s) => s.name === `process ${running.topics.events}`);
      const consumed = ended.reduce((n, s) => n + Number(s.attributes['cpiwatch.events.consumed'] ?? 0), 0);
      return consumed >= messages.length ? ended : undefined;
    }, { timeoutMs: 40_000, what: 'batch spans covering every event' });

    const span = spans[0]!;
    expect(span.kind).toBe(4); // SpanKind.CONSUMER
    expect(span.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': running.topics.events,
      'messaging.destination.partition.id': '0',
      'messaging.consumer.group.name': running.settings.KAFKA_GROUP_ID,
      'cpiwatch.batch.attempt': 1,
    });
    const linked = new Set(spans.flatMap((s) => s.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)));
    // a batch keeps at most 128 links; with batches of up to a few hundred events most are linked
    const expected = [...traceparentOf.values()];
    const found = expected.filter((tp) => linked.has(tp));
    expect(found.length).toBeGreaterThan(Math.min(expected.length, 128 * spans.length) * 0.9);
    expect(spans.every((s) => s.links.every((l) => l.context.isRemote))).toBe(true);
    // the owners' batches (the ops topic) link the same producer traces and publish the offers
    const owners = await waitFor(() => {
      const ended = exporter.getFinishedSpans().filter((s) => s.name === `process ${running.settings.KAFKA_GROUP_ID}.ops`);
      return ended.some((s) => Number(s.attributes['cpiwatch.offers']) > 0) ? ended : undefined;
    }, { timeoutMs: 40_000, what: 'an owner batch span with offers' });
    const ownerLinks = new Set(owners.flatMap((s) => s.links.map((l) => `00-${l.context.traceId}-${l.context.spanId}-01`)));
    expect([...ownerLinks].every((tp) => traceparentOf.size > 0 && [...traceparentOf.values()].includes(tp))).toBe(true);
    expect(ownerLinks.size).toBeGreaterThan(0);

    // from event to offer: each offer carries the traceparent of one of the events, as header and attribute
    const offers = await waitForMessages(running.topics.offers, 1, { timeoutMs: 20_000, settleMs: 500 });
    const all = new Set(traceparentOf.values());
    for (const offer of offers) {
      expect(all.has(offer.headers.traceparent!)).toBe(true);
      expect((offer.json as { traceparent?: string }).traceparent).toBe(offer.headers.traceparent);
    }
  });
});
