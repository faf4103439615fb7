import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../../src/events/cloud-event.js';
import {
  decodeEvent,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
  toWireEvent,
  type DecodeResult,
  type KafkaHeaders,
} from '../../../src/events/decode.js';

const LIMITS = { maxBytes: 64 * 1024 };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const arrived: CloudEvent = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'urn:acme:store:store-0042:curbside',
  type: 'curbside.arrived',
  time: Date.parse('2025-03-14T17:05:12.345Z'),
  subject: 'order-7781',
  traceparent: TRACEPARENT,
  data: { orderId: 'order-7781', storeId: 'store-0042', customerId: 'cust-1093', promisedWaitSeconds: 300, spot: 'B4' },
};

/** A valid structured event as a plain object, to be broken by each test. */
function wire(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(toWireEvent(arrived))) as Record<string, unknown>;
}

function structured(value: unknown, headers?: KafkaHeaders): DecodeResult {
  return decodeEvent({ value: Buffer.from(JSON.stringify(value)), headers }, LIMITS);
}

function failure(result: DecodeResult): { code: string; reason: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.event)}`);
  return { code: result.code, reason: result.reason };
}

describe('decodeEvent, structured mode', () => {
  it('decodes an event with the CloudEvents content type', () => {
    const r = decodeEvent({ value: encodeStructured(arrived), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, LIMITS);
    expect(r).toEqual({ ok: true, mode: 'structured', event: arrived });
  });

  it('decodes an event without any header, and with kafkajs Buffer headers', () => {
    expect(decodeEvent({ value: encodeStructured(arrived) }, LIMITS)).toMatchObject({ ok: true, mode: 'structured' });
    const r = decodeEvent(
      { value: encodeStructured(arrived), headers: { 'Content-Type': Buffer.from('application/cloudevents+json') } },
      LIMITS,
    );
    expect(r).toMatchObject({ ok: true, mode: 'structured' });
  });

  it('converts time with an offset and a fraction to epoch milliseconds', () => {
    const e = { ...wire(), time: '2025-03-14T12:05:12.3456789-05:00' };
    const r = structured(e);
    expect(r.ok && r.event.time).toBe(Date.parse('2025-03-14T17:05:12.345Z'));
  });

  it('keeps open data fields, subject, datacontenttype and traceparent; drops unknown extensions', () => {
    const r = structured({ ...wire(), datacontenttype: 'application/json; charset=utf-8', partitionkey: 'x' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.data.spot).toBe('B4');
    expect(r.event.subject).toBe('order-7781');
    expect(r.event.datacontenttype).toBe('application/json; charset=utf-8');
    expect(r.event.traceparent).toBe(TRACEPARENT);
    expect(r.event).not.toHaveProperty('partitionkey');
  });

  it('treats null optional attributes as absent', () => {
    const r = structured({ ...wire(), subject: null, traceparent: null, datacontenttype: null });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event).not.toHaveProperty('subject');
  });

  it('drops an invalid traceparent without rejecting the event, and falls back to the traceparent header', () => {
    const bad = structured({ ...wire(), traceparent: 'not-a-trace' });
    expect(bad.ok && bad.event.traceparent).toBeUndefined();
    const zeros = structured({ ...wire(), traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });
    expect(zeros.ok && zeros.event.traceparent).toBeUndefined();
    const { traceparent: _, ...noTrace } = wire();
    const fromHeader = structured(noTrace, { traceparent: Buffer.from(TRACEPARENT) });
    expect(fromHeader.ok && fromHeader.event.traceparent).toBe(TRACEPARENT);
  });

  it('accepts data_base64 holding JSON', () => {
    const { data, ...rest } = wire();
    const r = structured({ ...rest, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') });
    expect(r.ok && r.event.data).toEqual(arrived.data);
  });

  it('ignores a UTF-8 byte order mark', () => {
    const value = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), encodeStructured(arrived)]);
    expect(decodeEvent({ value }, LIMITS).ok).toBe(true);
  });
});

describe('decodeEvent, binary mode', () => {
  it('round-trips encodeBinary', () => {
    const { value, headers } = encodeBinary(arrived);
    const r = decodeEvent({ value, headers }, LIMITS);
    expect(r).toEqual({ ok: true, mode: 'binary', event: { ...arrived, datacontenttype: 'application/json' } });
  });

  it('reads kafkajs-style Buffer and single-element array headers, content-type optional', () => {
    const { value, headers } = encodeBinary(arrived);
    const kafkajs: KafkaHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (k !== 'content-type') kafkajs[k] = [Buffer.from(v)];
    const r = decodeEvent({ value, headers: kafkajs, key: Buffer.from('cust-1093') }, LIMITS);
    expect(r).toMatchObject({ ok: true, mode: 'binary', event: { id: 'evt-1', time: arrived.time, traceparent: TRACEPARENT } });
    expect(r.ok && r.event).not.toHaveProperty('datacontenttype');
  });

  it('names header attributes in errors', () => {
    const { value, headers } = encodeBinary(arrived);
    const { ce_id: _, ...noId } = headers;
    expect(failure(decodeEvent({ value, headers: { ...noId, ce_specversion: '0.3' } }, LIMITS))).toEqual({
      code: 'CPW201',
      reason: 'event is not a CloudEvents 1.0 event: ce_specversion: expected "1.0", got "0.3"; ce_id: missing',
    });
    expect(failure(decodeEvent({ value, headers: { ...headers, ce_time: '2025-03-14 17:05:12' } }, LIMITS)).code).toBe('CPW205');
  });

  it('rejects a repeated or non-UTF-8 attribute header', () => {
    const { value, headers } = encodeBinary(arrived);
    expect(failure(decodeEvent({ value, headers: { ...headers, ce_id: ['a', 'b'] } }, LIMITS))).toEqual({
      code: 'CPW201',
      reason: 'event is not a CloudEvents 1.0 event: ce_id: given 2 times',
    });
    const f = failure(decodeEvent({ value, headers: { ...headers, ce_source: Buffer.from([0xc3, 0x28]) } }, LIMITS));
    expect(f).toEqual({ code: 'CPW201', reason: 'event is not a CloudEvents 1.0 event: ce_source: not valid UTF-8' });
  });

  it('rejects non-JSON data and an empty value', () => {
    const { value, headers } = encodeBinary(arrived);
    expect(failure(decodeEvent({ value, headers: { ...headers, 'content-type': 'application/avro' } }, LIMITS)).code).toBe('CPW208');
    expect(failure(decodeEvent({ value: null, headers }, LIMITS))).toEqual({
      code: 'CPW203',
      reason:
        'event data does not match the schema of curbside.arrived: data: missing (the Kafka value of this binary-mode event is empty)',
    });
    expect(failure(decodeEvent({ value: Buffer.from('{"orderId":'), headers }, LIMITS)).code).toBe('CPW200');
  });

  it('validates the data like structured mode', () => {
    const { headers } = encodeBinary(arrived);
    const f = failure(decodeEvent({ value: Buffer.from('{"orderId":"o","storeId":"s","customerId":7}'), headers }, LIMITS));
    expect(f.reason).toBe('event data does not match the schema of curbside.arrived: data.customerId: expected string, got number');
  });
});

describe('decodeEvent rejects', () => {
  it('values that are not JSON (CPW200)', () => {
    expect(failure(decodeEvent({ value: Buffer.from('hello') }, LIMITS))).toMatchObject({ code: 'CPW200' });
    expect(failure(decodeEvent({ value: Buffer.from('{"specversion":"1.0",') }, LIMITS)).reason).toMatch(
      /^event value is not valid JSON: the Kafka value: /,
    );
    expect(failure(decodeEvent({ value: Buffer.alloc(0) }, LIMITS))).toEqual({
      code: 'CPW200',
      reason: 'event value is not valid JSON: the Kafka value is empty',
    });
    expect(failure(decodeEvent({ value: null }, LIMITS)).code).toBe('CPW200');
  });

  it('invalid UTF-8 (CPW200), even inside a string that JSON.parse would accept', () => {
    const value = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(failure(decodeEvent({ value }, LIMITS))).toEqual({
      code: 'CPW200',
      reason: 'event value is not valid JSON: the Kafka value is not valid UTF-8',
    });
  });

  it('JSON that is not an object (CPW201)', () => {
    for (const [json, kind] of [['[]', 'array'], ['"x"', 'string'], ['42', 'number'], ['null', 'null'], ['true', 'boolean']]) {
      expect(failure(decodeEvent({ value: Buffer.from(json!) }, LIMITS))).toEqual({
        code: 'CPW201',
        reason: `event is not a CloudEvents 1.0 event: expected a JSON object, got ${kind}`,
      });
    }
  });

  it('missing and mistyped attributes, all listed (CPW201)', () => {
    expect(failure(structured({ data: {} }))).toEqual({
      code: 'CPW201',
      reason: 'event is not a CloudEvents 1.0 event: specversion: missing (expected "1.0"); id: missing; source: missing; type: missing',
    });
    expect(failure(structured({ ...wire(), id: '', source: 42, type: null, subject: '' }))).toEqual({
      code: 'CPW201',
      reason:
        'event is not a CloudEvents 1.0 event: id: expected a non-empty string, got ""; source: expected a non-empty string, got number; ' +
        'type: expected a non-empty string, got null; subject: expected a non-empty string when present, got ""',
    });
  });

  it('a specversion other than "1.0" (CPW201)', () => {
    expect(failure(structured({ ...wire(), specversion: '0.3' })).reason).toBe(
      'event is not a CloudEvents 1.0 event: specversion: expected "1.0", got "0.3"',
    );
    expect(failure(structured({ ...wire(), specversion: 1 })).reason).toBe(
      'event is not a CloudEvents 1.0 event: specversion: expected "1.0", got 1',
    );
  });

  it('missing, mistyped and invalid times (CPW205)', () => {
    const { time: _, ...noTime } = wire();
    expect(failure(structured(noTime))).toEqual({
      code: 'CPW205',
      reason: 'event time is unusable: time: missing (cpiwatch needs the event time, e.g. "2025-03-14T09:26:53Z")',
    });
    expect(failure(structured({ ...wire(), time: 1741972000000 })).reason).toBe(
      'event time is unusable: time: expected an RFC 3339 string, got number',
    );
    expect(failure(structured({ ...wire(), time: '2025-02-29T10:00:00Z' })).reason).toBe(
      'event time is unusable: time: "2025-02-29T10:00:00Z" is not a valid RFC 3339 date-time: day 29 does not exist in 2025-02',
    );
    for (const time of ['2025-03-14T17:05:12', '2025-03-14', 'yesterday', '2025-13-01T00:00:00Z', '2025-03-14T24:00:00Z', '']) {
      expect(failure(structured({ ...wire(), time })).code).toBe('CPW205');
    }
  });

  it('unknown types, naming the known ones (CPW202)', () => {
    const f = failure(structured({ ...wire(), type: 'curbside.arived' }));
    expect(f.code).toBe('CPW202');
    expect(f.reason).toMatch(/^unknown event type "curbside.arived" \(expected one of: curbside.arrived, curbside.handed-over, /);
    expect(failure(structured({ ...wire(), type: 'toString' })).code).toBe('CPW202');
    expect(failure(structured({ ...wire(), type: '__proto__' })).code).toBe('CPW202');
  });

  it('data that fails its schema, with field, expected and found for every issue (CPW203)', () => {
    const base = wire();
    expect(failure(structured({ ...base, data: { ...(base.data as object), promisedWaitSeconds: '300' } }))).toEqual({
      code: 'CPW203',
      reason: 'event data does not match the schema of curbside.arrived: data.promisedWaitSeconds: expected number, got string',
    });
    expect(failure(structured({ ...base, data: { orderId: '', customerId: 'c', promisedWaitSeconds: -1 } })).reason).toBe(
      'event data does not match the schema of curbside.arrived: data.orderId: expected a non-empty string, got ""; ' +
        'data.storeId: missing (expected string); data.promisedWaitSeconds: expected >= 0.001, got -1',
    );
    const { data: _, ...noData } = base;
    expect(failure(structured(noData)).reason).toBe(
      'event data does not match the schema of curbside.arrived: data: missing (expected object)',
    );
    expect(failure(structured({ ...base, data: [1] })).reason).toBe(
      'event data does not match the schema of curbside.arrived: data: expected object, got array',
    );
  });

  it('enum, integer, e-mail and length problems in data (CPW203)', () => {
    const profile = {
      ...wire(),
      type: 'customer.profile',
      data: { customerId: 'c'.repeat(129), valueTier: 'diamond', lifetimeValue: 1, email: 'dana@', name: 7 },
    };
    expect(failure(structured(profile)).reason).toBe(
      'event data does not match the schema of customer.profile: data.customerId: expected at most 128 characters, got 129; ' +
        'data.valueTier: expected one of "bronze" | "silver" | "gold" | "platinum", got "diamond"; ' +
        'data.email: expected an e-mail address; data.name: expected string, got number',
    );
    const ticket = { ...wire(), type: 'ticket.resolved', data: { ticketId: 't', customerId: 'c', channel: 'web', contacts: 1.5 } };
    expect(failure(structured(ticket)).reason).toBe(
      'event data does not match the schema of ticket.resolved: data.contacts: expected integer, got 1.5',
    );
  });

  it('numbers too large for a double (CPW203, not a crash)', () => {
    const text = JSON.stringify({ ...wire(), type: 'customer.en-route', data: { customerId: 'c', storeId: 's', etaSeconds: 0 } })
      .replace('"etaSeconds":0', '"etaSeconds":1e400');
    expect(failure(decodeEvent({ value: Buffer.from(text) }, LIMITS)).reason).toBe(
      'event data does not match the schema of customer.en-route: data.etaSeconds: expected number, got a number out of range',
    );
  });

  it('numbers too large for a double in open data fields, which rules could otherwise sum (CPW203)', () => {
    const text = JSON.stringify(wire()).replace('"spot":"B4"', '"spot":{"weights":[1,-2e308]}');
    expect(failure(decodeEvent({ value: Buffer.from(text) }, LIMITS))).toEqual({
      code: 'CPW203',
      reason: 'event data does not match the schema of curbside.arrived: data.spot.weights[1]: a number out of range (too large for a double)',
    });
    const digits = JSON.stringify(wire()).replace('"spot":"B4"', `"spot":${'9'.repeat(400)}`);
    expect(failure(decodeEvent({ value: Buffer.from(digits) }, LIMITS)).code).toBe('CPW203');
    // 308 digits, a fraction and a one-digit exponent: 1e309 (a scan of the text for 309 digits or a 3-digit exponent missed it)
    const spread = JSON.stringify(wire()).replace('"spot":"B4"', `"spot":1${'0'.repeat(307)}.0e2`);
    expect(failure(decodeEvent({ value: Buffer.from(spread) }, LIMITS))).toEqual({
      code: 'CPW203',
      reason: 'event data does not match the schema of curbside.arrived: data.spot: a number out of range (too large for a double)',
    });
    // big but finite numbers and exponents inside strings are fine
    const fine = JSON.stringify(wire()).replace('"spot":"B4"', '"spot":1e300,"note":"1e999"');
    expect(decodeEvent({ value: Buffer.from(fine) }, LIMITS).ok).toBe(true);
  });

  it('values over maxBytes before parsing (CPW204)', () => {
    const value = Buffer.alloc(2_000_000, 0x7b); // would be too deep and invalid too: size is checked first
    expect(failure(decodeEvent({ value }, { maxBytes: 1_048_576 }))).toEqual({
      code: 'CPW204',
      reason: 'event is 2000000 bytes, more than the limit of 1048576',
    });
    const event = encodeStructured(arrived);
    expect(decodeEvent({ value: event }, { maxBytes: event.length }).ok).toBe(true);
    expect(failure(decodeEvent({ value: event }, { maxBytes: event.length - 1 })).code).toBe('CPW204');
  });

  it('JSON nested deeper than the limit (CPW207), counting only real brackets', () => {
    const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });
    // envelope = level 1, data = level 2, so data may hold 62 more levels
    expect(structured({ ...wire(), data: { ...(wire().data as object), x: nest(62) } }).ok).toBe(true);
    expect(failure(structured({ ...wire(), data: { ...(wire().data as object), x: nest(63) } }))).toEqual({
      code: 'CPW207',
      reason: 'event JSON is nested deeper than 64 levels (the Kafka value)',
    });
    const deepArray = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(failure(decodeEvent({ value: deepArray }, { maxBytes: 1_000_000 })).code).toBe('CPW207');
    // brackets inside strings do not count
    const brackets = structured({ ...wire(), data: { ...(wire().data as object), note: '[[[{{{'.repeat(50) + '\\"[' } });
    expect(brackets.ok).toBe(true);
    expect(failure(decodeEvent({ value: Buffer.from(JSON.stringify({ ...wire(), x: nest(5) })) }, { maxBytes: 1e6, maxDepth: 4 })).code).toBe(
      'CPW207',
    );
  });

  it('__proto__ keys anywhere, so parsed events can never change a prototype (CPW209)', () => {
    const attempts = [
      '{"__proto__":{"polluted":true},"specversion":"1.0"}',
      JSON.stringify(wire()).replace('"data":{', '"data":{"__proto__":{"polluted":true},'),
      JSON.stringify(wire()).replace('"data":{', '"data":{"extra":[{"__proto__":{"polluted":true}}],'),
      JSON.stringify(wire()).replace('"data":{', '"data":{"\\u005f_proto__":{"polluted":true},'),
    ];
    const reasons = attempts.map((text) => failure(decodeEvent({ value: Buffer.from(text) }, LIMITS)));
    expect(reasons).toEqual([
      { code: 'CPW209', reason: 'event JSON contains the forbidden key "__proto__" at __proto__' },
      { code: 'CPW209', reason: 'event JSON contains the forbidden key "__proto__" at data.__proto__' },
      { code: 'CPW209', reason: 'event JSON contains the forbidden key "__proto__" at data.extra[0].__proto__' },
      { code: 'CPW209', reason: 'event JSON contains the forbidden key "__proto__" at data.__proto__' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // binary mode too
    const { headers } = encodeBinary(arrived);
    expect(failure(decodeEvent({ value: Buffer.from('{"__proto__":{"polluted":1}}'), headers }, LIMITS))).toEqual({
      code: 'CPW209',
      reason: 'event JSON contains the forbidden key "__proto__" at data.__proto__',
    });
    // "constructor" and "prototype" are ordinary own keys: kept as data, harmless
    const r = structured({ ...wire(), data: { ...(wire().data as object), constructor: { prototype: { polluted: 1 } } } });
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('other CloudEvents formats and non-JSON data (CPW208)', () => {
    const value = encodeStructured(arrived);
    expect(failure(decodeEvent({ value, headers: { 'content-type': 'application/cloudevents-batch+json' } }, LIMITS))).toEqual({
      code: 'CPW208',
      reason:
        'unsupported content type "application/cloudevents-batch+json": only application/cloudevents+json (one event per message) is supported',
    });
    expect(failure(structured({ ...wire(), datacontenttype: 'text/xml' })).code).toBe('CPW208');
  });

  it('inputs no Kafka client would produce, without throwing', () => {
    const weird = [
      null,
      undefined,
      {},
      { value: 42 },
      { value: 'not a buffer' },
      { value: new Uint8Array([123, 125]) },
      { value: Buffer.from('{}'), headers: null },
      { value: Buffer.from('{}'), headers: { ce_specversion: 7 } },
      { value: Buffer.from('{}'), headers: { 'content-type': [Buffer.from('a'), 'b'] } },
    ];
    for (const msg of weird) {
      const r = decodeEvent(msg as never, LIMITS);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toMatch(/^CPW2\d\d$/);
    }
  });
});
