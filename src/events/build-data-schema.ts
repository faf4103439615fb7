/**
 * Declaration -> zod: the schema of an event type's `data`, built once per load from its declared
 * fields (src/events/library/*.yaml for the built-in types, `eventTypes:` in rule files for the
 * others). The result is the same zod construction a hand-written schema would be (a loose object of
 * plain string, number, enum ... schemas), so decoding costs what it did with hand-written schemas.
 * Undeclared fields are kept as they are (loose object); only declared fields are validated.
 */
import { z } from 'zod';
import type { EventTypeDeclarationDoc, FieldDeclarationDoc } from './declaration-schema.js';

/** Text of an `id` field: what ids of orders, customers, stores are. */
export const ID_MIN_LENGTH = 1;
export const ID_MAX_LENGTH = 128;

function baseSchema(f: FieldDeclarationDoc): z.ZodType {
  switch (f.type) {
    case 'id':
      return z.string().min(ID_MIN_LENGTH).max(ID_MAX_LENGTH);
    case 'string': {
      let s = z.string();
      if (f.minLength !== undefined) s = s.min(f.minLength);
      if (f.maxLength !== undefined) s = s.max(f.maxLength);
      if (f.pattern !== undefined) s = s.regex(new RegExp(f.pattern));
      return s;
    }
    case 'email': {
      let s = z.email();
      if (f.maxLength !== undefined) s = s.max(f.maxLength);
      return s;
    }
    case 'timestamp':
      return z.iso.datetime({ offset: true });
    case 'number':
    case 'integer': {
      let n = f.type === 'integer' ? z.number().int() : z.number();
      if (f.min !== undefined) n = n.min(f.min);
      if (f.max !== undefined) n = n.max(f.max);
      return n;
    }
    case 'boolean':
      return z.boolean();
    case 'enum':
      return z.enum((f.values ?? []) as [string, ...string[]]);
    case 'object':
      return z.looseObject({});
  }
}

/** The zod schema of one declared field: its type and constraints, optional, described. */
export function fieldSchema(f: FieldDeclarationDoc): z.ZodType {
  let s = baseSchema(f);
  if (f.optional) s = s.optional();
  if (f.description !== undefined) s = s.describe(f.description);
  return s;
}

/** The zod schema of the data of an event type with these fields (in declaration order). */
export function dataSchema(fields: ReadonlyMap<string, FieldDeclarationDoc>, description: string | undefined): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, f] of fields) shape[name] = fieldSchema(f);
  const object = z.looseObject(shape);
  return description === undefined ? object : object.describe(description);
}

/** Which constraints each field type takes (anything else is a declaration error). */
const CONSTRAINTS: Record<FieldDeclarationDoc['type'], readonly (keyof FieldDeclarationDoc)[]> = {
  id: [],
  string: ['minLength', 'maxLength', 'pattern'],
  email: ['maxLength'],
  timestamp: [],
  number: ['min', 'max'],
  integer: ['min', 'max'],
  boolean: [],
  enum: ['values'],
  object: [],
};
const ALL_CONSTRAINTS = ['min', 'max', 'minLength', 'maxLength', 'pattern', 'values'] as const;

/**
 * A group with a quantifier inside that is quantified itself: `(a+)+`, `(\\w*\\s?)*`, `(x{2,})+`. Every
 * event's field is matched against the pattern on the hot path, so patterns with catastrophic
 * backtracking are refused up front (a heuristic: it misses alternations such as `(a|a)+`).
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/** A problem of a declaration that its schema cannot see: where (below the declaration) and what. */
export interface DeclarationProblem {
  path: (string | number)[];
  message: string;
}

/**
 * What is wrong with a declaration that is valid by its schema: constraints that do not apply to the
 * field's type, bounds the wrong way round, a pattern that is no regular expression, an enum without
 * values, a customer role on a field that is not text or given twice. Pure; [] when all is well.
 */
export function declarationProblems(d: EventTypeDeclarationDoc): DeclarationProblem[] {
  const problems: DeclarationProblem[] = [];
  let customer: string | undefined;
  for (const [name, f] of Object.entries(d.fields)) {
    const at = (key: string) => ['fields', name, key];
    for (const key of ALL_CONSTRAINTS) {
      if (f[key] !== undefined && !CONSTRAINTS[f.type].includes(key)) {
        const takes = CONSTRAINTS[f.type];
        problems.push({ path: at(key), message: `field ${name}: ${key} does not apply to type ${f.type} (${takes.length > 0 ? `it takes ${takes.join(', ')}` : 'it takes no constraints'})` });
      }
    }
    if (f.type === 'enum' && f.values === undefined) problems.push({ path: ['fields', name], message: `field ${name}: type enum needs values: [...], the allowed values` });
    if (f.values !== undefined && new Set(f.values).size !== f.values.length) problems.push({ path: at('values'), message: `field ${name}: values lists a value twice` });
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) problems.push({ path: at('min'), message: `field ${name}: min ${f.min} is above max ${f.max}, so no value is allowed` });
    if (f.minLength !== undefined && f.maxLength !== undefined && f.minLength > f.maxLength) {
      problems.push({ path: at('minLength'), message: `field ${name}: minLength ${f.minLength} is above maxLength ${f.maxLength}, so no text is allowed` });
    }
    if (f.pattern !== undefined) {
      try {
        new RegExp(f.pattern);
        if (NESTED_QUANTIFIER.test(f.pattern)) {
          problems.push({ path: at('pattern'), message: `field ${name}: pattern repeats a group that itself repeats (like (a+)+), which can take exponential time on some texts and stall decoding; write it without the nested repetition` });
        }
      } catch (err) {
        problems.push({ path: at('pattern'), message: `field ${name}: pattern is not a regular expression (${err instanceof Error ? err.message : String(err)})` });
      }
    }
    if (f.role === 'customer') {
      if (f.type !== 'id' && f.type !== 'string') problems.push({ path: at('role'), message: `field ${name}: role customer needs a text field (type id or string), not ${f.type}` });
      else if (customer !== undefined) problems.push({ path: at('role'), message: `field ${name}: role customer is already given to field ${customer}; an event is about one customer` });
      else customer = name;
    }
  }
  return problems;
}
