/**
 * The wire form of our CloudEvents (time as an RFC 3339 string) and encoders for both Kafka modes.
 * Used by producers, tests and the sample-data generator; decode.ts reads what these write.
 */
import type { CloudEvent } from './cloud-event.js';
import { formatRfc3339 } from './rfc3339.js';

/** Media type of a structured-mode CloudEvent (the Kafka `content-type` header). */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';
/** Media type of JSON data in binary mode. */
export const JSON_CONTENT_TYPE = 'application/json';

/** A CloudEvent as JSON carries it: the same attributes, `time` as an RFC 3339 string. */
export interface WireCloudEvent<D = Record<string, unknown>> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype?: string;
  traceparent?: string;
  data: D;
}

/** The wire form of an event; attributes in a fixed order, absent optional ones omitted. */
export function toWireEvent<D>(event: CloudEvent<D>): WireCloudEvent<D> {
  const wire: WireCloudEvent<D> = {
    specversion: '1.0',
    id: event.id,
    source: event.source,
    type: event.type,
    time: formatRfc3339(event.time),
  } as WireCloudEvent<D>;
  if (event.subject !== undefined) wire.subject = event.subject;
  if (event.datacontenttype !== undefined) wire.datacontenttype = event.datacontenttype;
  if (event.traceparent !== undefined) wire.traceparent = event.traceparent;
  wire.data = event.data;
  return wire;
}

/** Structured mode: the whole event as the Kafka value (send it with content-type STRUCTURED_CONTENT_TYPE). */
export function encodeStructured<D>(event: CloudEvent<D>): Buffer {
  return Buffer.from(JSON.stringify(toWireEvent(event)), 'utf8');
}

/** Kafka headers of a structured-mode message. */
export function structuredHeaders(): Record<string, string> {
  return { 'content-type': STRUCTURED_CONTENT_TYPE };
}

/** Binary mode: attributes as `ce_*` headers, `content-type` for datacontenttype, data as the value. */
export function encodeBinary<D>(event: CloudEvent<D>): { value: Buffer; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: event.id,
    ce_source: event.source,
    ce_type: event.type,
    ce_time: formatRfc3339(event.time),
  };
  if (event.subject !== undefined) headers.ce_subject = event.subject;
  if (event.traceparent !== undefined) headers.ce_traceparent = event.traceparent;
  headers['content-type'] = event.datacontenttype ?? JSON_CONTENT_TYPE;
  return { value: Buffer.from(JSON.stringify(event.data), 'utf8'), headers };
}
