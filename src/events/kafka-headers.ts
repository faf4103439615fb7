/**
 * The Kafka headers the event decoder reads: `content-type`, a plain W3C `traceparent`, and the
 * `ce_*` attributes of binary mode. A header that is present but unusable (not UTF-8, given twice,
 * not a string) is kept as a HeaderProblem, so the decoder can name it in its reason.
 */
import { isUtf8 as isUtf8Buffer } from 'node:buffer';
import { kindOf } from './zod-issues.js';

/** Kafka header values as kafkajs delivers them. */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, HeaderValue>;

/** A header that is present but unusable (not UTF-8, repeated, not a string). */
export interface HeaderProblem {
  problem: string;
}
export type HeaderText = string | HeaderProblem | undefined;

export function isProblem(v: unknown): v is HeaderProblem {
  return typeof v === 'object' && v !== null && 'problem' in v;
}

function headerText(v: unknown): HeaderText {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) {
    // kafkajs hands out Buffers; invalid UTF-8 would silently become U+FFFD in an id or type
    return isUtf8Buffer(v) ? v.toString('utf8') : { problem: 'not valid UTF-8' };
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    if (v.length === 1) return headerText(v[0]);
    return { problem: `given ${v.length} times` };
  }
  return { problem: `expected a string or bytes, got ${kindOf(v)}` };
}

/** The headers the decoder looks at. */
export interface ReadHeaders {
  contentType: HeaderText;
  /** Plain W3C `traceparent` header (OpenTelemetry's Kafka propagation), a fallback for the attribute. */
  traceparent: HeaderText;
  /** `ce_<attribute>` headers by attribute name. */
  ce: Record<string, HeaderText> | undefined;
}

const CE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion', 'id', 'source', 'type', 'time', 'subject', 'traceparent',
]);

export function readHeaders(headers: KafkaHeaders | undefined): ReadHeaders {
  const out: ReadHeaders = { contentType: undefined, traceparent: undefined, ce: undefined };
  if (headers === undefined || headers === null || typeof headers !== 'object') return out;
  for (const key of Object.keys(headers)) {
    const name = key.toLowerCase();
    if (name === 'content-type') {
      out.contentType = out.contentType === undefined ? contentTypeText(headers[key]) : { problem: 'given twice' };
    } else if (name === 'traceparent') {
      out.traceparent = headerText(headers[key]);
    } else if (name.startsWith('ce_')) {
      const attr = name.slice(3);
      if (!CE_ATTRIBUTES.has(attr)) continue; // other extensions are not kept
      out.ce ??= {};
      out.ce[attr] = out.ce[attr] === undefined ? headerText(headers[key]) : { problem: 'given twice' };
    }
  }
  return out;
}

/**
 * The content-type header of the last message, as bytes and as text: every message of a producer
 * carries the same one, so its UTF-8 check and decoding are done once, not per message. A copy of
 * the bytes (kafkajs hands out slices of the fetch's buffer, which must not be kept alive).
 */
let lastContentType: { bytes: Buffer; text: string } | undefined;

function contentTypeText(v: unknown): HeaderText {
  if (Buffer.isBuffer(v) && lastContentType !== undefined && v.equals(lastContentType.bytes)) return lastContentType.text;
  const text = headerText(v);
  if (Buffer.isBuffer(v) && typeof text === 'string') lastContentType = { bytes: Buffer.from(v), text };
  return text;
}

let lastMedia: { contentType: string; media: string } | undefined;

/** Lower-cased media type without parameters: `Application/JSON; charset=utf-8` -> `application/json`. */
export function mediaTypeOf(contentType: string): string {
  if (lastMedia !== undefined && lastMedia.contentType === contentType) return lastMedia.media;
  const semi = contentType.indexOf(';');
  const media = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  lastMedia = { contentType, media };
  return media;
}

export function isJsonMediaType(media: string): boolean {
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}
