/**
 * A YAML document with line and column positions, and zod issues turned into positioned RuleErrors
 * (the same `file:line:col: CODE message (at path)` form `cpiwatch validate` prints). Used for rule
 * unit test files, whose schema is small enough for a compact mapping of issues.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { didYouMean } from '../rules/did-you-mean.js';
import { describeValue, formatPath, ruleError, type PathSegment, type RuleError } from '../rules/rule-errors.js';

export interface Located {
  line: number;
  col: number;
}

export interface YamlSource {
  file: string;
  data: unknown;
  /** Position of the value at a path (the nearest existing ancestor when it is absent). */
  at(path: readonly PathSegment[]): Located;
  /** Position of the key of the last path segment (of the item, in a list). */
  keyAt(path: readonly PathSegment[]): Located;
  errors: RuleError[];
}

/** Parses YAML text; syntax errors come back positioned (CPW300), never thrown. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true, logLevel: 'error' });
  const posOf = (offset: number): Located => {
    const p = lineCounter.linePos(offset);
    return p.line === 0 ? { line: 1, col: offset + 1 } : p;
  };
  const at = (path: readonly PathSegment[]) => posOf(nodeAt(doc, path)?.range?.[0] ?? 0);
  const keyAt = (path: readonly PathSegment[]) => posOf(nodeAt(doc, path, true)?.range?.[0] ?? 0);
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      file, data: undefined, at, keyAt,
      errors: problems.map((e) => ruleError('RULE_YAML_SYNTAX', { file, ...posOf(e.pos[0]) }, (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''))),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { file, data: undefined, at, keyAt, errors: [ruleError('RULE_FILE_TOO_COMPLEX', { file, line: 1, col: 1 }, (err as Error).message)] };
  }
  return { file, data, at, keyAt, errors: [] };
}

function nodeAt(doc: Document, path: readonly PathSegment[], key = false): YamlNode | null {
  let node = doc.contents as YamlNode | null;
  for (const [i, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(segment));
      if (!pair) return node;
      node = key && i === path.length - 1 ? (pair.key as YamlNode) : ((pair.value as YamlNode | null) ?? (pair.key as YamlNode));
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment] as YamlNode;
    } else {
      return node;
    }
  }
  return node;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'a mapping', array: 'a list', record: 'a mapping',
};

/** Field names allowed at a path of a schema (strict objects; the first option of a union that has them). */
function allowedKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let s: z.ZodType | undefined = schema;
  for (const segment of path) {
    s = s && unwrap(s);
    if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(segment)];
    else return [];
  }
  s = s && unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable || s instanceof z.ZodPipe) {
    s = (s instanceof z.ZodPipe ? s.in : s.unwrap()) as z.ZodType;
  }
  return s;
}

/** Validates `source.data` against a schema; every issue becomes a positioned RuleError. */
export function validateYaml<T extends z.ZodType>(source: YamlSource, schema: T): { ok: true; value: z.output<T> } | { ok: false; errors: RuleError[] } {
  const parsed = schema.safeParse(source.data ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors: RuleError[] = [];
  const seen = new Set<string>();
  const push = (e: RuleError) => {
    const key = `${e.line}:${e.col}:${e.message}`;
    if (!seen.has(key)) { seen.add(key); errors.push(e); }
  };
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    const value = valueAt(source.data, path);
    const here = { file: source.file, ...source.at(path), path };
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const allowed = allowedKeys(schema, path);
          const suggestion = didYouMean(key, allowed);
          const suffix = suggestion ? ` (did you mean "${suggestion}"?)` : allowed.length ? `; expected one of ${allowed.join(', ')}` : '';
          push(ruleError('RULE_UNKNOWN_FIELD', { file: source.file, ...source.keyAt([...path, key]), path: [...path, key] }, JSON.stringify(key), suffix));
        }
        break;
      case 'invalid_type':
        if (value === undefined) {
          const last = path[path.length - 1];
          push(ruleError('RULE_SCHEMA', { file: source.file, ...source.at(path.slice(0, -1)), path }, `missing required field "${String(last)}" (${TYPE_NAMES[issue.expected] ?? issue.expected})`));
        } else {
          push(ruleError('RULE_SCHEMA', here, `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, found ${describeValue(value)}`));
        }
        break;
      case 'invalid_value': {
        const allowed = issue.values.map(String);
        const suggestion = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
        push(ruleError('RULE_SCHEMA', here, `expected one of ${allowed.join(', ')}, found ${describeValue(value)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`));
        break;
      }
      case 'too_small':
      case 'too_big':
        push(ruleError('RULE_SCHEMA', here, `${issue.message.replace(/^Too (small|big): expected \w+ to (have|be) /, 'expected ')}, found ${describeValue(value)}`));
        break;
      case 'invalid_union':
        push(ruleError('RULE_SCHEMA', here, `${issue.message === 'Invalid input' ? 'found' : issue.message + ', found'} ${describeValue(value)}, which matches none of the allowed forms`));
        break;
      default:
        push(ruleError('RULE_SCHEMA', here, `expected ${issue.message}, found ${describeValue(value)}`));
    }
  }
  return { ok: false, errors };
}

export { formatPath };
