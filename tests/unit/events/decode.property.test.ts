/**
 * Property tests: whatever bytes and headers arrive, decodeEvent returns (never throws) either a
 * valid event that survives re-encoding, or a CPW2xx code with a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors/codes.js';
import type { CloudEvent } from '../../../src/events/cloud-event.js';
import {
  decodeEvent,
  encodeBinary,
  encodeStructured,
  type DecodeResult,
  type KafkaHeaders,
  type KafkaMessageLike,
} from '../../../src/events/decode.js';
import { EXAMPLE_EVENTS } from '../../../src/events/examples.js';
import { EVENT_TYPE_NAMES, isKnownEventType } from '../../../src/events/event-types.js';

const LIMITS = { maxBytes: 16 * 1024 };
const EVENT_CODES = new Set(
  Object.values(ErrorCodes)
    .map((e) => e.code as string)
    .filter((c) => c.startsWith('CPW2')),
);

/** The contract: a well-formed result; a success re-encodes to the same event in both modes. */
function checkResult(r: DecodeResult): void {
  if (!r.ok) {
    expect(EVENT_CODES).toContain(r.code);
    expect(typeof r.reason).toBe('string');
    expect(r.reason.length).toBeGreaterThan(0);
    expect(r.reason.length).toBeLessThan(4000);
    return;
  }
  const e = r.event;
  expect(e.specversion).toBe('1.0');
  expect(isKnownEventType(e.type)).toBe(true);
  expect(Number.isSafeInteger(e.time)).toBe(true);
  expect(typeof e.data).toBe('object');
  const again = decodeEvent({ value: encodeStructured(e) }, { maxBytes: Infinity });
  expect(again).toEqual({ ok: true, mode: 'structured', event: e });
  const bin = decodeEvent(encodeBinary(e), { maxBytes: Infinity });
  expect(bin).toEqual({ ok: true, mode: 'binary', event: { ...e, datacontenttype: e.datacontenttype ?? 'application/json' } });
}

function decodeSafely(msg: KafkaMessageLike, limits = LIMITS): DecodeResult {
  let r: DecodeResult | undefined;
  expect(() => {
    r = decodeEvent(msg, limits);
  }).not.toThrow();
  return r!;
}

const headerValue = fc.oneof(
  fc.string(),
  fc.constantFrom('1.0', 'application/cloudevents+json', 'application/json', 'curbside.arrived', '2025-03-14T17:05:12Z'),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.array(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b))), { maxLength: 3 }),
  fc.constant(undefined),
);
const headerName = fc.oneof(
  fc.constantFrom(
    'content-type', 'Content-Type', 'traceparent', 'ce_specversion', 'CE_SPECVERSION', 'ce_id', 'ce_source',
    'ce_type', 'ce_time', 'ce_subject', 'ce_traceparent', 'ce_other', '__proto__', 'constructor',
  ),
  fc.string({ maxLength: 12 }),
);
const headers: fc.Arbitrary<KafkaHeaders | undefined> = fc.option(
  fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }).map((pairs) => {
    const h: KafkaHeaders = {};
    for (const [k, v] of pairs) Object.defineProperty(h, k, { value: v, enumerable: true, writable: true, configurable: true });
    return h;
  }),
  { nil: undefined },
);

/** A JSON value that could be an attribute: mostly plausible, sometimes wrong. */
const attributeValue = fc.oneof(
  fc.constantFrom('1.0', '0.3', '', 'curbside.arrived', '2025-03-14T17:05:12Z', '2025-02-29T00:00:00Z', null),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Valid examples with attributes and data fields replaced, removed or added. */
const mutatedEvent = fc
  .tuple(
    fc.constantFrom(...EVENT_TYPE_NAMES),
    fc.array(
      fc.tuple(
        fc.constantFrom('specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'traceparent', 'data', 'data_base64', 'x'),
        fc.option(attributeValue, { nil: undefined }),
      ),
      { maxLength: 3 },
    ),
    fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('orderId', 'customerId', 'storeId', 'valueTier', 'contacts')), fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined })), {
      maxLength: 3,
    }),
  )
  .map(([type, attrEdits, dataEdits]) => {
    const e = JSON.parse(JSON.stringify(EXAMPLE_EVENTS[type])) as Record<string, unknown>;
    const data = e.data as Record<string, unknown>;
    for (const [k, v] of dataEdits) {
      if (v === undefined) delete data[k];
      else Object.defineProperty(data, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    for (const [k, v] of attrEdits) {
      if (v === undefined) delete e[k];
      else e[k] = v;
    }
    return e;
  });

describe('decodeEvent never throws', () => {
  it('on arbitrary bytes with arbitrary headers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), headers, (bytes, h) => {
        checkResult(decodeSafely({ value: Buffer.from(bytes), headers: h }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on arbitrary JSON text, including unicode, huge numbers and odd keys', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), headers, (text, h) => {
        checkResult(decodeSafely({ value: Buffer.from(text), headers: h }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on valid events with mutated attributes and data, in both modes', () => {
    fc.assert(
      fc.property(mutatedEvent, fc.boolean(), (event, binary) => {
        if (!binary) {
          checkResult(decodeSafely({ value: Buffer.from(JSON.stringify(event)) }));
          return;
        }
        const h: KafkaHeaders = {};
        for (const [k, v] of Object.entries(event)) {
          if (k !== 'data' && v !== null && v !== undefined) h[`ce_${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
        }
        checkResult(decodeSafely({ value: Buffer.from(JSON.stringify(event.data) ?? ''), headers: h }));
      }),
      { numRuns: 3000 },
    );
  });

  it('on nesting, prototype keys and big numbers spliced into a valid event', () => {
    const splice = fc.oneof(
      fc.nat(300).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.nat(300).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
      fc.constantFrom('{"__proto__":{"polluted":1}}', '{"\\u005f\\u005fproto\\u005f\\u005f":1}', '{"constructor":{"prototype":{"polluted":1}}}'),
      fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.0000000000000000000001e-400', '"\\ud800"'),
      fc.nat(300).map((n) => `"${'['.repeat(n)}"`),
    );
    const example = JSON.stringify(EXAMPLE_EVENTS['curbside.arrived']);
    fc.assert(
      fc.property(splice, fc.constantFrom('"spot":"B4"', '"promisedWaitSeconds":300', '"subject":"order-7781"'), (inner, at) => {
        const [key] = at.split(':');
        const text = example.replace(at, `${key}:${inner}`);
        checkResult(decodeSafely({ value: Buffer.from(text) }, { maxBytes: 1e6 }));
      }),
      { numRuns: 1000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps every valid event intact through both encodings', () => {
    const validEvent: fc.Arbitrary<CloudEvent> = fc.record(
      {
        specversion: fc.constant('1.0' as const),
        id: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        source: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        type: fc.constant('customer.en-route'),
        time: fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
        subject: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        traceparent: fc.tuple(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{16}$/)).filter(([t, p]) => /[1-9a-f]/.test(t) && /[1-9a-f]/.test(p)).map(([t, p]) => `00-${t}-${p}-01`),
        data: fc.record({
          customerId: fc.string({ minLength: 1, maxLength: 128 }),
          storeId: fc.string({ minLength: 1, maxLength: 128 }),
          etaSeconds: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
          extra: fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('__proto__')),
        }),
      },
      { requiredKeys: ['specversion', 'id', 'source', 'type', 'time', 'data'] },
    );
    fc.assert(
      fc.property(validEvent, (event) => {
        const normal = JSON.parse(JSON.stringify(event)) as CloudEvent; // -0 and the like as JSON has them
        const s = decodeSafely({ value: encodeStructured(event) }, { maxBytes: 1e6 });
        expect(s).toEqual({ ok: true, mode: 'structured', event: normal });
        const b = decodeSafely(encodeBinary(event), { maxBytes: 1e6 });
        expect(b).toEqual({ ok: true, mode: 'binary', event: { ...normal, datacontenttype: 'application/json' } });
      }),
      { numRuns: 1000 },
    );
  });
});
