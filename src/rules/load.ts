/**
 * Reading rule files: files and directories from disk, YAML with line and column positions, and the
 * zod schema of a rule file, with every problem turned into a positioned RuleError. Nothing stops at
 * the first error: every file is parsed and every problem of every file is reported, like
 * Prometheus' rulefmt.
 *
 *   loadRuleSet(paths)            disk -> sources -> compileRuleSources
 *   compileRuleSources(sources)   pure: parseRuleSource for each, then compile.ts cross-checks
 *   parseRuleSource(file, text)   pure: YAML + schema for one file
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import { z } from 'zod';
import {
  CpiDefinition,
  Policy,
  RuleDefinition,
  RuleFile,
  type PolicyDoc,
} from './schema.js';
import { compileParsedFiles, type Locator, type ParsedItem, type ParsedRuleFile, type RuleSetResult } from './compile.js';
import { didYouMean, suggestionSuffix } from './did-you-mean.js';
import {
  describeValue,
  formatPath,
  isWithinPath,
  orList,
  ruleError,
  sortRuleErrors,
  type PathSegment,
  type RuleError,
} from './rule-errors.js';

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

export interface RuleSource {
  file: string;
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Disk

/** A file given explicitly is always read; a directory contributes its *.yaml and *.yml files. */
function isRuleFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name);
}

/**
 * Reads the rule files named by `paths`: files as given, directories recursively (*.yaml and *.yml,
 * sorted, skipping *.test.yaml rule unit tests and names starting with a dot). A file reached twice
 * is read once. Problems (missing path, unreadable or oversized file, empty directory) come back as
 * file-level RuleErrors (line 0), never as exceptions.
 */
export async function readRuleSources(paths: readonly string[]): Promise<{ sources: RuleSource[]; errors: RuleError[] }> {
  const sources: RuleSource[] = [];
  const errors: RuleError[] = [];
  const seen = new Set<string>();
  const fileLevel = (file: string) => ({ file, line: 0, col: 0 });

  const readOne = async (file: string): Promise<void> => {
    try {
      const real = await realpath(file);
      if (seen.has(real)) return;
      seen.add(real);
      const info = await stat(real);
      if (info.size > RULE_FILE_LIMITS.maxBytes) {
        errors.push(ruleError('RULE_FILE_TOO_LARGE', fileLevel(file), info.size, RULE_FILE_LIMITS.maxBytes));
        return;
      }
      sources.push({ file, text: await readFile(real, 'utf8') });
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(file), ioReason(err)));
    }
  };

  const walk = async (dir: string, visited: Set<string>): Promise<string[]> => {
    const real = await realpath(dir);
    if (visited.has(real)) return []; // a symlink loop
    visited.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const found: string[] = [];
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory());
      if (isDir) found.push(...(await walk(full, visited)));
      else if (isRuleFileName(entry.name)) found.push(full);
    }
    return found;
  };

  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(path), ioReason(err)));
      continue;
    }
    if (!info.isDirectory()) {
      await readOne(path);
      continue;
    }
    let files: string[];
    try {
      files = await walk(path, new Set());
    } catch (err) {
      errors.push(ruleError('RULE_FILE_UNREADABLE', fileLevel(path), ioReason(err)));
      continue;
    }
    if (files.length === 0) errors.push(ruleError('RULE_NO_FILES', fileLevel(path), path));
    for (const file of files) await readOne(file);
  }
  return { sources, errors };
}

function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `${e.path ?? 'the path'} does not exist`;
  if (e?.code === 'EACCES') return `permission denied for ${e.path ?? 'the path'}`;
  if (e?.code === 'EISDIR') return `${e.path ?? 'the path'} is a directory`;
  return e?.message ?? String(err);
}

/**
 * Loads and compiles a rule set from files and directories. Every error of every file is collected
 * and sorted by file, line and column.
 */
export async function loadRuleSet(paths: readonly string[]): Promise<RuleSetResult> {
  const { sources, errors } = await readRuleSources(paths);
  const result = compileRuleSources(sources);
  if (errors.length === 0) return result;
  return {
    ok: false,
    errors: sortRuleErrors([...errors, ...(result.ok ? [] : result.errors)]),
    warnings: result.warnings,
    files: result.files,
  };
}

/** Pure (no I/O): parses and cross-checks rule sources. Used by hot reload, the CLI and tests. */
export function compileRuleSources(sources: readonly RuleSource[]): RuleSetResult {
  return compileParsedFiles(sources.map((s) => parseRuleSource(s.file, s.text)));
}

// ---------------------------------------------------------------------------------------------
// One file: YAML and schema

/** Parses one rule file: YAML syntax, size and complexity limits, then the zod schema. Pure. */
export function parseRuleSource(file: string, text: string): ParsedRuleFile {
  const empty = (errors: RuleError[], locate: Locator = NO_LOCATOR): ParsedRuleFile => ({
    file,
    errors,
    cpis: [],
    rules: [],
    locate,
  });

  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > RULE_FILE_LIMITS.maxBytes) {
    return empty([ruleError('RULE_FILE_TOO_LARGE', { file, line: 0, col: 0 }, bytes, RULE_FILE_LIMITS.maxBytes)]);
  }

  const lineCounter = new LineCounter();
  const posOf = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return p.line === 0 ? { line: 1, col: offset + 1 } : p;
  };

  // The YAML composer recurses per nesting level: refuse absurdly deep flow collections before it.
  const deepAt = deepFlowOffset(text, RULE_FILE_LIMITS.maxDepth);
  if (deepAt !== undefined) {
    lineCounter.addNewLine(0);
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineCounter.addNewLine(i + 1);
    return empty([
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
  const locate = makeLocator(doc, posOf);

  const yamlProblems = [...doc.errors, ...doc.warnings];
  const duplicates = duplicateKeys(doc);
  if (yamlProblems.length > 0 || duplicates.length > 0) {
    return empty(
      [
        ...yamlProblems.map((e) => ({ at: e.pos[0], message: yamlMessage(e, text) })),
        ...duplicates.map((d) => ({ at: d.at, message: `field ${JSON.stringify(d.key)} appears twice in the same mapping` })),
      ].sort((a, b) => a.at - b.at).map((p) => ruleError('RULE_YAML_SYNTAX', { file, ...posOf(p.at) }, p.message)),
      locate,
    );
  }

  const structural = checkStructure(doc, file, posOf);
  if (structural.length > 0) return empty(structural, locate);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: RULE_FILE_LIMITS.maxAliasCount }) ?? {};
  } catch (err) {
    const message = err instanceof ReferenceError && /alias/i.test(err.message)
      ? `aliases (*name) expand to more than ${RULE_FILE_LIMITS.maxAliasCount} copies`
      : (err as Error).message;
    let at = { line: 1, col: 1 };
    visit(doc, { Alias: (_key, node) => { at = posOf(node.range?.[0] ?? 0); return visit.BREAK; } });
    return empty([ruleError('RULE_FILE_TOO_COMPLEX', { file, ...at }, message)], locate);
  }

  const parsed = RuleFile.safeParse(data);
  // positioning each problem costs a walk of its mapping: 80,000 of them took seconds
  const limited = parsed.success ? { kept: [], dropped: 0 } : limitIssues(parsed.error.issues, RULE_FILE_LIMITS.maxErrors);
  const errors = parsed.success ? [] : issuesToErrors(limited.kept, [], { file, data, locate });
  if (limited.dropped > 0) {
    errors.push(ruleError('RULE_SCHEMA', { file, line: 0, col: 0 }, `${limited.dropped} more problems not shown (only the first ${RULE_FILE_LIMITS.maxErrors} are reported)`));
  }

  return {
    file,
    errors,
    cpis: items(data, 'cpis', parsed.success ? parsed.data.cpis : undefined, CpiDefinition, errors),
    rules: items(data, 'rules', parsed.success ? parsed.data.rules : undefined, RuleDefinition, errors),
    ...policyItem(data, parsed.success ? parsed.data.policy : undefined, errors),
    locate,
  };
}

/**
 * The CPIs or rules of a file, each with its id (when it has one) and its validated document (when
 * the item itself has no error), so cross-checks run on the valid items of a file that has errors,
 * and a rule naming a CPI with an error is not also reported as naming an unknown CPI.
 */
function items<T>(
  data: unknown,
  section: 'cpis' | 'rules',
  parsedAll: T[] | undefined,
  schema: z.ZodType<T>,
  errors: readonly RuleError[],
): ParsedItem<T>[] {
  const raw = isRecord(data) ? data[section] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.map((item, index) => {
    const id = isRecord(item) && typeof item.id === 'string' ? item.id : undefined;
    let doc = parsedAll?.[index];
    if (doc === undefined && !errors.some((e) => isWithinPath(e.path, `${section}[${index}]`))) {
      const one = schema.safeParse(item);
      if (one.success) doc = one.data;
    }
    return { index, raw: item, ...(id === undefined ? {} : { id }), ...(doc === undefined ? {} : { doc }) };
  });
}

function policyItem(data: unknown, parsed: PolicyDoc | undefined, errors: readonly RuleError[]): { policy?: ParsedItem<PolicyDoc> } {
  if (!isRecord(data) || data.policy === undefined) return {};
  let doc = parsed;
  if (doc === undefined && !errors.some((e) => isWithinPath(e.path, 'policy'))) {
    const one = Policy.safeParse(data.policy);
    if (one.success) doc = one.data;
  }
  return { policy: { index: 0, ...(doc === undefined ? {} : { doc }) } };
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

/** Keys must be plain text, and nesting stays below maxDepth. */
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

function checkStructure(doc: Document, file: string, posOf: (offset: number) => { line: number; col: number }): RuleError[] {
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

// ---------------------------------------------------------------------------------------------
// Positions

const NO_LOCATOR: Locator = { value: () => ({ line: 1, col: 1 }), key: () => ({ line: 1, col: 1 }) };

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  return undefined;
}

/**
 * Finds the YAML node of a field path. `value(path)` is where the value starts; `key(path)` is where
 * its key starts (for list items, the item). Missing parts fall back to the nearest existing
 * ancestor, so every path has a position.
 */
function makeLocator(doc: Document, posOf: (offset: number) => { line: number; col: number }): Locator {
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
  };
}

// ---------------------------------------------------------------------------------------------
// zod issues -> RuleErrors

interface IssueContext {
  file: string;
  data: unknown;
  locate: Locator;
}

/** A mapped issue, with what the "missing field" / "did you mean" de-duplication needs. */
interface Draft {
  error: RuleError;
  parent: string;
  missingKey?: string;
  suggestedKey?: string;
}

type Issue = z.core.$ZodIssue;

/** The first `max` problems (an unknown-keys issue counts once per key); how many were left out. */
function limitIssues(issues: readonly Issue[], max: number): { kept: Issue[]; dropped: number } {
  const kept: Issue[] = [];
  let budget = max;
  let dropped = 0;
  for (const issue of issues) {
    const size = issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
    if (budget <= 0) { dropped += size; continue; }
    if (issue.code === 'unrecognized_keys' && size > budget) {
      kept.push({ ...issue, keys: issue.keys.slice(0, budget) });
      dropped += size - budget;
      budget = 0;
      continue;
    }
    kept.push(issue);
    budget -= size;
  }
  return { kept, dropped };
}

function issuesToErrors(issues: readonly Issue[], base: PathSegment[], ctx: IssueContext): RuleError[] {
  const drafts = issues.flatMap((issue) => mapIssue(issue, base, ctx));
  // `tresholds: ...` yields both "unknown field tresholds (did you mean threshold?)" and "missing
  // field threshold": the first says it all.
  const suggested = new Set(drafts.filter((d) => d.suggestedKey).map((d) => `${d.parent}\u0000${d.suggestedKey}`));
  const seen = new Set<string>();
  const out: RuleError[] = [];
  for (const d of drafts) {
    if (d.missingKey !== undefined && suggested.has(`${d.parent}\u0000${d.missingKey}`)) continue;
    const key = `${d.error.line}:${d.error.col}:${d.error.path}:${d.error.code}:${d.error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d.error);
  }
  return out;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data;
  for (const segment of path) {
    if (Array.isArray(v) && typeof segment === 'number') v = v[segment];
    else if (isRecord(v) && Object.prototype.hasOwnProperty.call(v, segment)) v = v[segment];
    else return undefined;
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toPath(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

function mapIssue(issue: Issue, base: PathSegment[], ctx: IssueContext): Draft[] {
  const path = [...base, ...toPath(issue.path)];
  const value = valueAt(ctx.data, path);
  const parentPath = path.slice(0, -1);
  const draft = (message: string, where: 'value' | 'key' = 'value', extra: Partial<Draft> = {}): Draft => ({
    error: ruleError('RULE_SCHEMA', { file: ctx.file, ...ctx.locate[where](path), path }, message),
    parent: formatPath(parentPath),
    ...extra,
  });

  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(key, path, ctx));

    case 'invalid_union':
      return unionIssue(issue, path, ctx);

    case 'invalid_type': {
      if (value === undefined) return [missing(path, typeName(issue.expected), ctx)];
      if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
        // A duration, time or code written without quotes: say which text is expected.
        const schema = schemaAt(path);
        const asText = schema?.safeParse(String(value));
        if (asText && !asText.success) {
          const format = asText.error.issues.find((i) => i.code === 'invalid_format');
          if (format) return [draft(`expected ${format.message}, found ${describeValue(value)}`)];
        }
        return [draft(`expected text, found ${describeValue(value)} (write it in quotes: "${String(value)}")`)];
      }
      return [draft(`expected ${typeName(issue.expected)}, found ${describeValue(value)}`)];
    }

    case 'invalid_value': {
      const allowed = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const suffix = typeof value === 'string' ? suggestionSuffix(value, allowed) : '';
      const expected = allowed.length === 1 ? allowed[0]! : `one of ${allowed.join(', ')}`;
      return [draft(`expected ${expected}, found ${describeValue(value)}${suffix}`)];
    }

    case 'invalid_format': {
      const expected = /^invalid/i.test(issue.message) ? `a valid ${issue.format}` : issue.message;
      return [draft(`expected ${expected}, found ${describeValue(value)}${formatHint(value, issue.message)}`)];
    }

    case 'too_small':
    case 'too_big':
      return [draft(sizeMessage(issue, value))];

    case 'invalid_key': {
      const key = String(path[path.length - 1]);
      const inner = issue.issues[0];
      const expected = inner && !/^invalid/i.test(inner.message) ? inner.message : 'a field name';
      return [draft(`expected ${expected} as the field name, found ${JSON.stringify(key)}`, 'key')];
    }

    case 'not_multiple_of':
      return [draft(`expected a multiple of ${String(issue.divisor)}, found ${describeValue(value)}`)];

    default:
      return [draft(issue.message)];
  }
}

/** A required field that is absent: reported where its parent starts. */
function missing(path: PathSegment[], expected: string, ctx: IssueContext): Draft {
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1];
  const name = typeof last === 'number' ? `item ${last}` : `field "${String(last)}"`;
  return {
    error: ruleError('RULE_SCHEMA', { file: ctx.file, ...ctx.locate.key(parentPath), path }, `missing required ${name} (${expected})`),
    parent: formatPath(parentPath),
    ...(typeof last === 'string' ? { missingKey: last } : {}),
  };
}

function typeName(expected: string): string {
  switch (expected) {
    case 'string': return 'text';
    case 'number': return 'a number';
    case 'int': return 'a whole number';
    case 'boolean': return 'true or false';
    case 'object': return 'a mapping';
    case 'array': return 'a list';
    case 'record': return 'a mapping';
    default: return expected;
  }
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, value: unknown): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string': {
      const n = typeof value === 'string' ? value.length : 0;
      return small
        ? limit <= 1 ? 'expected some text, found empty text' : `expected at least ${limit} characters, found ${n}`
        : `expected at most ${limit} characters, found ${n}`;
    }
    case 'array': {
      const n = Array.isArray(value) ? value.length : 0;
      return small ? `expected at least ${limit} item${limit === 1 ? '' : 's'}, found ${n}` : `expected at most ${limit} items, found ${n}`;
    }
    default: {
      const bound = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `expected ${bound} ${limit}, found ${describeValue(value)}`;
    }
  }
}

const UNIT_WORDS: Record<string, string> = {
  ms: 'ms', millisecond: 'ms', milliseconds: 'ms',
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  d: 'd', day: 'd', days: 'd',
};

/**
 * A likely intended value for text in the wrong form: `15 minutes` -> "15m" for durations,
 * `Curbside_Wait` -> "curbside-wait" for ids, `sorry-10` -> "SORRY-10" for offer codes.
 */
function formatHint(value: unknown, expected: string): string {
  if (typeof value !== 'string') return '';
  let guess: string | undefined;
  if (/duration/.test(expected)) {
    const m = /^\s*(\d+)\s*([a-zA-Z]+)\s*$/.exec(value);
    const unit = m ? UNIT_WORDS[m[2]!.toLowerCase()] : undefined;
    if (m && unit) guess = `${m[1]}${unit}`;
  } else if (/lower-case/.test(expected)) {
    guess = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  } else if (/upper-case/.test(expected)) {
    guess = value.toUpperCase().replace(/[^A-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32);
  }
  return guess && guess !== value && guess.length >= 2 ? ` (did you mean "${guess}"?)` : '';
}

// ----- unknown keys

/** The zod schema at a path of the rule file (through unions, the option that has the next key). */
function schemaAt(path: readonly PathSegment[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = RuleFile;
  for (let i = 0; i < path.length && schema; i++) {
    schema = step(schema, path[i]!);
  }
  return schema;
}

/** The field names allowed in the mapping at a path (every option's, for a union). */
function allowedKeysAt(path: readonly PathSegment[]): string[] {
  const schema = schemaAt(path);
  if (!schema) return [];
  const keys = new Set<string>();
  for (const option of objectOptions(schema)) for (const k of Object.keys(option.shape)) keys.add(k);
  return [...keys];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else return s;
  }
}

function objectOptions(schema: z.ZodType): z.ZodObject[] {
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

function unknownKey(key: string, objectPath: PathSegment[], ctx: IssueContext): Draft {
  const object = (valueAt(ctx.data, objectPath) as Record<string, unknown> | undefined) ?? {};
  const allowed = allowedKeysAt(objectPath).filter((k) => !Object.hasOwn(object, k) || k === key);
  const suggestion = didYouMean(key, allowed);
  const path = [...objectPath, key];
  const suffix = suggestion !== undefined
    ? ` (did you mean "${suggestion}"?)`
    : allowed.length > 0 ? `; expected one of ${allowed.join(', ')}` : '';
  return {
    error: ruleError('RULE_UNKNOWN_FIELD', { file: ctx.file, ...ctx.locate.key(path), path }, JSON.stringify(key), suffix),
    parent: formatPath(objectPath),
    ...(suggestion === undefined ? {} : { suggestedKey: suggestion }),
  };
}

// ----- unions

/** Unions written as "exactly one of these keys": the message names the choice. */
const KEYED_UNIONS: Record<string, { keys: string[]; shared: string[]; what: string }> = {
  measure: { keys: ['duration', 'value', 'ratio'], shared: [], what: 'a CPI measures exactly one of' },
  threshold: { keys: ['above', 'below'], shared: ['clear'], what: 'a threshold is exactly one of' },
  target: { keys: ['enRoute', 'contributors', 'scopeCustomer'], shared: [], what: 'a target is exactly one of' },
};

function keyedUnionAt(path: readonly PathSegment[]) {
  const last = path[path.length - 1];
  const owner = path[path.length - 3];
  if (last === 'measure' && owner === 'cpis') return KEYED_UNIONS.measure;
  if ((last === 'threshold' || last === 'target') && owner === 'rules') return KEYED_UNIONS[last];
  return undefined;
}

function isConditionPath(path: readonly PathSegment[]): boolean {
  const parent = path[path.length - 2];
  return parent === 'filter' || parent === 'where';
}

/** An option that fails on the value's type itself (a string where a mapping is needed). */
function rejectsAtRoot(issues: readonly Issue[]): boolean {
  return issues.some(
    (i) => i.path.length === 0 && (i.code === 'invalid_type' || (i.code === 'invalid_union' && i.errors.every(rejectsAtRoot))),
  );
}

function rootExpected(issues: readonly Issue[]): string[] {
  return issues.flatMap((i) => {
    if (i.path.length !== 0) return [];
    if (i.code === 'invalid_type') return [typeName(i.expected)];
    if (i.code === 'invalid_union') return i.errors.flatMap(rootExpected);
    return [];
  });
}

function unionIssue(issue: z.core.$ZodIssueInvalidUnion, path: PathSegment[], ctx: IssueContext): Draft[] {
  const value = valueAt(ctx.data, path);
  const keyed = keyedUnionAt(path);
  const at = (where: 'value' | 'key', p: PathSegment[], message: string): Draft => ({
    error: ruleError('RULE_SCHEMA', { file: ctx.file, ...ctx.locate[where](p), path: p }, message),
    parent: formatPath(p.slice(0, -1)),
  });
  const name = String(path[path.length - 1]);

  if (value === undefined) {
    const expected = keyed ? `a mapping with one of ${orList(keyed.keys)}` : orList([...new Set(issue.errors.flatMap(rootExpected))]);
    return [missing(path, expected, ctx)];
  }

  if (keyed && isRecord(value)) {
    const present = keyed.keys.filter((k) => k in value);
    if (present.length > 1) {
      return [at('key', [...path, present[1]!], `${keyed.what} ${orList(keyed.keys)}; found ${present.join(' and ')}`)];
    }
    if (present.length === 0) {
      const unknown = Object.keys(value).filter((k) => !keyed.shared.includes(k));
      if (unknown.length === 0) {
        return [at('key', path, `${name} needs one of ${orList(keyed.keys)}, found ${describeValue(value)}${Object.keys(value).length ? ` with only ${Object.keys(value).join(', ')}` : ''}`)];
      }
      return unknown.map((k) => unknownKey(k, path, ctx));
    }
    const chosen = issue.errors.find(
      (errs) => !errs.some((e) => e.path.length === 0 && e.code === 'unrecognized_keys' && e.keys.includes(present[0]!)),
    );
    if (chosen) return chosen.flatMap((e) => mapIssue(e, path, ctx));
  }

  const candidates = issue.errors.filter((errs) => !rejectsAtRoot(errs));
  if (candidates.length === 1) return candidates[0]!.flatMap((e) => mapIssue(e, path, ctx));

  if (keyed) {
    return [at('value', path, `expected a mapping with one of ${orList(keyed.keys)}, found ${describeValue(value)}`)];
  }
  if (isConditionPath(path)) {
    const hint = Array.isArray(value) ? ' (to match any of several values write { in: [...] })' : '';
    return [at('value', path, `expected a value (text, a number, true or false) or a condition such as { in: [gold, platinum] } or { gte: 1000 }, found ${describeValue(value)}${hint}`)];
  }
  const expected = [...new Set(issue.errors.flatMap(rootExpected))];
  if (expected.length > 0) return [at('value', path, `expected ${orList(expected)}, found ${describeValue(value)}`)];
  return [at('value', path, `found ${describeValue(value)}, which matches none of the allowed forms`)];
}

