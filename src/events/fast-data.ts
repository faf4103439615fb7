/**
 * A fast path for the data check of a declared event type: plain comparisons, built once per type
 * from its field declarations, that accept only data the type's zod schema (build-data-schema.ts)
 * certainly accepts, and hand back what zod would (the same fields in the same order). Anything it
 * is not sure of (a value of the wrong type, a bound not met, a field of a name it cannot read the way zod does) gives `undefined`, and the decoder runs zod
 * as before: so every verdict, error code and reason is zod's, and the fast path only skips the
 * work of data that is valid. Pure; never throws.
 *
 * What zod's loose object hands back: a new object with the declared fields present, in
 * declaration order, then the undeclared ones in input order; a nested `object` field a shallow
 * copy. When the input's own order already is that order and no field is an object, the input
 * itself is handed back (it is the decoder's own parse, used nowhere else).
 */
import type { z } from 'zod';
import { ID_MAX_LENGTH, ID_MIN_LENGTH } from './build-data-schema.js';
import type { FieldDeclarationDoc } from './declaration-schema.js';
import type { DeclaredField } from './registry.js';

/** One field's check: true if zod's schema of the field certainly accepts `v` (a value present). */
type FieldCheck = (v: unknown) => boolean;

interface FastField { name: string; optional: boolean; check: FieldCheck; object: boolean }

export type FastDataCheck = (data: unknown) => Record<string, unknown> | undefined;

/** Code points of a text, as zod counts them (a surrogate pair is one; a lone surrogate one too). */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { count--; i++; }
  }
  return count;
}

/**
 * zod's length bounds: in code points, counted only when the UTF-16 units leave it in doubt (a code
 * point is one or two units).
 */
function lengthCheck(min: number | undefined, max: number | undefined): (s: string) => boolean {
  return (s) => {
    const units = s.length;
    if (max !== undefined && units > max && codePoints(s) > max) return false;
    if (min !== undefined && (units < min || (units < 2 * min && codePoints(s) < min))) return false;
    return true;
  };
}

function baseCheck(f: FieldDeclarationDoc, schema: z.ZodType): FieldCheck | undefined {
  switch (f.type) {
    case 'id': {
      const len = lengthCheck(ID_MIN_LENGTH, ID_MAX_LENGTH);
      return (v) => typeof v === 'string' && len(v);
    }
    case 'string': {
      const len = lengthCheck(f.minLength, f.maxLength);
      if (f.pattern === undefined) return (v) => typeof v === 'string' && len(v);
      const re = new RegExp(f.pattern);
      return (v) => typeof v === 'string' && len(v) && re.test(v);
    }
    case 'number':
    case 'integer': {
      const { min, max } = f;
      const int = f.type === 'integer';
      return (v) => typeof v === 'number' && (int ? Number.isSafeInteger(v) : Number.isFinite(v)) && (min === undefined || v >= min) && (max === undefined || v <= max);
    }
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'enum': {
      const values = new Set(f.values ?? []);
      return (v) => typeof v === 'string' && values.has(v);
    }
    case 'object':
      return (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'email':
    case 'timestamp': {
      const inner = unwrapOptional(schema);
      const pattern = emailPattern(inner);
      if (f.type === 'email' && pattern !== undefined) {
        // zod's email check: its own pattern, then the length bound
        const len = lengthCheck(undefined, f.maxLength);
        return (v) => typeof v === 'string' && pattern.test(v) && len(v);
      }
      // zod's own check of the field (its regexes); its output is the text itself
      return (v) => typeof v === 'string' && inner.safeParse(v).success;
    }
  }
}

/**
 * The pattern of a zod email schema whose only other check is a maximum length (what
 * build-data-schema.ts makes); undefined for anything else, which zod then checks itself.
 */
function emailPattern(schema: z.ZodType): RegExp | undefined {
  const def = (schema as unknown as { def: { type: string; format?: string; pattern?: unknown; checks?: { _zod: { def: { check: string } } }[] } }).def;
  if (def.type !== 'string' || def.format !== 'email' || !(def.pattern instanceof RegExp) || def.pattern.global || def.pattern.sticky) return undefined;
  if ((def.checks ?? []).some((c) => c._zod.def.check !== 'max_length')) return undefined;
  return def.pattern;
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  return def.type === 'optional' && def.innerType !== undefined ? def.innerType : schema;
}

/** The fast check of a type's data (its fields and the zod schema built from them), or undefined when the schema is not one this module mirrors. */
export function buildFastDataCheck(declaredFields: ReadonlyMap<string, DeclaredField>, schema: z.ZodObject): FastDataCheck | undefined {
  const shape = schema.shape as Record<string, z.ZodType>;
  const names = Object.keys(shape);
  const fields: FastField[] = [];
  for (const name of names) {
    const declared = declaredFields.get(name);
    // a name Object.prototype has would read the prototype's member where zod reads its own way
    if (declared === undefined || name in Object.prototype) return undefined;
    const check = baseCheck(declared.decl, shape[name]!);
    if (check === undefined) return undefined;
    fields.push({ name, optional: declared.decl.optional === true, check, object: declared.decl.type === 'object' });
  }
  if (fields.length !== declaredFields.size) return undefined;
  const position = new Map(names.map((n, i) => [n, i]));
  const hasObject = fields.some((f) => f.object);

  return (data) => {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
    const d = data as Record<string, unknown>;
    for (const f of fields) {
      const v = d[f.name];
      if (v === undefined) {
        if (!f.optional) return undefined;
      } else if (!f.check(v)) {
        return undefined;
      }
    }
    if (!hasObject && inZodOrder(d, position)) return d;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const v = d[f.name];
      if (v !== undefined) out[f.name] = f.object ? { ...(v as object) } : v;
    }
    for (const k of Object.keys(d)) if (!position.has(k)) out[k] = d[k];
    return out;
  };
}

/** True when the declared fields come first, in declaration order, then the undeclared ones. */
function inZodOrder(d: Record<string, unknown>, position: ReadonlyMap<string, number>): boolean {
  let next = 0;
  let undeclared = false;
  for (const k in d) {
    const at = position.get(k);
    if (at === undefined) { undeclared = true; continue; }
    if (undeclared || at < next) return false;
    next = at + 1;
  }
  return true;
}
