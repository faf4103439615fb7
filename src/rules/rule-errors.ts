/**
 * Positioned errors in rule files: where (file, line, column, field path), which code (CPW3xx), and
 * what was expected against what was found. Formatted one per line, compiler style:
 *
 *   rules/curbside.yaml:14:7: CPW302 unknown field "tresholds" (did you mean "threshold"?) (at rules[0])
 */
import { ErrorCodes, type ErrorCode, type ErrorName } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';

export type PathSegment = string | number;
export type Severity = 'error' | 'warning';

export interface RuleError {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file (unreadable, too large). */
  line: number;
  /** 1-based; 0 together with line 0. */
  col: number;
  /** Field path such as `rules[0].guardrails.budget.max`; empty for problems of the whole file. */
  path: string;
  code: ErrorCode;
  message: string;
  /** Warnings (e.g. a kill switch that is on) never make a rule set invalid. Absent means error. */
  severity?: Severity;
}

/** Builds a rule error from a registry entry: the message is the entry's template filled with args. */
export function ruleError(
  name: ErrorName,
  at: { file: string; line: number; col: number; path?: readonly PathSegment[] | string },
  ...args: unknown[]
): RuleError {
  return {
    file: at.file,
    line: at.line,
    col: at.col,
    path: typeof at.path === 'string' ? at.path : formatPath(at.path ?? []),
    code: ErrorCodes[name].code,
    message: messageOf(name, ...args.map(clip)),
  };
}

const MAX_ARG_CHARS = 400;

/** A hostile file's 200 kB value is not echoed back whole (logs, terminals): its head and its length are. */
function clip(arg: unknown): unknown {
  if (typeof arg !== 'string' || arg.length <= MAX_ARG_CHARS) return arg;
  return `${arg.slice(0, 80)}... (${arg.length} characters)`;
}

export function asWarning(error: RuleError): RuleError {
  return { ...error, severity: 'warning' };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** ['rules', 0, 'guardrails', 'budget', 'max'] -> `rules[0].guardrails.budget.max`; odd keys quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Whether a formatted path is `prefix` itself or lies inside it (`rules[1].id` is in `rules[1]`, not in `rules[10]`). */
export function isWithinPath(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charAt(prefix.length);
  return next === '' || next === '.' || next === '[';
}

/** `file:line:col` (or just `file` for whole-file problems). */
export function formatLocation(e: { file: string; line: number; col: number }): string {
  return e.line > 0 ? `${e.file}:${e.line}:${e.col}` : e.file;
}

/** One line: `file:line:col: CODE message (at path)`, with `warning: ` before the code for warnings. */
export function formatRuleError(e: RuleError): string {
  const where = e.path === '' ? '' : ` (at ${e.path})`;
  const severity = e.severity === 'warning' ? 'warning: ' : '';
  return `${formatLocation(e)}: ${severity}${e.code} ${e.message}${where}`;
}

/** Sorts by file, line, column; ties keep their order (Array.prototype.sort is stable). */
export function sortRuleErrors(errors: readonly RuleError[]): RuleError[] {
  return [...errors].sort((a, b) => {
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
    return a.line - b.line || a.col - b.col;
  });
}

/** How a found value reads in a message: `"15 minutes"`, `150`, `a list`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return value.length > 40 ? `${JSON.stringify(shown)} (${value.length} characters)` : JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return typeof value;
}

/** "a, b or c" */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** "a, b and c" */
export function andList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
