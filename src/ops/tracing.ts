/**
 * Tracing through @opentelemetry/api only: without an SDK (tests, backtests, `cpiwatch run` without
 * OTEL_EXPORTER_OTLP_ENDPOINT) every call here is a no-op. The SDK is wired at the entry point
 * (src/ops/otel-sdk.ts, from `cpiwatch run`).
 *
 * One span per consumed batch (`process <topic>`, kind CONSUMER), linked to the producing span of
 * each event: the W3C `traceparent` the event carried (CloudEvents distributed-tracing extension,
 * or a plain Kafka header). Links rather than a parent, since one batch has many producers.
 */
import { type Link, type Span, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';

export const TRACER_NAME = 'cpiwatch';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context of a W3C traceparent (version 00 layout), or undefined when it is not one. */
export function linkOf(traceparent: string): Link | undefined {
  const m = TRACEPARENT.exec(traceparent.trim());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  const sampled = (parseInt(m[4]!, 16) & 1) === 1;
  return { context: { traceId: m[2]!, spanId: m[3]!, traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true } };
}

/** Distinct links of some traceparents, at most `max` (a batch of thousands keeps its span small). */
export function linksOf(traceparents: Iterable<string>, max = 128): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const tp of traceparents) {
    if (links.length >= max) break;
    if (seen.has(tp)) continue;
    seen.add(tp);
    const link = linkOf(tp);
    if (link) links.push(link);
  }
  return links;
}

export interface BatchSpanInfo {
  topic: string;
  partition: number;
  groupId: string;
  messages: number;
  firstOffset: string;
  lastOffset: string;
  attempt: number;
}

/** Starts the span of one batch (one attempt of it); end it with endBatchSpan. */
export function startBatchSpan(info: BatchSpanInfo): Span {
  return trace.getTracer(TRACER_NAME).startSpan(`process ${info.topic}`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': info.topic,
      'messaging.destination.partition.id': String(info.partition),
      'messaging.consumer.group.name': info.groupId,
      'messaging.batch.message_count': info.messages,
      'cpiwatch.batch.first_offset': info.firstOffset,
      'cpiwatch.batch.last_offset': info.lastOffset,
      'cpiwatch.batch.attempt': info.attempt,
    },
  });
}

export interface BatchOutcome {
  traceparents: readonly string[];
  counts: Record<string, number>;
  offers: number;
}

/** Ends a batch span: links to the events' producers, outcome counts, or the error. */
export function endBatchSpan(span: Span, outcome: BatchOutcome | { error: unknown }): void {
  if ('error' in outcome) {
    const err = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  } else {
    const links = linksOf(outcome.traceparents);
    if (links.length > 0) span.addLinks(links);
    for (const [k, v] of Object.entries(outcome.counts)) span.setAttribute(`cpiwatch.events.${k}`, v);
    span.setAttribute('cpiwatch.offers', outcome.offers);
  }
  span.end();
}
