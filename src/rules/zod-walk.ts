/**
 * Walking zod schemas by field path: through optional, default, nullable and pipe wrappers, lists,
 * records and unions (the option that has the next key). Used to name the fields allowed where an
 * unknown one is written, and to read the type of an event field a rule names.
 */
import { z } from 'zod';
import type { PathSegment } from './rule-errors.js';

/** The schema inside optional, default, nullable and pipe (its input side) wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}

/** The object schemas a value may match: the schema itself, or every object option of a union. */
export function objectOptions(schema: z.ZodType): z.ZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return [s];
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap(objectOptions);
  return [];
}

function step(schema: z.ZodType, segment: PathSegment): z.ZodType | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodArray) return s.element as z.ZodType;
  if (s instanceof z.ZodRecord) return s.valueType as z.ZodType;
  const options = objectOptions(s);
  const owner = options.find((o) => Object.prototype.hasOwnProperty.call(o.shape, segment));
  return owner ? (owner.shape[segment as string] as z.ZodType) : undefined;
}

/** The schema at a path below `root` (through unions, the option that has the next key). */
export function schemaAt(root: z.ZodType, path: readonly PathSegment[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = root;
  for (let i = 0; i < path.length && schema; i++) {
    schema = step(schema, path[i]!);
  }
  return schema;
}

/** The field names allowed in the mapping at a path (every option's, for a union). */
export function allowedKeysAt(root: z.ZodType, path: readonly PathSegment[]): string[] {
  const schema = schemaAt(root, path);
  if (!schema) return [];
  const keys = new Set<string>();
  for (const option of objectOptions(schema)) for (const k of Object.keys(option.shape)) keys.add(k);
  return [...keys];
}
