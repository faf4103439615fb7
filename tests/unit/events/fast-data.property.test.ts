// The fast path of the data check (src/events/fast-data.ts) accepts only what the type's zod schema
// accepts, and hands back what zod does (same fields, same order, nested objects copied alike);
// through the whole decoder, with and without it, every event (valid, mistyped, hostile) gets the
// same result: the same event, or the same error code and reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/events/decode.js';
import { buildFastDataCheck } from '../../../src/events/fast-data.js';
import { BUILTIN_EVENT_TYPES } from '../../../src/events/library.js';
import { EventTypeRegistry, type DeclaredEventType } from '../../../src/events/registry.js';
import { compileRuleSources } from '../../../src/rules/load.js';

const RUNS = Number(process.env.CPIWATCH_FUZZ_RUNS ?? 2000);

// a declared type with every field type and constraint the declarations allow
const declared = compileRuleSources([{ file: 'all.yaml', text: `eventTypes:
  - type: every.field
    fields:
      anId: { type: id }
      text: { type: string, minLength: 2, maxLength: 5, optional: true }
      code: { type: string, pattern: "^[A-Z]{2}[0-9]*$", optional: true }
      mail: { type: email, maxLength: 30, optional: true }
      at: { type: timestamp, optional: true }
      n: { type: number, min: -1.5, max: 1000 }
      i: { type: integer, min: 1, optional: true }
      flag: { type: boolean, optional: true }
      tier: { type: enum, values: [a, b, "c d"], optional: true }
      nested: { type: object, optional: true }
  - type: curbside.arrived
    extend: true
    fields:
      bay: { type: integer, min: 1, max: 40, optional: true }
` }]);
if (!declared.ok) throw new Error(JSON.stringify(declared.errors));
const TYPES = declared.ruleSet.eventTypes as EventTypeRegistry;
const ALL = TYPES.names.map((n) => TYPES.get(n)!);
/** The same types without the fast path: zod decides everything (the decoder as it was). */
const ZOD_ONLY = new EventTypeRegistry(ALL.map(({ fastCheck: _f, ...t }): DeclaredEventType => t), TYPES.version);
const FIELDS = [...new Set(ALL.flatMap((t) => [...t.fields.keys()]))];

const text = fc.oneof(
  fc.constantFrom('', 'a', 'ab', 'abcde', 'abcdef', 'AB', 'AB12', 'ab12', 'gold', 'c d', 'bronze', 'clicked', 'ana@example.com', 'not-an-email', `${'a'.repeat(24)}@ex.com`, `${'a'.repeat(23)}@ex.com`, "o'neil+x@example.co.uk", 'ana@example', 'ANA@EXAMPLE.COM', 'ä@example.com', 'a..b@example.com',
    '2025-03-14T09:26:53Z', '2025-03-14T09:26:53+01:00', '2025-02-30T09:26:53Z', '\u{1F600}', '\u{1F600}\u{1F600}\u{1F600}', 'a\u{1F600}',
    '\u{1F600}'.repeat(64), '\u{1F600}'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), '\ud800', 'toString'),
  fc.string({ maxLength: 140 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const number = fc.oneof(
  fc.constantFrom(0, -0, 0.0005, 0.001, 1, 1.5, -1, -1.5, -1.6, 1000, 1000.5, 2 ** 53 - 1, 2 ** 53, 1e300, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -5, max: 50 }),
);
const leaf = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const value = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('k', '1', 'z', 'a'), leaf, { maxKeys: 3 }) },
);
/**
 * Data of random fields and order (mostly invalid), or every field of the type with a good value, in
 * declaration order or shuffled, some left out, and random fields added before, after or over them.
 */
const dataOf = (t: DeclaredEventType) => fc.tuple(
  fc.dictionary(fc.constantFrom(...FIELDS, 'extra', '0', '7', 'zzz'), value, { maxKeys: 8 }),
  fc.constantFrom('random', 'extras after', 'extras before', 'over'),
  fc.boolean(),
  fc.shuffledSubarray([...t.fields.keys()], { minLength: t.fields.size }),
  fc.subarray([...t.fields.keys()], { maxLength: 1 }),
).map(([d, mode, sorted, order, dropped]) => {
  if (mode === 'random') return d;
  const good: Record<string, unknown> = {};
  for (const name of sorted ? t.fields.keys() : order) if (!dropped.includes(name)) good[name] = goodValue(t.fields.get(name)!.decl.type, name);
  const extras = Object.fromEntries(Object.entries(d).filter(([k]) => !t.fields.has(k)));
  return mode === 'extras after' ? { ...good, ...extras } : mode === 'extras before' ? { ...extras, ...good } : { ...good, ...d };
});

function goodValue(type: string, name: string): unknown {
  switch (type) {
    case 'number': return name === 'n' ? 3.25 : 12;
    case 'integer': return 7;
    case 'boolean': return true;
    case 'enum': return name === 'valueTier' ? 'gold' : name === 'action' ? 'opened' : 'a';
    case 'email': return 'ana@example.com';
    case 'timestamp': return '2025-03-14T09:26:53Z';
    case 'object': return { k: 1, '1': 'x' };
    default: return name === 'code' ? 'AB1' : 'abc';
  }
}

const typeAndData = fc.constantFrom(...ALL).chain((t) => fc.tuple(fc.constant(t), dataOf(t)));

describe('the fast path of the data check', () => {
  it('exists for every built-in type and for declared types of any field', () => {
    for (const name of BUILTIN_EVENT_TYPES.names) expect(BUILTIN_EVENT_TYPES.get(name)!.fastCheck, name).toBeDefined();
    for (const t of ALL) expect(t.fastCheck, t.name).toBeDefined();
  });

  it('accepts only what zod accepts, and hands back what zod does, fields in the same order', () => {
    let fast = 0;
    fc.assert(
      fc.property(typeAndData, ([t, d]) => {
        const out = t.fastCheck!(d);
        const zod = t.schema.safeParse(d);
        if (out === undefined) return;
        fast++;
        expect(zod.success).toBe(true);
        expect(out).toEqual(zod.data);
        expect(Object.keys(out)).toEqual(Object.keys(zod.data!));
        expect(JSON.stringify(out)).toBe(JSON.stringify(zod.data));
        for (const [k, f] of t.fields) if (f.decl.type === 'object' && k in out) expect(out[k]).not.toBe((d as Record<string, unknown>)[k]); // copied, as zod does
      }),
      { numRuns: RUNS },
    );
    expect(fast).toBeGreaterThan(RUNS / 10); // the generator does reach valid data
  });

  it('takes valid data of every type without zod (the common case stays fast)', () => {
    for (const t of ALL) {
      const d: Record<string, unknown> = {};
      for (const [name, f] of t.fields) d[name] = goodValue(f.decl.type, name);
      expect(t.fastCheck!(d), t.name).toEqual(t.schema.parse(d));
    }
  });

  it('is not built for a field named like a member of Object.prototype', () => {
    const t = ALL.find((x) => x.name === 'every.field')!;
    const fields = new Map(t.fields);
    fields.set('toString', { decl: { type: 'string', optional: true }, builtin: false });
    const schema = t.schema.extend({ toString: t.schema.shape.text });
    expect(buildFastDataCheck(fields, schema)).toBeUndefined();
  });

  it('gives the decoder the same result as zod alone, for valid, mistyped and hostile events', () => {
    const limits = { maxBytes: 65_536 };
    const envelope = fc.record({
      specversion: fc.constantFrom('1.0', '1.0', '0.3'),
      id: fc.constantFrom('e-1', ''),
      source: fc.constant('/test'),
      time: fc.constantFrom('2025-03-14T09:26:53Z', 'yesterday'),
      extra: fc.oneof(fc.constant(undefined), number, fc.constant('1e999')),
    });
    const raw = fc.oneof(fc.constantFrom('1e999', '-1e400', '1' + '0'.repeat(310), '{"__proto__":1}', '"\\ud800"', '[1,2]', 'null'), fc.constant(''));
    fc.assert(
      fc.property(typeAndData, envelope, raw, fc.nat(3), ([t, d], env, rawValue, how) => {
        const event = { ...env, type: t.name, data: d };
        let json = JSON.stringify(event);
        // hostile text JSON.stringify cannot make: a number beyond double range, a __proto__ key, a lone surrogate escape, wrong data
        if (how === 1 && rawValue !== '') json = json.replace(/"data":/, `"data":{"big":${rawValue},"d":`).replace(/}$/, '}}');
        if (how === 2 && rawValue !== '') json = json.replace(/"data":\{/, `"data":{"open":${rawValue},`);
        if (how === 3) json = json.replace(/"data":/, '"data_base64":' + JSON.stringify(Buffer.from(JSON.stringify(d)).toString('base64')) + ',"x":');
        const message = { value: Buffer.from(json) };
        expect(decodeEvent(message, limits, TYPES)).toEqual(decodeEvent(message, limits, ZOD_ONLY));
      }),
      { numRuns: RUNS },
    );
  });
});
