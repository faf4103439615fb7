/**
 * zod issues -> positioned RuleErrors: what was expected against what was found, "did you mean" for
 * misspelt fields and values, one message for a union ("exactly one of above, below"), at the line
 * and column of the value or key. Shared by rule files and rule unit test files; the unions and
 * conditions named below are those of the rule file schema (other schemas get the generic forms).
 */
import { z } from 'zod';
import { isRecord, valueAt } from '../shared/plain-data.js';
import { didYouMean, suggestionSuffix } from './did-you-mean.js';
import { RULE_FILE_LIMITS, type ParsedYaml } from './parse-yaml.js';
import { describeValue, formatPath, orList, ruleError, type PathSegment, type RuleError } from './rule-errors.js';
import { durationHint, numberHint, timeOfDayHint } from './value-hints.js';
import type { Locator } from './yaml-positions.js';
import { allowedKeysAt, schemaAt } from './zod-walk.js';

/**
 * Validates the data of a YAML file against a schema; every issue becomes a positioned RuleError
 * (the first RULE_FILE_LIMITS.maxErrors of them, and one error counting the rest).
 */
export function validateYaml<T extends z.ZodType>(
  source: Pick<ParsedYaml, 'file' | 'data' | 'locate'>,
  schema: T,
): { ok: true; value: z.output<T> } | { ok: false; errors: RuleError[] } {
  const parsed = schema.safeParse(source.data ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  // positioning each problem costs a walk of its mapping: 80,000 of them took seconds
  const limited = limitIssues(parsed.error.issues, RULE_FILE_LIMITS.maxErrors);
  const errors = issuesToErrors(limited.kept, [], { file: source.file, data: source.data, locate: source.locate, schema });
  if (limited.dropped > 0) {
    errors.push(ruleError('RULE_SCHEMA', { file: source.file, line: 0, col: 0 }, `${limited.dropped} more problems not shown (only the first ${RULE_FILE_LIMITS.maxErrors} are reported)`));
  }
  return { ok: false, errors };
}

interface IssueContext {
  file: string;
  data: unknown;
  locate: Locator;
  /** The schema the data is checked against, for the fields allowed at a path. */
  schema: z.ZodType;
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
        const schema = schemaAt(ctx.schema, path);
        const asText = schema?.safeParse(String(value));
        if (asText && !asText.success) {
          const format = asText.error.issues.find((i) => i.code === 'invalid_format');
          if (format) return [draft(`expected ${format.message}, found ${describeValue(value)}${formatHint(value, format.message)}`)];
        }
        return [draft(`expected text, found ${describeValue(value)} (write it in quotes: "${String(value)}")`)];
      }
      const hint = issue.expected === 'number' ? numberHint(value, typeof path.at(-1) === 'string' ? String(path.at(-1)) : undefined) : '';
      return [draft(`expected ${typeName(issue.expected)}, found ${describeValue(value)}${hint}`)];
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

    case 'custom':
      // refinements name what they expect: "an RFC 3339 time such as ..."
      return [draft(`expected ${issue.message}, found ${describeValue(value)}`)];

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

/**
 * A likely intended value for a value in the wrong form: `15 minutes` -> "15m" and `7h30` ->
 * "7h30m" for durations (a bare number gets the units named instead), `8:00` -> "08:00" for times
 * of day (value-hints.ts), `Curbside_Wait` -> "curbside-wait" for ids, `sorry-10` -> "SORRY-10" for
 * offer codes.
 */
function formatHint(value: unknown, expected: string): string {
  if (/duration/.test(expected)) return durationHint(value);
  if (/time of day/.test(expected)) return timeOfDayHint(value);
  if (typeof value !== 'string') return '';
  let guess: string | undefined;
  if (/lower-case/.test(expected)) {
    guess = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  } else if (/upper-case/.test(expected)) {
    guess = value.toUpperCase().replace(/[^A-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32);
  }
  return guess && guess !== value && guess.length >= 2 ? ` (did you mean "${guess}"?)` : '';
}

// ----- unknown keys

function unknownKey(key: string, objectPath: PathSegment[], ctx: IssueContext): Draft {
  const object = (valueAt(ctx.data, objectPath) as Record<string, unknown> | undefined) ?? {};
  const allowed = allowedKeysAt(ctx.schema, objectPath).filter((k) => !Object.hasOwn(object, k) || k === key);
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
