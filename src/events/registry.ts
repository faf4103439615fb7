/**
 * The event types one rule set knows: the shipped library (src/events/library/*.yaml) plus the
 * types the rule folder declares or extends (`eventTypes:` in rule files). Built once per load;
 * decoding, rule cross-checks, JSON Schemas and docs/events.md all read it, so every one of them
 * agrees on what a type's fields are. Plain data with zod schemas; never changes after it is built.
 */
import type { z } from 'zod';
import type { FieldDeclarationDoc } from './declaration-schema.js';
import { dataSchema } from './build-data-schema.js';
import { buildFastDataCheck, type FastDataCheck } from './fast-data.js';

export interface DeclaredField {
  decl: FieldDeclarationDoc;
  /** True for the fields of the shipped library; false for fields a rule folder declares. */
  builtin: boolean;
  /** Rule file that declares the field (absent for built-in fields). */
  file?: string;
}

export interface DeclaredEventType {
  name: string;
  description?: string;
  /** True when the shipped library declares the type (a rule folder may still extend it). */
  builtin: boolean;
  /** Rule file that declares or extends the type (absent for a built-in type nobody extended). */
  file?: string;
  fields: ReadonlyMap<string, DeclaredField>;
  /** zod schema of `data`, built once from the fields. */
  schema: z.ZodObject;
  /** The fast path of the data check (fast-data.ts): valid data without zod; absent: zod always. */
  fastCheck?: FastDataCheck;
  /** The field with role customer: who the event is about (contributor targeting reads it). */
  customerField?: string;
  /** Fields holding personal data (pii: true): their values are never echoed in messages. */
  pii: ReadonlySet<string>;
  /** Example data (declared types; the built-in types have whole example events in examples.ts). */
  example?: Record<string, unknown>;
}

/** Builds a type from its fields: the zod schema, the customer field and the personal ones. */
export function declaredType(o: Omit<DeclaredEventType, 'schema' | 'fastCheck' | 'customerField' | 'pii'>): DeclaredEventType {
  const decls = new Map([...o.fields].map(([name, f]) => [name, f.decl]));
  const customerField = [...o.fields].find(([, f]) => f.decl.role === 'customer')?.[0];
  const pii = new Set([...o.fields].filter(([, f]) => f.decl.pii === true).map(([name]) => name));
  const schema = dataSchema(decls, o.description);
  const fastCheck = buildFastDataCheck(o.fields, schema);
  return { ...o, schema, ...(fastCheck === undefined ? {} : { fastCheck }), ...(customerField === undefined ? {} : { customerField }), pii };
}

export class EventTypeRegistry {
  private readonly byName: ReadonlyMap<string, DeclaredEventType>;
  /** The type names, built-in ones first in library order, then declared ones in file order. */
  readonly names: readonly string[];
  /** The names as one comma-separated text (for "expected one of" messages, built once). */
  readonly nameList: string;

  /** `version`: a hash of the rule folder's declarations ("" when it has none). */
  constructor(types: readonly DeclaredEventType[], readonly version: string = '') {
    this.byName = new Map(types.map((t) => [t.name, t]));
    this.names = types.map((t) => t.name);
    this.nameList = this.names.join(', ');
  }

  get(name: string): DeclaredEventType | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The declared (not built-in) types and the built-in types a rule folder extended. */
  declared(): DeclaredEventType[] {
    return [...this.byName.values()].filter((t) => t.file !== undefined);
  }
}
