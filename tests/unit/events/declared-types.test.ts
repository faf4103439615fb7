// Event types as data: a rule folder's `eventTypes:` declarations are checked with positions and
// hints (CPW340-CPW342), joined to the shipped library, decode events, and feed rule cross-checks.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { decodeEvent } from '../../../src/events/decode.js';
import { BUILTIN_EVENT_TYPES } from '../../../src/events/library.js';
import { EVENT_TYPE_NAMES } from '../../../src/events/event-types.js';
import { renderEventSchemas } from '../../../src/events/json-schemas.js';
import { renderEventTypesDoc } from '../../../src/events/events-doc.js';
import type { EventTypeRegistry } from '../../../src/events/registry.js';
import { compileRuleSources } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';

const SURVEY = `
eventTypes:
  - type: survey.answered
    description: A customer answered a survey after a touchpoint.
    fields:
      surveyId: { type: id }
      customerId: { type: id, role: customer }
      storeId: { type: id, optional: true }
      channel: { type: enum, values: [store, web, phone] }
      cesScore: { type: integer, min: 1, max: 7, description: "Customer effort score, 1 (easy) to 7" }
      email: { type: email, pii: true, optional: true }
    example: { surveyId: s-1, customerId: cust-1, channel: phone, cesScore: 6 }
`;

const CES_CPI = `
cpis:
  - id: ces-by-channel
    measure:
      value: { event: survey.answered, field: cesScore }
    groupBy: channel
    window: 1h
    resolution: 5m
`;

function compile(...texts: string[]) {
  return compileRuleSources(texts.map((text, i) => ({ file: `f${i}.yaml`, text })));
}

function errorsOf(...texts: string[]): string[] {
  const r = compile(...texts);
  return r.ok ? [] : r.errors.map(formatRuleError);
}

function typesOf(...texts: string[]): EventTypeRegistry {
  const r = compile(...texts);
  if (!r.ok) throw new Error(r.errors.map(formatRuleError).join('\n'));
  return r.ruleSet.eventTypes!;
}

function message(type: string, data: unknown): { value: Buffer } {
  return { value: Buffer.from(JSON.stringify({ specversion: '1.0', id: 'e1', source: 'urn:t', type, time: '2025-03-14T10:00:00Z', data })) };
}

describe('the shipped library', () => {
  it('declares the 17 built-in types, in the order code and docs list them', () => {
    expect(BUILTIN_EVENT_TYPES.names).toEqual(EVENT_TYPE_NAMES);
    expect(BUILTIN_EVENT_TYPES.get('customer.profile')!.pii).toEqual(new Set(['email', 'name']));
    expect(BUILTIN_EVENT_TYPES.get('store.profile')!.customerField).toBeUndefined();
    expect(BUILTIN_EVENT_TYPES.get('ticket.resolved')!.customerField).toBe('customerId');
  });

  it('is what a rule set without declarations decodes with', () => {
    expect(typesOf(CES_CPI.replace('survey.answered, field: cesScore', 'ticket.resolved, field: contacts'))).toBe(BUILTIN_EVENT_TYPES);
  });
});

describe('a declared type', () => {
  const types = typesOf(SURVEY, CES_CPI);

  it('decodes: declared fields validated, undeclared ones kept as they are', () => {
    const r = decodeEvent(message('survey.answered', { surveyId: 's1', customerId: 'c1', channel: 'web', cesScore: 7, comment: 'ok' }), { maxBytes: 10_000 }, types);
    expect(r).toMatchObject({ ok: true, event: { type: 'survey.answered', data: { cesScore: 7, comment: 'ok' } } });
  });

  it('is refused with every problem named (CPW203), and unknown without the declarations (CPW202)', () => {
    const bad = message('survey.answered', { surveyId: 's1', customerId: 'c1', channel: 'mail', cesScore: 9 });
    const r = decodeEvent(bad, { maxBytes: 10_000 }, types);
    expect(r).toEqual({ ok: false, code: 'CPW203', reason: 'event data does not match the schema of survey.answered: data.channel: expected one of "store" | "web" | "phone", got "mail"; data.cesScore: expected <= 7, got 9' });
    const built = decodeEvent(bad, { maxBytes: 10_000 });
    expect(built.ok === false && built.code).toBe('CPW202');
    expect(built.ok === false && built.reason).toContain('(expected one of: curbside.arrived, ');
  });

  it('never echoes the value of a personal-data field', () => {
    const types2 = typesOf(SURVEY.replace('email: { type: email, pii: true, optional: true }', 'age: { type: integer, min: 18, pii: true, optional: true }'));
    const r = decodeEvent(message('survey.answered', { surveyId: 's1', customerId: 'c1', channel: 'web', cesScore: 2, age: 12 }), { maxBytes: 10_000 }, types2);
    expect(r.ok === false && r.reason).toBe('event data does not match the schema of survey.answered: data.age: expected >= 18, got a value not shown (personal data)');
  });

  it('gets its JSON Schema and its section of the events reference, with its example', () => {
    const schema = JSON.parse(renderEventSchemas(types).get('events/survey.answered.schema.json')!) as { properties: { data: { properties: Record<string, unknown>; required: string[] } }; examples: { data: unknown }[] };
    expect(schema.properties.data.properties.cesScore).toEqual({ type: 'integer', minimum: 1, maximum: 7, description: 'Customer effort score, 1 (easy) to 7' });
    expect(schema.properties.data.required).toEqual(['surveyId', 'customerId', 'channel', 'cesScore']);
    expect(schema.examples[0]!.data).toEqual({ surveyId: 's-1', customerId: 'cust-1', channel: 'phone', cesScore: 6 });
    expect(renderEventTypesDoc(types)).toContain('| `cesScore` | integer | yes | >= 1, <= 7 | Customer effort score, 1 (easy) to 7 |');
  });

  it('`cpiwatch schemas --rules` publishes its JSON Schema beside the built-in ones; a broken declaration writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-schemas-rules-'));
    writeFileSync(join(dir, 'survey.yaml'), SURVEY);
    const out = join(dir, 'schemas');
    const r = await runCli(['schemas', '--rules', join(dir, 'survey.yaml'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(out, 'events'))).toHaveLength(EVENT_TYPE_NAMES.length + 1);
    expect(readFileSync(join(out, 'events', 'survey.answered.schema.json'), 'utf8')).toBe(renderEventSchemas(types).get('events/survey.answered.schema.json'));
    writeFileSync(join(dir, 'survey.yaml'), SURVEY.replace('max: 7', 'max: 0'));
    const bad = await runCli(['schemas', '--rules', join(dir, 'survey.yaml'), '--out', join(dir, 'other')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('CPW340 event type survey.answered: field cesScore: min 1 is above max 0, so no value is allowed');
    expect(() => readdirSync(join(dir, 'other'))).toThrow();
  });

  it('changes the rule set version when it changes (a hot reload applies it)', () => {
    const a = compile(SURVEY, CES_CPI);
    const b = compile(SURVEY.replace('max: 7', 'max: 10'), CES_CPI);
    expect(a.ok && b.ok && a.ruleSet.version !== b.ruleSet.version).toBe(true);
  });
});

describe('rules name declared fields only', () => {
  it('a field of a declared type: CPW314 says where to declare it', () => {
    expect(errorsOf(SURVEY, CES_CPI.replace('field: cesScore', 'field: effort'))).toEqual([
      'f1.yaml:5:47: CPW314 event type survey.answered has no field "effort"; declare it under fields: of survey.answered in f0.yaml (at cpis[0].measure.value.field)',
    ]);
  });

  it('a field of a built-in type: CPW314 says how to extend it, and the extension makes it valid', () => {
    const cpi = CES_CPI.replace('survey.answered, field: cesScore', 'ticket.resolved, field: cesScore');
    expect(errorsOf(cpi)).toEqual([
      'f0.yaml:5:47: CPW314 event type ticket.resolved has no field "cesScore"; declare it in a rule file: eventTypes: [{ type: ticket.resolved, extend: true, fields: { cesScore: ... } }] (docs/events.md, "Declaring event types") (at cpis[0].measure.value.field)',
    ]);
    const types = typesOf(cpi, 'eventTypes:\n  - type: ticket.resolved\n    extend: true\n    fields:\n      cesScore: { type: integer, min: 1, max: 7 }\n');
    expect([...types.get('ticket.resolved')!.fields.keys()]).toEqual(['ticketId', 'customerId', 'channel', 'contacts', 'cesScore']);
    const r = decodeEvent(message('ticket.resolved', { ticketId: 't', customerId: 'c', channel: 'web', contacts: 1, cesScore: 0 }), { maxBytes: 10_000 }, types);
    expect(r.ok === false && r.reason).toBe('event data does not match the schema of ticket.resolved: data.cesScore: expected >= 1, got 0');
  });

  it('an unknown type: CPW304 with did-you-mean among declared types, else where types are declared', () => {
    expect(errorsOf(SURVEY, CES_CPI.replace('event: survey.answered', 'event: survey.answerd'))[0]).toContain('CPW304 unknown event type "survey.answerd" (did you mean "survey.answered"?)');
    expect(errorsOf(CES_CPI.replace('event: survey.answered', 'event: checkout.abandoned'))[0]).toBe(
      'f0.yaml:5:23: CPW304 unknown event type "checkout.abandoned"; a type of your own is declared under eventTypes: in a rule file (docs/events.md, "Declaring event types") (at cpis[0].measure.value.event)',
    );
  });
});

describe('declaration errors, with positions', () => {
  it('a type whose declaration has errors is not also reported as unknown where a CPI names it', () => {
    expect(errorsOf(SURVEY.replace('type: integer, min: 1', 'type: integer, minimum: 1'), CES_CPI).map((e) => e.slice(0, 21))).toEqual(['f0.yaml:10:34: CPW302']);
  });

  const decl = (fields: string, extra = '') => `eventTypes:\n  - type: survey.answered\n${extra}    fields:\n${fields}`;

  it('CPW340: constraints that do not fit the type, bounds the wrong way round, bad patterns, roles', () => {
    expect(errorsOf(decl('      a: { type: number, pattern: "x", min: 3, max: 1 }\n      b: { type: string, pattern: "(" }\n      c: { type: boolean, role: customer }\n      d: { type: enum }\n'))).toEqual([
      'f0.yaml:4:26: CPW340 event type survey.answered: field a: pattern does not apply to type number (it takes min, max) (at eventTypes[0].fields.a.pattern)',
      'f0.yaml:4:40: CPW340 event type survey.answered: field a: min 3 is above max 1, so no value is allowed (at eventTypes[0].fields.a.min)',
      expect.stringMatching(/^f0\.yaml:5:26: CPW340 event type survey\.answered: field b: pattern is not a regular expression \(.+\) \(at eventTypes\[0\]\.fields\.b\.pattern\)$/),
      'f0.yaml:6:27: CPW340 event type survey.answered: field c: role customer needs a text field (type id or string), not boolean (at eventTypes[0].fields.c.role)',
      'f0.yaml:7:7: CPW340 event type survey.answered: field d: type enum needs values: [...], the allowed values (at eventTypes[0].fields.d)',
    ]);
    expect(errorsOf(decl('      e: { type: string, pattern: "^(\\\\w+\\\\s?)*$" }\n      f: { type: string, pattern: "^[A-Z]{2}-(\\\\d{4})+$" }\n'))).toEqual([
      'f0.yaml:4:26: CPW340 event type survey.answered: field e: pattern repeats a group that itself repeats (like (a+)+), which can take exponential time on some texts and stall decoding; write it without the nested repetition (at eventTypes[0].fields.e.pattern)',
    ]);
  });

  it('CPW340: an example that does not match, extend on a type that is not built in', () => {
    expect(errorsOf(decl('      n: { type: integer }\n') + '    example: { n: 1.5 }\n')).toEqual([
      'f0.yaml:5:5: CPW340 event type survey.answered: example does not match the declaration: example.n: expected integer, got 1.5 (at eventTypes[0].example)',
    ]);
    expect(errorsOf(decl('      n: { type: integer }\n', '    extend: true\n'))).toEqual([
      'f0.yaml:3:5: CPW340 event type survey.answered: extend: true, but survey.answered is not a built-in type; to declare a new type, leave extend out (at eventTypes[0].extend)',
    ]);
  });

  it('CPW341: a type declared in two files, a field two extensions both add', () => {
    expect(errorsOf(SURVEY, SURVEY)).toEqual([
      'f1.yaml:3:11: CPW341 event type survey.answered is already declared at f0.yaml:3:11; a type is declared once, in one file (at eventTypes[0].type)',
    ]);
    const ext = 'eventTypes:\n  - type: ticket.resolved\n    extend: true\n    fields:\n      cesScore: { type: integer }\n';
    expect(errorsOf(ext, ext)).toEqual([
      'f1.yaml:5:7: CPW341 event type ticket.resolved is already declared at f0.yaml:5:17 (field cesScore is added by two extensions) (at eventTypes[0].fields.cesScore)',
    ]);
  });

  it('CPW342: a built-in type redefined, or one of its own fields, or its customer', () => {
    expect(errorsOf('eventTypes:\n  - type: ticket.resolved\n    fields:\n      contacts: { type: integer }\n')).toEqual([
      'f0.yaml:2:11: CPW342 event type ticket.resolved is built in: it cannot be redefined (its fields: ticketId, customerId, channel, contacts); to add fields to it, write extend: true (at eventTypes[0].type)',
    ]);
    expect(errorsOf('eventTypes:\n  - type: ticket.resolved\n    extend: true\n    fields:\n      contacts: { type: number }\n      agent: { type: id, role: customer }\n')).toEqual([
      'f0.yaml:5:7: CPW342 event type ticket.resolved is built in: field contacts is one of its own fields, which an extension cannot redefine; give yours another name (at eventTypes[0].fields.contacts)',
      'f0.yaml:6:26: CPW342 event type ticket.resolved is built in: its customer is field customerId; an extension cannot name another (at eventTypes[0].fields.agent.role)',
    ]);
  });

  it('unknown keys and values are reported like in any rule file, with did-you-mean (CPW301, CPW302)', () => {
    expect(errorsOf(decl('      n: { type: integr, maximum: 3 }\n'))).toEqual([
      'f0.yaml:4:18: CPW301 expected one of id, string, email, timestamp, number, integer, boolean, enum, object, found "integr" (did you mean "integer"?) (at eventTypes[0].fields.n.type)',
      'f0.yaml:4:26: CPW302 unknown field "maximum"; expected one of description, optional, min, max, minLength, maxLength, pattern, values, role, pii (at eventTypes[0].fields.n.maximum)',
    ]);
  });
});
