/**
 * The shape of an event type declaration, as zod schemas: what a rule file's `eventTypes:` section
 * holds and what the shipped library (src/events/library/*.yaml) is written in. Unknown keys are
 * rejected (strict objects), like everywhere in rule files. declared-types.ts checks what a schema
 * cannot (roles, bounds, clashes with other declarations); build-data-schema.ts turns a valid
 * declaration into the zod schema decoding uses.
 */
import { z } from 'zod';

/** The value types a field may declare. */
export const FIELD_TYPES = ['id', 'string', 'email', 'timestamp', 'number', 'integer', 'boolean', 'enum', 'object'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Field names: what a rule's dotted field path may name at its first segment. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The CloudEvents `type` of a declared event type: dotted, lower-case words, e.g. survey.answered. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

const TypeName = z
  .string()
  .regex(EVENT_TYPE_NAME, { message: 'an event type such as "survey.answered": lower-case words joined by dots' })
  .max(128);

export const FieldDeclaration = z.strictObject({
  type: z.enum(FIELD_TYPES).describe('id (text of 1..128 characters), string, email, timestamp (RFC 3339 text), number, integer, boolean, enum or object'),
  description: z.string().min(1).max(500).optional().describe('What the field holds; shown in docs/events.md and the JSON Schema'),
  optional: z.boolean().optional().describe('true: events may leave the field out (default false: required)'),
  min: z.number().optional().describe('number, integer: smallest allowed value (inclusive)'),
  max: z.number().optional().describe('number, integer: largest allowed value (inclusive)'),
  minLength: z.int().min(0).optional().describe('string: fewest characters'),
  maxLength: z.int().min(1).optional().describe('string, email: most characters'),
  pattern: z.string().min(1).max(500).optional().describe('string: a regular expression the whole text must match'),
  values: z.array(z.string().min(1).max(128)).min(1).max(200).optional().describe('enum: the allowed values'),
  role: z.enum(['customer']).optional().describe('customer: the field names the customer the event is about (what contributor targeting reads)'),
  pii: z.boolean().optional().describe('true: personal data; never echoed in dead-letter reasons'),
});

export const EventTypeDeclaration = z.strictObject({
  type: TypeName.describe('The CloudEvents type, e.g. survey.answered'),
  description: z.string().min(1).max(500).optional().describe('What happened; shown in docs/events.md and the JSON Schema'),
  extend: z.boolean().optional().describe('true: adds fields to the built-in type of this name (its own fields cannot be redefined)'),
  fields: z.record(z.string().regex(FIELD_NAME, { message: 'a field name such as "cesScore": a letter or _, then letters, digits or _' }), FieldDeclaration)
    .describe('The fields of the event data, by name. Fields not declared are kept on the event but no rule may name them'),
  example: z.record(z.string(), z.unknown()).optional().describe('Example data of an event of this type (docs and the JSON Schema; it must match the declaration)'),
});

export type FieldDeclarationDoc = z.output<typeof FieldDeclaration>;
export type EventTypeDeclarationDoc = z.output<typeof EventTypeDeclaration>;
