/**
 * Turns zod issues into short, precise messages: `data.promisedWaitSeconds: expected number, got string`.
 * Only runs on the failure path. The offending value is looked up in the input by the issue path,
 * so it works without zod's `reportInput`. Long strings are cut short: reasons end up in logs and
 * dead letters, so they should name the problem, not copy the payload.
 */
import type { z } from 'zod';
import { valueAt } from '../shared/plain-data.js';
import { pathToString } from './json-guard.js';

type Issue = z.core.$ZodIssue;

const MAX_ISSUES = 10;
const MAX_ECHO = 40;

/** Kind of a JSON value as a reader would name it. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number out of range';
  return typeof value;
}

/** A short literal rendering of a value for messages. */
export function echo(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}...` : value);
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'a number out of range';
  if (value === null || typeof value === 'boolean') return String(value);
  return kindOf(value);
}

const echoed = (value: unknown): string => echo(value);
/** Values of personal-data fields (pii: true) are never echoed. */
const hidden = (): string => 'a value not shown (personal data)';

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
}

const EXPECTED_NAMES: Record<string, string> = { int: 'integer', nonoptional: 'a value' };

function describeIssue(issue: Issue, value: unknown, present: boolean, hide: boolean): string {
  const echo = hide ? hidden : echoed;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED_NAMES[issue.expected] ?? issue.expected;
      if (!present) return `missing (expected ${expected})`;
      if (issue.expected === 'int' && typeof value === 'number' && Number.isFinite(value)) {
        return `expected integer, got ${value}`;
      }
      return `expected ${expected}, got ${kindOf(value)}`;
    }
    case 'too_small': {
      if (issue.origin === 'string' && typeof value === 'string') {
        if (issue.minimum === 1 && value.length === 0) return 'expected a non-empty string, got ""';
        return `expected at least ${plural(issue.minimum, 'character')}, got ${value.length}`;
      }
      if (issue.origin === 'array' && Array.isArray(value)) {
        return `expected at least ${plural(issue.minimum, 'item')}, got ${value.length}`;
      }
      return `expected ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, got ${echo(value)}`;
    }
    case 'too_big': {
      if (issue.origin === 'string' && typeof value === 'string') {
        return `expected at most ${plural(issue.maximum, 'character')}, got ${value.length}`;
      }
      if (issue.origin === 'array' && Array.isArray(value)) {
        return `expected at most ${plural(issue.maximum, 'item')}, got ${value.length}`;
      }
      return `expected ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, got ${echo(value)}`;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
      const expected = options.length === 1 ? options[0] : `one of ${options.join(' | ')}`;
      return present ? `expected ${expected}, got ${echo(value)}` : `missing (expected ${expected})`;
    }
    case 'invalid_format':
      if (issue.format === 'email') return 'expected an e-mail address';
      if (issue.format === 'regex' && issue.pattern) return `does not match the pattern ${issue.pattern}`;
      return `expected the ${issue.format} format`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, got ${echo(value)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * `z.number().nonnegative().positive()` reports both bounds for -1; keep only the strictest lower
 * (and upper) numeric bound per path, so the message states the real requirement once.
 */
function dropWeakerBounds(issues: readonly Issue[]): readonly Issue[] {
  if (issues.length < 2) return issues;
  const strictest = new Map<string, Issue>();
  const boundKey = (i: Issue): string | undefined =>
    (i.code === 'too_small' || i.code === 'too_big') && typeof (i.code === 'too_small' ? i.minimum : i.maximum) === 'number' &&
    i.origin !== 'string' && i.origin !== 'array'
      ? `${i.code}:${i.path.map(String).join('\u0000')}`
      : undefined;
  /** True if bound issue a is stricter than b (same code and path). */
  const stricter = (a: Issue, b: Issue): boolean => {
    if (a.code === 'too_small' && b.code === 'too_small') {
      const [x, y] = [Number(a.minimum), Number(b.minimum)];
      return x > y || (x === y && !a.inclusive && b.inclusive === true);
    }
    if (a.code === 'too_big' && b.code === 'too_big') {
      const [x, y] = [Number(a.maximum), Number(b.maximum)];
      return x < y || (x === y && !a.inclusive && b.inclusive === true);
    }
    return false;
  };
  for (const i of issues) {
    const key = boundKey(i);
    if (key === undefined) continue;
    const prev = strictest.get(key);
    if (prev === undefined || stricter(i, prev)) strictest.set(key, i);
  }
  if (strictest.size === 0) return issues;
  return issues.filter((i) => {
    const key = boundKey(i);
    return key === undefined || strictest.get(key) === i;
  });
}

/**
 * Formats all issues, one `path: problem` each, joined by "; ". `root` is the validated input,
 * `base` the path prefix (e.g. "data"); the values of the `personal` top-level fields are not echoed.
 */
export function formatZodIssues(all: readonly Issue[], root: unknown, base: string, personal?: ReadonlySet<string>): string {
  const issues = dropWeakerBounds(all);
  const parts: string[] = [];
  for (const issue of issues.slice(0, MAX_ISSUES)) {
    const value = valueAt(root, issue.path);
    const present = value !== undefined;
    parts.push(`${pathToString(base, issue.path)}: ${describeIssue(issue, value, present, personal !== undefined && personal.has(String(issue.path[0])))}`);
  }
  if (issues.length > MAX_ISSUES) parts.push(`and ${issues.length - MAX_ISSUES} more`);
  return parts.join('; ');
}
