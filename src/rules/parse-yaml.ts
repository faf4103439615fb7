/**
 * Reading YAML text for cpiwatch: syntax, size and complexity limits (a megabyte, nesting, fields per
 * mapping, alias expansion), keys that must be plain text and given once, then plain data with a
 * Locator for positions. Every problem is a positioned RuleError, never an exception. Shared by rule
 * files (parse-rule-file.ts) and rule unit test files (rule-tests/test-file.ts).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { ruleError, type RuleError } from './rule-errors.js';
import { makeLocator, NO_LOCATOR, positionOf, type Locator, type PositionOf } from './yaml-positions.js';

export const RULE_FILE_LIMITS = {
  /** Larger files are rejected unread (CPW310). */
  maxBytes: 1024 * 1024,
  /** Alias expansions per file; stops "billion laughs" documents (CPW320). */
  maxAliasCount: 100,
  /** Nesting of mappings and lists (CPW320). Real rule files stay under 12. */
  maxDepth: 64,
  /** Fields in one mapping (CPW320). Real rule files stay under 30; checks per field must not go quadratic. */
  maxMapEntries: 1000,
  /** Schema problems reported per file; the rest are counted in one last error. */
  maxErrors: 200,
} as const;

/** A YAML file read: its data when there are no errors, and positions of its field paths. */
export interface ParsedYaml {
  file: string;
  /** Plain data (an empty document is `{}`); undefined when there are errors. */
  data: unknown;
  locate: Locator;
  errors: RuleError[];
}

/** Parses YAML text: syntax, size and complexity limits, keys. Pure; never throws. */
export function parseYaml(file: string, text: string): ParsedYaml {
  const failed = (errors: RuleError[], locate: Locator = NO_LOCATOR): ParsedYaml => ({ file, data: undefined, locate, errors });

  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > RULE_FILE_LIMITS.maxBytes) {
    return failed([ruleError('RULE_FILE_TOO_LARGE', { file, line: 0, col: 0 }, bytes, RULE_FILE_LIMITS.maxBytes)]);
  }

  const lineCounter = new LineCounter();
  const posOf = positionOf(lineCounter);

  // The YAML composer recurses per nesting level: refuse absurdly deep flow collections before it.
  const deepAt = deepFlowOffset(text, RULE_FILE_LIMITS.maxDepth);
  if (deepAt !== undefined) {
    lineCounter.addNewLine(0);
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineCounter.addNewLine(i + 1);
    return failed([
      ruleError('RULE_FILE_TOO_COMPLEX', { file, ...posOf(deepAt) }, `nested more than ${RULE_FILE_LIMITS.maxDepth} levels deep`),
    ]);
  }

  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    // the yaml package's own duplicate-key check compares every pair of keys (20,000 keys: 9 s);
    // duplicateKeys() below does the same check in linear time
    uniqueKeys: false,
    strict: true,
    logLevel: 'error',
  });
  const locate = makeLocator(doc, posOf, text);

  const yamlProblems = [...doc.errors, ...doc.warnings];
  const duplicates = duplicateKeys(doc);
  if (yamlProblems.length > 0 || duplicates.length > 0) {
    return failed(
      [
        ...yamlProblems.map((e) => ({ at: e.pos[0], message: yamlMessage(e, text) })),
        ...duplicates.map((d) => ({ at: d.at, message: `field ${JSON.stringify(d.key)} appears twice in the same mapping` })),
      ].sort((a, b) => a.at - b.at).map((p) => ruleError('RULE_YAML_SYNTAX', { file, ...posOf(p.at) }, p.message)),
      locate,
    );
  }

  const structural = checkStructure(doc, file, posOf);
  if (structural.length > 0) return failed(structural, locate);

  try {
    return { file, data: doc.toJS({ maxAliasCount: RULE_FILE_LIMITS.maxAliasCount }) ?? {}, locate, errors: [] };
  } catch (err) {
    const text = (err as Error).message;
    // an alias with no anchor before it is a mistake in the file, not a resource problem
    const unresolved = err instanceof ReferenceError ? /^Unresolved alias.*: (.+)$/.exec(text) : null;
    let at = { line: 1, col: 1 };
    visit(doc, {
      Alias: (_key, node) => {
        if (unresolved && node.source !== unresolved[1]) return undefined;
        at = posOf(node.range?.[0] ?? 0);
        return visit.BREAK;
      },
    });
    if (unresolved) return failed([ruleError('RULE_YAML_SYNTAX', { file, ...at }, `alias *${unresolved[1]} refers to no anchor (&${unresolved[1]}) before it`)], locate);
    const message = err instanceof ReferenceError && /alias/i.test(text) ? `aliases (*name) expand to more than ${RULE_FILE_LIMITS.maxAliasCount} copies` : text;
    return failed([ruleError('RULE_FILE_TOO_COMPLEX', { file, ...at }, message)], locate);
  }
}

function yamlMessage(error: { code: string; message: string; pos: [number, number] }, text: string): string {
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^(?:"([^"\n]*)"|'([^'\n]*)'|([^:\n]*?))\s*:/.exec(text.slice(error.pos[0]));
    const name = key ? (key[1] ?? key[2] ?? key[3]) : undefined;
    if (name) return `field "${name}" appears twice in the same mapping`;
  }
  const first = error.message.split('\n')[0] ?? error.message;
  return first.replace(/\.$/, '').replace(/ at line \d+, column \d+$/, '');
}

/**
 * Offset of the first flow collection ([ or {) opened deeper than maxDepth, or undefined. Skips
 * comments and quoted strings; in block context only brackets that start a value count, so a title
 * like "Free drink [today]" does not.
 */
export function deepFlowOffset(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let lastSignificant = '\n'; // previous non-blank character; '\n' at the start of a line
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') { lastSignificant = '\n'; continue; }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    const startsValue = depth > 0 || '\n:-?,[{'.includes(lastSignificant);
    if ((c === '"' || c === "'") && startsValue) {
      for (i++; i < text.length; i++) {
        if (c === '"' && text[i] === '\\') { i++; continue; }
        if (text[i] === c) {
          if (c === "'" && text[i + 1] === "'") { i++; continue; }
          break;
        }
      }
      lastSignificant = c;
      continue;
    }
    if ((c === '[' || c === '{') && startsValue) {
      depth++;
      if (depth > maxDepth) return i;
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    } else if (depth === 0 && c !== ':' && c !== '-' && c !== '?') {
      // inside a plain block scalar: skip to the end of the line or the next ": "
      while (i + 1 < text.length && text[i + 1] !== '\n' && !(text[i + 1] === ':' && /\s/.test(text[i + 2] ?? ' '))) i++;
    }
    lastSignificant = c;
  }
  return undefined;
}

/** Keys given twice in one mapping (as the yaml package's uniqueKeys would report them), in linear time. */
function duplicateKeys(doc: Document): { key: string; at: number }[] {
  const out: { key: string; at: number }[] = [];
  const stack: unknown[] = [doc.contents];
  let visited = 0;
  while (stack.length > 0 && visited++ < 1_000_000) {
    const node = stack.pop();
    if (!isMap(node) && !isSeq(node)) continue;
    const seen = isMap(node) ? new Set<string>() : undefined;
    for (const item of node.items) {
      if (isPair(item)) {
        if (seen && isScalar(item.key)) {
          const v = item.key.value;
          const id = `${typeof v}:${String(v)}`;
          if (seen.has(id)) out.push({ key: String(v), at: item.key.range?.[0] ?? 0 });
          else seen.add(id);
        }
        stack.push(item.value);
      } else {
        stack.push(item);
      }
    }
  }
  return out;
}

/** Keys must be plain text, nesting stays below maxDepth and mappings below maxMapEntries. */
function checkStructure(doc: Document, file: string, posOf: PositionOf): RuleError[] {
  const errors: RuleError[] = [];
  const stack: Array<{ node: unknown; depth: number }> = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > RULE_FILE_LIMITS.maxDepth) {
      const offset = node.range?.[0] ?? 0;
      return [ruleError('RULE_FILE_TOO_COMPLEX', { file, ...posOf(offset) }, `nested more than ${RULE_FILE_LIMITS.maxDepth} levels deep`)];
    }
    if (isMap(node) && node.items.length > RULE_FILE_LIMITS.maxMapEntries) {
      const offset = node.range?.[0] ?? 0;
      return [ruleError('RULE_FILE_TOO_COMPLEX', { file, ...posOf(offset) }, `a mapping with ${node.items.length} fields (at most ${RULE_FILE_LIMITS.maxMapEntries})`)];
    }
    for (const item of node.items) {
      if (isPair(item)) {
        if (item.key !== null && !isScalar(item.key)) {
          const offset = (item.key as YamlNode).range?.[0] ?? 0;
          errors.push(ruleError('RULE_SCHEMA', { file, ...posOf(offset) }, 'a field name must be plain text, found a list or mapping used as a key'));
        }
        stack.push({ node: item.value, depth: depth + 1 });
      } else {
        stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return errors;
}
