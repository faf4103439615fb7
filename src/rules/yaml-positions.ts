/**
 * Positions in a YAML document: the 1-based line and column of an offset, and a Locator from field
 * paths (as zod and the error messages name them, `['rules', 0, 'threshold']`) to where a value or
 * its key starts. Used for rule files and rule unit test files alike.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import type { PathSegment } from './rule-errors.js';

export interface Position {
  line: number;
  col: number;
}

/** Positions of field paths in one file: where a value starts, or where its key starts. */
export interface Locator {
  value(path: readonly PathSegment[]): Position;
  key(path: readonly PathSegment[]): Position;
  /**
   * Where `needle` is written inside the value at `path` (a placeholder in a title); the value's
   * own position when it is not written there as such (escaped, split over lines).
   */
  within(path: readonly PathSegment[], needle: string): Position;
}

export type PositionOf = (offset: number) => Position;

/** Every path at the start of the file: for files whose YAML could not be read. */
export const NO_LOCATOR: Locator = { value: () => ({ line: 1, col: 1 }), key: () => ({ line: 1, col: 1 }), within: () => ({ line: 1, col: 1 }) };

/** Line and column of an offset; before the first line break is known, line 1. */
export function positionOf(lineCounter: LineCounter): PositionOf {
  return (offset) => {
    const p = lineCounter.linePos(offset);
    return p.line === 0 ? { line: 1, col: offset + 1 } : p;
  };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return undefined;
}

/**
 * Finds the YAML node of a field path. `value(path)` is where the value starts; `key(path)` is where
 * its key starts (for list items, the item); `within(path, needle)` is where a piece of the value is
 * written in `source` (the text the document was parsed from). Missing parts fall back to the
 * nearest existing ancestor, so every path has a position.
 */
export function makeLocator(doc: Document, posOf: PositionOf, source = ''): Locator {
  const resolve = (path: readonly PathSegment[]): { node: YamlNode | null; keyNode: YamlNode | null; complete: boolean } => {
    let node = doc.contents as YamlNode | null;
    let keyNode: YamlNode | null = node;
    for (const segment of path) {
      if (isAlias(node)) node = (node.resolve(doc) as YamlNode | undefined) ?? node;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(segment));
        if (!pair) return { node, keyNode, complete: false };
        keyNode = (pair.key as YamlNode | null) ?? node;
        node = (pair.value as YamlNode | null) ?? keyNode;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        node = (node.items[segment] as YamlNode | null) ?? node;
        keyNode = node;
      } else {
        return { node, keyNode, complete: false };
      }
    }
    return { node, keyNode, complete: true };
  };
  const at = (node: YamlNode | null) => posOf(node?.range?.[0] ?? 0);
  return {
    value: (path) => at(resolve(path).node),
    key: (path) => {
      const r = resolve(path);
      return at(r.complete ? r.keyNode : r.node);
    },
    within: (path, needle) => {
      const { node } = resolve(path);
      const range = node?.range;
      if (!range || needle === '') return at(node);
      const i = source.slice(range[0], range[1]).indexOf(needle);
      return i < 0 ? at(node) : posOf(range[0] + i);
    },
  };
}
