/** Reads a dotted path ("address.city") from event data or facts; own properties only. */
export function getPath(obj: unknown, path: string): unknown {
  // most paths are one field: no split (an array and its strings per read)
  if (path.indexOf('.') === -1) return ownMember(obj, path);
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    cur = ownMember(cur, part);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function ownMember(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return (obj as Record<string, unknown>)[key];
}
