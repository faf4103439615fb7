/**
 * Plain data (parsed JSON or YAML) by field path: the value a validation issue points at, in an
 * event (events/zod-issues.ts) or a rule file (rules/schema-issues.ts). Own properties and array
 * indexes only, so a path never reaches into a prototype ("constructor", "__proto__") or an
 * array's "length".
 */

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a field path of plain data, or undefined when nothing is there. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const segment of path) {
    if (Array.isArray(v) && typeof segment === 'number') v = v[segment];
    else if (isRecord(v) && Object.prototype.hasOwnProperty.call(v, segment)) v = v[segment as string];
    else return undefined;
  }
  return v;
}
