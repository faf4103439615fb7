/**
 * The event types and data fields a rule file names: does the type exist, does the field exist in
 * its data (with "did you mean"), is it a number where one is needed, and can each condition of a
 * `where` or `filter` ever match the field's values. Types and fields are looked up in the rule
 * set's EventTypeRegistry (the shipped library and the folder's own declarations): a rule may name
 * declared fields only, so a missing one is reported with where to declare it.
 */
import { z } from 'zod';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import type { EventTypeRegistry } from '../events/registry.js';
import type { ErrorName } from '../errors/codes.js';
import type { CompiledCpi } from './compiled.js';
import { suggestionSuffix } from './did-you-mean.js';
import type { ParsedRuleFile } from './parsed-rule-file.js';
import { describeValue, ruleError, type PathSegment, type RuleError } from './rule-errors.js';
import type { ConditionDoc, PredicateDoc } from './schema.js';
import { unwrap } from './zod-walk.js';

/** The event type whose data holds a customer's facts, which rule filters test. */
export const CUSTOMER_FACTS_EVENT = 'customer.profile';

/** The event types a CPI reads, in the order its measure names them. */
export function cpiEventTypes(cpi: CompiledCpi): string[] {
  const m = cpi.measure;
  const types = m.kind === 'value' ? [m.event] : m.kind === 'ratio' ? [m.numerator.event, m.denominator.event] : [m.end.event, m.start.event];
  return [...new Set(types)];
}

/** Fields of the profile that are the key, not facts: a filter on them could never match. */
const NOT_FACTS = ['customerId'];

/** Where the checks report: the errors of a compilation. */
export interface Reporter {
  readonly errors: RuleError[];
  /** The event types rules may name. */
  readonly eventTypes: EventTypeRegistry;
  /** Types whose declaration has errors (reported there): naming one is not reported again. */
  readonly brokenEventTypes?: ReadonlySet<string>;
  report(file: ParsedRuleFile, path: PathSegment[], name: ErrorName, args: unknown[], where?: 'value' | 'key'): RuleError;
}

type FieldLookup = { schema: z.ZodType } | { missing: string; candidates: string[] };

/** The schema of a dotted field path in an event type's data (a type the registry has). */
export function lookupField(type: string, dotted: string, excluded: readonly string[] = [], registry: EventTypeRegistry = BUILTIN_EVENT_TYPES): FieldLookup {
  const declared = registry.get(type);
  if (!declared) return { missing: dotted, candidates: [] };
  let schema: z.ZodType = declared.schema;
  for (const [i, part] of dotted.split('.').entries()) {
    const s = unwrap(schema);
    const shape = { ...(s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : {}) };
    if (i === 0) for (const k of excluded) delete shape[k];
    const next = shape[part];
    if (!next) return { missing: part === dotted ? part : dotted, candidates: Object.keys(shape) };
    schema = next;
  }
  return { schema };
}

function describeFieldType(schema: z.ZodType): string {
  const s = unwrap(schema);
  if (s instanceof z.ZodNumber) return 'a number';
  if (s instanceof z.ZodString) return 'text';
  if (s instanceof z.ZodBoolean) return 'true or false';
  if (s instanceof z.ZodEnum) return `one of ${s.options.join(', ')}`;
  if (s instanceof z.ZodObject) return 'a mapping';
  if (s instanceof z.ZodArray) return 'a list';
  return 'not a number';
}

/** Why `value` can never equal a value of this field, or undefined when it can. */
function valueMismatch(field: string, schema: z.ZodType, value: unknown): string | undefined {
  const s = unwrap(schema);
  const shown = describeValue(value);
  if (s instanceof z.ZodEnum) {
    const options = s.options.map(String);
    if (typeof value === 'string' && options.includes(value)) return undefined;
    const suffix = typeof value === 'string' ? suggestionSuffix(value, options) : '';
    return `${shown} is not one of ${options.join(', ')}${suffix}`;
  }
  if (s instanceof z.ZodNumber && typeof value !== 'number') return `${shown} is not a number, and ${field} is a number`;
  if (s instanceof z.ZodBoolean && typeof value !== 'boolean') return `${shown} is not true or false, and ${field} is true or false`;
  // Text fields may hold digits ("1234"), which the engine compares with numbers numerically.
  if (s instanceof z.ZodString && typeof value === 'boolean') {
    return `${shown} is not text, and ${field} is text (write it in quotes: "${String(value)}")`;
  }
  return undefined;
}

/**
 * ` (did you mean "contacts"?)` when a declared field is near; otherwise where to declare it: in the
 * file that declares the type, or, for a built-in type, in an extension (`extend: true`).
 */
export function missingFieldHint(registry: EventTypeRegistry, type: string, found: { missing: string; candidates: string[] }): string {
  const near = suggestionSuffix(found.missing, found.candidates);
  if (near !== '' || found.missing.includes('.')) return near;
  const declared = registry.get(type);
  if (!declared) return '';
  if (!declared.builtin) return `; declare it under fields: of ${type} in ${declared.file}`;
  return `; declare it in a rule file: eventTypes: [{ type: ${type}, extend: true, fields: { ${found.missing}: ... } }] (docs/events.md, "Declaring event types")`;
}

/** Checks of event types and fields named under one path prefix. */
export class EventChecks {
  constructor(
    private readonly c: Reporter,
    private readonly file: ParsedRuleFile,
    private readonly base: PathSegment[],
  ) {}

  /** Returns the type when known, so field checks can follow; reports it otherwise. */
  eventType(path: PathSegment[], type: string): string | undefined {
    if (this.c.eventTypes.has(type)) return type;
    if (this.c.brokenEventTypes?.has(type)) return undefined;
    const near = suggestionSuffix(type, this.c.eventTypes.names);
    const hint = near === '' ? '; a type of your own is declared under eventTypes: in a rule file (docs/events.md, "Declaring event types")' : near;
    this.c.report(this.file, [...this.base, ...path], 'RULE_UNKNOWN_EVENT_TYPE', [type, hint]);
    return undefined;
  }

  field(type: string | undefined, path: PathSegment[], field: string): z.ZodType | undefined {
    if (type === undefined) return undefined;
    const found = lookupField(type, field, [], this.c.eventTypes);
    if ('schema' in found) return found.schema;
    this.c.report(this.file, [...this.base, ...path], 'RULE_UNKNOWN_EVENT_FIELD', [type, field, missingFieldHint(this.c.eventTypes, type, found)]);
    return undefined;
  }

  numericField(type: string | undefined, path: PathSegment[], field: string): void {
    const schema = this.field(type, path, field);
    if (schema && !(unwrap(schema) instanceof z.ZodNumber)) {
      this.c.report(this.file, [...this.base, ...path], 'RULE_FIELD_NOT_NUMERIC', [field, type, describeFieldType(schema)]);
    }
  }

  /** Field names of a `where` or `filter` exist, and each condition can match the field's values. */
  predicate(type: string | undefined, path: PathSegment[], predicate: PredicateDoc | undefined, what?: string): void {
    if (type === undefined || predicate === undefined) return;
    for (const [field, condition] of Object.entries(predicate)) {
      const fieldPath = [...path, field];
      const found = lookupField(type, field, what ? NOT_FACTS : [], this.c.eventTypes);
      if (!('schema' in found)) {
        const suffix = what ? missingFieldHint(this.c.eventTypes, type, found) : this.customerFactHint(type, field) ?? missingFieldHint(this.c.eventTypes, type, found);
        const e = ruleError('RULE_UNKNOWN_EVENT_FIELD', { file: this.file.file, ...this.file.locate.key([...this.base, ...fieldPath]), path: [...this.base, ...fieldPath] }, type, field, suffix);
        if (what) e.message = `${what} (event type ${type}) have no field "${field}"${suffix}`;
        this.c.errors.push(e);
        continue;
      }
      this.condition(found.schema, field, fieldPath, condition);
    }
  }

  /** A `where` naming a customer fact (`valueTier`, `customer.valueTier`): the CPI's `customers` is meant. */
  private customerFactHint(type: string, field: string): string | undefined {
    const fact = field.startsWith('customer.') ? field.slice('customer.'.length) : field;
    if (type === CUSTOMER_FACTS_EVENT || fact === '' || !('schema' in lookupField(CUSTOMER_FACTS_EVENT, fact, NOT_FACTS, this.c.eventTypes))) return undefined;
    return `; ${fact} is a fact of the customer, not a field of the event: to count only the events of some customers, write customers: { ${fact}: ... } on the CPI (docs/rules.md, "Customers: a CPI of some customers only")`;
  }

  private condition(schema: z.ZodType, field: string, path: PathSegment[], condition: ConditionDoc): void {
    const never = (p: PathSegment[], why: string) =>
      this.c.report(this.file, [...this.base, ...p], 'RULE_CONDITION_NEVER_MATCHES', [field, why]);
    if (typeof condition !== 'object' || condition === null) {
      const why = valueMismatch(field, schema, condition);
      if (why) never(path, why);
      return;
    }
    for (const op of ['equals', 'not'] as const) {
      const v = condition[op];
      if (v === undefined) continue;
      const why = valueMismatch(field, schema, v);
      if (why) never([...path, op], why);
    }
    for (const op of ['in', 'notIn'] as const) {
      condition[op]?.forEach((v, i) => {
        const why = valueMismatch(field, schema, v);
        if (why) never([...path, op, i], why);
      });
    }
    // Ranges compare numbers; text fields may hold digits, so only enums and booleans never match.
    const inner = unwrap(schema);
    const numeric = inner instanceof z.ZodNumber;
    const neverNumeric = inner instanceof z.ZodEnum || inner instanceof z.ZodBoolean || inner instanceof z.ZodObject || inner instanceof z.ZodArray;
    let low = Number.NEGATIVE_INFINITY;
    let lowOpen = false;
    let high = Number.POSITIVE_INFINITY;
    let highOpen = false;
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const v = condition[op];
      if (v === undefined) continue;
      if (neverNumeric) {
        never([...path, op], `${op} compares numbers, and ${field} is ${describeFieldType(schema)}`);
        continue;
      }
      if (!numeric) continue;
      if (op === 'gt' || op === 'gte') {
        if (v > low || (v === low && op === 'gt')) { low = v; lowOpen = op === 'gt'; }
      } else if (v < high || (v === high && op === 'lt')) {
        high = v;
        highOpen = op === 'lt';
      }
    }
    if (numeric && (low > high || (low === high && (lowOpen || highOpen)))) {
      never(path, `no number is ${lowOpen ? 'above' : 'at least'} ${low} and ${highOpen ? 'below' : 'at most'} ${high}`);
    }
  }
}
