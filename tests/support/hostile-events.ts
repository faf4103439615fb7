// Hostile input for the fuzz tests (tests/unit/hostile/events.test.ts in memory,
// tests/integration/resilience/fuzz.test.ts on the real stack): well-formed curbside events mutated
// the ways careless or hostile producers do, raw bytes, arbitrary JSON, every kind of odd string.
import fc from 'fast-check';
import { EVENT_TYPE_NAMES } from '../../src/events/event-types.js';
import type { RawMessage } from '../../src/pipeline/types.js';
import { curbsideScenario } from '../../src/samples/curbside-scenario.js';

/** The wall clock the arbitraries' times are drawn around (12:30 in Chicago). */
export const FUZZ_NOW = Date.UTC(2026, 10, 23, 18, 30, 0);
const NOW = FUZZ_NOW;
const START = NOW - 30 * 60_000;

/** Strings a careless or hostile producer sends: lone surrogates, NUL, bidi marks, emoji, huge. */
export const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\uD800', '\uDFFF\uD800', '\u202E\u202Dstore', '🧋'.repeat(40), 'store-A\u0000x',
    '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'storeId=S1', '{cpiwatch:d}', 'a|b|c', '%s%d', 'x'.repeat(129),
    'ｓｔｏｒｅ', 'e\u0301', 'ﬀ', '\r\n', '\\"'),
);

export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null), fc.boolean(), fc.double(), fc.integer(), oddString,
    fc.constantFrom(1e308, -1e308, 5e-324, -0, Number.MAX_SAFE_INTEGER + 2),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

export const times = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: START, max: NOW }).map((t) => new Date(t).toISOString()) },
  fc.constantFrom(
    '0001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z', '9999-12-31T23:59:59Z',
    '2026-11-23T18:30:00+14:00', '2026-11-23T18:30:00-12:00', '2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z',
    '2026-11-23T18:30:00', '2026-11-23 18:30:00Z', '2026-11-23T18:30:60Z', '+002026-11-23T18:30:00Z', 'yesterday', '',
    new Date(NOW + 4 * 60_000).toISOString(), new Date(NOW + 6 * 60_000).toISOString(), new Date(NOW - 365 * 86_400_000).toISOString(),
  ),
  fc.integer(), fc.constant(null),
);

/** A curbside-flavoured event: real types and ids from a small pool, so windows, joins and dedup get exercised. */
export const plausibleEvent = fc.record({
  type: fc.constantFrom('curbside.arrived', 'curbside.handed-over', 'customer.en-route', 'customer.profile', 'store.profile', ...EVENT_TYPE_NAMES),
  id: fc.oneof(fc.constantFrom('e1', 'e2', 'e3'), fc.uuid(), oddString),
  time: times,
  store: fc.constantFrom('S1', 'S2', 'S1', 'fz-store-A', 'fz-store-B'),
  order: fc.integer({ min: 1, max: 12 }).map((n) => `o${n}`),
  customer: fc.oneof(fc.integer({ min: 1, max: 6 }).map((n) => `c${n}`), oddString),
  promised: fc.oneof(fc.constantFrom(300, 60, 0.001, 1e9), fc.double(), fc.constant(undefined)),
  eta: fc.oneof(fc.integer({ min: 0, max: 7200 }), fc.constantFrom(1e308, 0, -1, 1e15)),
  tier: fc.constantFrom('gold', 'platinum', 'bronze', 'silver', 'GOLD', ''),
}).map((e) => ({
  specversion: '1.0',
  id: e.id,
  source: 'urn:fuzz',
  type: e.type,
  time: e.time,
  data: {
    orderId: e.order, storeId: e.store, customerId: e.customer, promisedWaitSeconds: e.promised,
    etaSeconds: e.eta, valueTier: e.tier, lifetimeValue: 1000, timeZone: 'America/Chicago',
    channel: 'app', region: 'north', ticketId: e.order, quoteId: e.order, returnId: e.order, messageId: e.order,
    campaign: 'c', action: 'opened', segment: 's', damaged: false, contacts: 1, steps: 2, durationSeconds: 60,
  },
}));

export type Mutation = (o: Record<string, unknown>) => unknown;
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Mutation>((o) => o) },
  fc.constantFrom('specversion', 'id', 'source', 'type', 'time', 'data').map((k): Mutation => (o) => { const c = { ...o }; delete c[k]; return c; }),
  fc.tuple(fc.constantFrom('specversion', 'id', 'source', 'type', 'time', 'data', 'subject', 'datacontenttype', 'traceparent', 'data_base64'), anyJson)
    .map(([k, v]): Mutation => (o) => ({ ...o, [k]: v })),
  fc.tuple(fc.constantFrom('orderId', 'storeId', 'customerId', 'promisedWaitSeconds', 'etaSeconds', 'valueTier', 'lifetimeValue', 'email'), anyJson)
    .map(([k, v]): Mutation => (o) => ({ ...o, data: { ...(o.data as object), [k]: v } })),
  fc.dictionary(oddString, anyJson, { maxKeys: 5 }).map((extra): Mutation => (o) => ({ ...extra, ...o, data: { ...(o.data as object), ...extra } })),
  fc.integer({ min: 2, max: 300 }).map((depth): Mutation => (o) => {
    let nest: unknown = 'bottom';
    for (let i = 0; i < depth; i++) nest = i % 2 ? [nest] : { n: nest };
    return { ...o, data: { ...(o.data as object), nest } };
  }),
  fc.integer({ min: 1, max: 200 }).map((kb): Mutation => (o) => ({ ...o, data: { ...(o.data as object), blob: 'x'.repeat(kb * 512) } })),
  fc.constant<Mutation>((o) => [o]),
  fc.constant<Mutation>(() => null),
);

/** How the (possibly mutated) object goes on the wire. */
export const wire = (obj: unknown): fc.Arbitrary<Pick<RawMessage, 'value' | 'headers'>> => {
  const json = JSON.stringify(obj) ?? 'undefined';
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant({ value: Buffer.from(json), headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' } }) },
    fc.constant({ value: Buffer.from(json) }),
    fc.integer({ min: 0, max: Math.max(0, json.length - 1) }).map((cut) => ({ value: Buffer.from(json.slice(0, cut)) })),
    fc.constant({ value: Buffer.from(json, 'utf16le') }),
    fc.constant({ value: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]) }),
    fc.constant({ value: Buffer.from(json.replace(/"/g, "'")) }),
    // binary mode: attributes in headers, the data in the value
    fc.constant(() => {
      const o = (obj && typeof obj === 'object' && !Array.isArray(obj) ? obj : {}) as Record<string, unknown>;
      const headers: Record<string, string> = {};
      for (const k of ['specversion', 'id', 'source', 'type', 'time', 'subject']) {
        if (typeof o[k] === 'string') headers[`ce_${k}`] = o[k] as string;
      }
      return { value: Buffer.from(JSON.stringify(o.data ?? null) ?? ''), headers: { ...headers, 'content-type': 'application/json' } };
    }).map((f) => f()),
    fc.constantFrom<Pick<RawMessage, 'value' | 'headers'>>(
      { value: null },
      { value: Buffer.alloc(0) },
      { value: Buffer.from(json), headers: { 'content-type': 'text/xml' } },
      { value: Buffer.from(json), headers: { 'content-type': ['application/cloudevents+json', 'application/json'] } },
      { value: Buffer.from(json), headers: { 'content-type': Buffer.from([0xff, 0xfe]) } },
      { value: Buffer.from(json), headers: { ce_specversion: '1.0', ce_type: 'curbside.arrived' } },
    ),
    fc.uint8Array({ maxLength: 200 }).map((b) => ({ value: Buffer.from(b) })),
  );
};

export const hostileMessage: fc.Arbitrary<Pick<RawMessage, 'value' | 'headers'>> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(plausibleEvent, mutation).chain(([e, m]) => wire(m(e as Record<string, unknown>))) },
  { weight: 1, arbitrary: anyJson.chain((v) => wire(v)) },
);

/** The well-formed curbside scenario as raw messages (so rules fire and offers flow while fuzz arrives). */
export function scenarioMessages(): Pick<RawMessage, 'value' | 'headers' | 'key'>[] {
  const s = curbsideScenario({ start: START, minutes: 12, arrivalsPerMinute: 6, enRoutePerStore: 8, idPrefix: 'fz' });
  return s.events.map((e) => ({ value: Buffer.from(JSON.stringify(e.event)), key: Buffer.from(e.key) }));
}

