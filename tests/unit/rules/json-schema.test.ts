import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_NAMES } from '../../../src/events/event-types.js';
import { ruleFileJsonSchema, ruleFileJsonSchemaText } from '../../../src/rules/json-schema.js';

const COMMITTED = fileURLToPath(new URL('../../../schemas/rule-file.schema.json', import.meta.url));

type Json = Record<string, any>;

describe('rule file JSON Schema', () => {
  it('the committed schemas/rule-file.schema.json is up to date (regenerate: npm run schemas)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(ruleFileJsonSchemaText());
  });

  it('describes what people write: fields with defaults are optional, unknown fields are not allowed', () => {
    const schema = ruleFileJsonSchema() as Json;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.additionalProperties).toBe(false);
    const rule = schema.properties.rules.items;
    expect(rule.additionalProperties).toBe(false);
    expect(rule.required.sort()).toEqual(['id', 'offer', 'target']);
    // cpi, aggregate and threshold, or when
    expect(rule.anyOf).toEqual([{ required: ['cpi', 'aggregate', 'threshold'] }, { required: ['when'] }]);
    expect(rule.properties.aggregate.enum).toContain('p90');
    const cpi = schema.properties.cpis.items;
    expect(cpi.required.sort()).toEqual(['groupBy', 'id', 'measure', 'window']);
  });

  it('lists the built-in event types for editors to complete, and allows a declared one', () => {
    const schema = ruleFileJsonSchema() as Json;
    const value = schema.properties.cpis.items.properties.measure.anyOf.find((o: Json) => o.properties.value);
    const event = value.properties.value.properties.event;
    expect(event.examples).toEqual(EVENT_TYPE_NAMES);
    expect(event.enum).toBeUndefined();
    const pattern = new RegExp(event.pattern);
    for (const type of [...EVENT_TYPE_NAMES, 'survey.answered', 'checkout.ended']) expect(pattern.test(type), type).toBe(true);
    for (const type of ['Survey.Answered', 'survey', 'survey answered']) expect(pattern.test(type), type).toBe(false);
  });

  it('is what the example rule files point at', () => {
    for (const name of ['curbside.good.yaml', 'support.good.yaml', 'per-customer.good.yaml']) {
      const text = readFileSync(fileURLToPath(new URL(`../../fixtures/rules/${name}`, import.meta.url)), 'utf8');
      expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../../schemas/rule-file.schema.json');
    }
  });
});
