/**
 * Kafka message -> validated CloudEvent. The first thing every consumed event goes through, so it is
 * on the hot path and must never throw: every problem becomes `{ ok: false, code, reason }` with a
 * CPW2xx code from the error registry, ready for the dead-letter topic.
 *
 * Two CloudEvents 1.0 Kafka modes (https://github.com/cloudevents/spec, kafka-protocol-binding):
 * - structured: the Kafka value is the whole event as JSON; `content-type` header
 *   `application/cloudevents+json` or absent;
 * - binary: attributes in `ce_*` headers, `content-type` header for the data's media type, the
 *   Kafka value is the data. Chosen when a `ce_specversion` header is present and the content type
 *   is not a CloudEvents one.
 *
 * Checks, in order (the first failing one decides the code):
 *  size (CPW204) -> content-type header (CPW201, CPW208) -> UTF-8 (CPW200) -> nesting depth
 *  (CPW207) -> JSON syntax (CPW200) -> `__proto__` keys (CPW209) -> JSON object with the required
 *  attributes, all reported at once (CPW201) -> known type (CPW202) -> RFC 3339 time (CPW205) ->
 *  JSON data content type (CPW208) -> data schema of the type, all issues at once (CPW203) ->
 *  no +-Infinity in open data fields (CPW203).
 * The types and their data schemas come from an EventTypeRegistry: the rule set's (its own
 * declarations and the shipped library), the shipped library alone by default.
 * In binary mode the attribute checks come before the value is parsed.
 */
import { ErrorCodes, type ErrorCode, type ErrorName } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import type { CloudEvent } from './cloud-event.js';
import { findNonFinite, hasNonFinite, parseJsonGuarded, pathToString, type GuardedJson } from './json-guard.js';
import { isJsonMediaType, isProblem, mediaTypeOf, readHeaders, type KafkaHeaders, type ReadHeaders } from './kafka-headers.js';
import { BUILTIN_EVENT_TYPES } from './library.js';
import type { DeclaredEventType, EventTypeRegistry } from './registry.js';
import { parseRfc3339 } from './rfc3339.js';
import { echo, formatZodIssues, kindOf } from './zod-issues.js';

export {
  encodeBinary,
  encodeStructured,
  JSON_CONTENT_TYPE,
  STRUCTURED_CONTENT_TYPE,
  structuredHeaders,
  toWireEvent,
  type WireCloudEvent,
} from './encode.js';

export type { HeaderValue, KafkaHeaders } from './kafka-headers.js';

/** The parts of a kafkajs message the decoder reads (the key is not used). */
export interface KafkaMessageLike {
  value: Buffer | null;
  headers?: KafkaHeaders;
  key?: Buffer | null;
}

export interface DecodeLimits {
  /** Largest accepted Kafka value in bytes; larger values are rejected before parsing. */
  maxBytes: number;
  /** Deepest accepted nesting of JSON objects/arrays, the event envelope counting as 1. Default 64. */
  maxDepth?: number;
}

export type DecodeMode = 'structured' | 'binary';
export type DecodeSuccess = { ok: true; event: CloudEvent; mode: DecodeMode };
export type DecodeFailure = { ok: false; code: ErrorCode; reason: string };
export type DecodeResult = DecodeSuccess | DecodeFailure;

export const DEFAULT_MAX_DEPTH = 64;

const STRUCTURED_MEDIA_TYPE = 'application/cloudevents+json';

/** W3C trace context `traceparent` (version 00 layout); invalid values are dropped, not fatal. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

function fail(name: ErrorName, ...args: unknown[]): DecodeFailure {
  return { ok: false, code: ErrorCodes[name].code, reason: messageOf(name, ...args) };
}

function guardFailure(parsed: Exclude<GuardedJson, { ok: true }>, maxDepth: number): DecodeFailure {
  switch (parsed.problem) {
    case 'not-json':
      return fail('EVENT_NOT_JSON', parsed.detail);
    case 'too-deep':
      return { ...fail('EVENT_TOO_DEEP', maxDepth), reason: `${messageOf('EVENT_TOO_DEEP', maxDepth)} (${parsed.detail})` };
    case 'forbidden-key':
      return fail('EVENT_FORBIDDEN_KEY', parsed.detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Attributes (shared by both modes)

/** Attribute values as found: JSON values in structured mode, header texts in binary mode. */
interface RawAttributes {
  specversion: unknown;
  id: unknown;
  source: unknown;
  type: unknown;
  time: unknown;
  subject: unknown;
}

interface Envelope {
  id: string;
  source: string;
  type: string;
  subject: string | undefined;
}

function requiredString(v: unknown, name: string, issues: string[]): string {
  if (typeof v === 'string') {
    if (v.length > 0) return v;
    issues.push(`${name}: expected a non-empty string, got ""`);
  } else if (v === undefined) {
    issues.push(`${name}: missing`);
  } else if (isProblem(v)) {
    issues.push(`${name}: ${v.problem}`);
  } else {
    issues.push(`${name}: expected a non-empty string, got ${kindOf(v)}`);
  }
  return '';
}

/** Validates the context attributes; `prefix` is "" (JSON member names) or "ce_" (header names). */
function checkAttributes(raw: RawAttributes, prefix: string): Envelope | DecodeFailure {
  let issues: string[] | undefined;
  const sv = raw.specversion;
  if (sv !== '1.0') {
    issues = [];
    if (sv === undefined || sv === null) issues.push(`${prefix}specversion: missing (expected "1.0")`);
    else if (isProblem(sv)) issues.push(`${prefix}specversion: ${sv.problem}`);
    else issues.push(`${prefix}specversion: expected "1.0", got ${echo(sv)}`);
  }
  // fast path: all present and well-typed
  const { id, source, type, subject } = raw;
  const subjectOk = subject === undefined || subject === null || (typeof subject === 'string' && subject.length > 0);
  if (
    issues === undefined && subjectOk &&
    typeof id === 'string' && id.length > 0 &&
    typeof source === 'string' && source.length > 0 &&
    typeof type === 'string' && type.length > 0
  ) {
    return { id, source, type, subject: typeof subject === 'string' ? subject : undefined };
  }
  issues ??= [];
  requiredString(id, `${prefix}id`, issues);
  requiredString(source, `${prefix}source`, issues);
  requiredString(type, `${prefix}type`, issues);
  if (!subjectOk) {
    if (isProblem(subject)) issues.push(`${prefix}subject: ${subject.problem}`);
    else if (subject === '') issues.push(`${prefix}subject: expected a non-empty string when present, got ""`);
    else issues.push(`${prefix}subject: expected a string, got ${kindOf(subject)}`);
  }
  return fail('EVENT_NOT_CLOUDEVENT', issues.join('; '));
}

function checkTime(v: unknown, name: string): number | DecodeFailure {
  if (typeof v === 'string') {
    const t = parseRfc3339(v);
    if (typeof t === 'number') return t;
    return fail('EVENT_TIME_INVALID', `${name}: ${echo(v)} is not a valid RFC 3339 date-time: ${t}`);
  }
  if (v === undefined || v === null) {
    return fail('EVENT_TIME_INVALID', `${name}: missing (cpiwatch needs the event time, e.g. "2025-03-14T09:26:53Z")`);
  }
  if (isProblem(v)) return fail('EVENT_TIME_INVALID', `${name}: ${v.problem}`);
  return fail('EVENT_TIME_INVALID', `${name}: expected an RFC 3339 string, got ${kindOf(v)}`);
}

function validTraceparent(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    if (typeof c === 'string' && c.length === 55 && TRACEPARENT.test(c)) return c;
  }
  return undefined;
}

function buildEvent(
  declared: DeclaredEventType,
  env: Envelope,
  time: number,
  data: unknown,
  datacontenttype: string | undefined,
  traceparent: string | undefined,
): CloudEvent | DecodeFailure {
  // valid data takes the fast path; anything it is not sure of goes through zod, whose verdict and issues decide
  let checked = declared.fastCheck?.(data);
  if (checked === undefined) {
    const parsed = declared.schema.safeParse(data);
    if (!parsed.success) {
      return fail('EVENT_DATA_INVALID', env.type, formatZodIssues(parsed.error.issues, data, 'data', declared.pii));
    }
    checked = parsed.data as Record<string, unknown>;
  }
  // open data fields are kept unvalidated; an Infinity there (a number beyond double range) would poison sums and averages
  if (hasNonFinite(checked)) {
    const at = findNonFinite(checked)!;
    return fail('EVENT_DATA_INVALID', env.type, `${pathToString('data', at)}: a number out of range (too large for a double)`);
  }
  const event: CloudEvent = {
    specversion: '1.0',
    id: env.id,
    source: env.source,
    type: env.type,
    time,
    data: checked,
  };
  if (env.subject !== undefined) event.subject = env.subject;
  if (datacontenttype !== undefined) event.datacontenttype = datacontenttype;
  if (traceparent !== undefined) event.traceparent = traceparent;
  return event;
}

function isFailure(v: unknown): v is DecodeFailure {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

function unknownType(type: string, types: EventTypeRegistry): DecodeFailure {
  const f = fail('EVENT_UNKNOWN_TYPE', type.length > 100 ? `${type.slice(0, 100)}...` : type);
  return { ...f, reason: `${f.reason} (expected one of: ${types.nameList})` };
}

// ---------------------------------------------------------------------------------------------
// The two modes

function decodeStructured(value: Buffer, hdr: ReadHeaders, maxDepth: number, types: EventTypeRegistry): DecodeResult {
  if (value.length === 0) return fail('EVENT_NOT_JSON', 'the Kafka value is empty');
  const parsed = parseJsonGuarded(value, maxDepth, 'the Kafka value', '');
  if (!parsed.ok) return guardFailure(parsed, maxDepth);
  const obj = parsed.value;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return fail('EVENT_NOT_CLOUDEVENT', `expected a JSON object, got ${kindOf(obj)}`);
  }
  // Own JSON members only: none of these names exists on Object.prototype and `__proto__` keys are rejected.
  const o = obj as Record<string, unknown>;
  const env = checkAttributes(o as unknown as RawAttributes, '');
  if (isFailure(env)) return env;
  const declared = types.get(env.type);
  if (declared === undefined) return unknownType(env.type, types);
  const time = checkTime(o.time, 'time');
  if (typeof time !== 'number') return time;

  let datacontenttype: string | undefined;
  const dct = o.datacontenttype;
  if (dct !== undefined && dct !== null) {
    if (typeof dct !== 'string' || dct.length === 0) {
      return fail('EVENT_NOT_CLOUDEVENT', `datacontenttype: expected a non-empty string, got ${echo(dct)}`);
    }
    if (!isJsonMediaType(mediaTypeOf(dct))) {
      return fail('EVENT_CONTENT_TYPE', dct, 'cpiwatch reads JSON data only (datacontenttype)');
    }
    datacontenttype = dct;
  }

  let data = o.data;
  const b64 = o.data_base64;
  if (b64 !== undefined && b64 !== null) {
    if (data !== undefined && data !== null) {
      return fail('EVENT_NOT_CLOUDEVENT', 'data and data_base64 are both present (at most one is allowed)');
    }
    if (typeof b64 !== 'string') {
      return fail('EVENT_NOT_CLOUDEVENT', `data_base64: expected a base64 string, got ${kindOf(b64)}`);
    }
    const inner = parseJsonGuarded(Buffer.from(b64, 'base64'), maxDepth - 1, 'data_base64', 'data');
    if (!inner.ok) return guardFailure(inner, maxDepth);
    data = inner.value;
  }

  const event = buildEvent(declared, env, time, data, datacontenttype, validTraceparent(o.traceparent, hdr.traceparent));
  if (isFailure(event)) return event;
  return { ok: true, event, mode: 'structured' };
}

function decodeBinary(value: Buffer | null, hdr: ReadHeaders, maxDepth: number, types: EventTypeRegistry): DecodeResult {
  const ce = hdr.ce ?? {};
  const env = checkAttributes(
    {
      specversion: ce.specversion,
      id: ce.id,
      source: ce.source,
      type: ce.type,
      time: ce.time,
      subject: ce.subject,
    },
    'ce_',
  );
  if (isFailure(env)) return env;
  const declared = types.get(env.type);
  if (declared === undefined) return unknownType(env.type, types);
  const time = checkTime(ce.time, 'ce_time');
  if (typeof time !== 'number') return time;

  const ct = hdr.contentType as string | undefined; // problems were rejected by the caller
  if (ct !== undefined && !isJsonMediaType(mediaTypeOf(ct))) {
    return fail('EVENT_CONTENT_TYPE', ct, 'cpiwatch reads JSON data only (content-type header of a binary-mode event)');
  }
  if (value === null || value.length === 0) {
    return fail('EVENT_DATA_INVALID', env.type, 'data: missing (the Kafka value of this binary-mode event is empty)');
  }
  const parsed = parseJsonGuarded(value, maxDepth, 'the Kafka value (binary-mode data)', 'data');
  if (!parsed.ok) return guardFailure(parsed, maxDepth);

  const event = buildEvent(declared, env, time, parsed.value, ct, validTraceparent(ce.traceparent, hdr.traceparent));
  if (isFailure(event)) return event;
  return { ok: true, event, mode: 'binary' };
}

/**
 * Decodes and validates one Kafka message against the event types of `types`. Never throws; a
 * failure carries a CPW2xx code and a reason naming the field, what was expected and what was found.
 */
export function decodeEvent(msg: KafkaMessageLike, limits: DecodeLimits, types: EventTypeRegistry = BUILTIN_EVENT_TYPES): DecodeResult {
  try {
    const raw: unknown = msg.value;
    let value: Buffer | null;
    if (raw === null || raw === undefined) value = null;
    else if (Buffer.isBuffer(raw)) value = raw;
    // defensive: JavaScript callers may hand over a string or a plain Uint8Array
    else if (typeof raw === 'string') value = Buffer.from(raw, 'utf8');
    else if (raw instanceof Uint8Array) value = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    else return fail('EVENT_NOT_JSON', `the Kafka value is ${kindOf(raw)}, not bytes`);
    const size = value === null ? 0 : value.length;
    if (size > limits.maxBytes) return fail('EVENT_TOO_LARGE', size, limits.maxBytes);
    const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;

    const hdr = readHeaders(msg.headers);
    const ct = hdr.contentType;
    if (isProblem(ct)) return fail('EVENT_NOT_CLOUDEVENT', `header content-type: ${ct.problem}`);
    const binaryAttrs = hdr.ce !== undefined && hdr.ce.specversion !== undefined;
    if (ct !== undefined) {
      const media = mediaTypeOf(ct);
      if (media === STRUCTURED_MEDIA_TYPE) return decodeStructured(value ?? Buffer.alloc(0), hdr, maxDepth, types);
      if (media.startsWith('application/cloudevents')) {
        return fail('EVENT_CONTENT_TYPE', ct, `only ${STRUCTURED_MEDIA_TYPE} (one event per message) is supported`);
      }
    }
    if (binaryAttrs) return decodeBinary(value, hdr, maxDepth, types);
    if (value === null) return fail('EVENT_NOT_JSON', 'the Kafka value is empty (null, a tombstone?)');
    return decodeStructured(value, hdr, maxDepth, types);
  } catch (err) {
    // Not expected; kept so that a bug here dead-letters one event instead of stopping the consumer.
    return fail('EVENT_NOT_CLOUDEVENT', `could not decode the message: ${err instanceof Error ? err.message : String(err)}`);
  }
}
