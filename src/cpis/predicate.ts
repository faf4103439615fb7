/**
 * The `where` / `filter` conditions of the rule language, evaluated on event data or customer facts.
 * Plain comparisons only (no patterns, no code): evaluation is linear in the predicate's size.
 */
import type { Predicate } from '../rules/compiled.js';
import type { ConditionDoc } from '../rules/schema.js';
import { getPath } from './field-path.js';

type Scalar = string | number | boolean;

function same(a: unknown, b: Scalar): boolean {
  if (a === b) return true;
  // facts and event fields may carry numbers as strings ("1200"); compare numerically then
  if (typeof b === 'number' && typeof a === 'string' && a.trim() !== '') return Number(a) === b;
  return false;
}

function numeric(a: unknown): number | undefined {
  if (typeof a === 'number' && Number.isFinite(a)) return a;
  if (typeof a === 'string' && a.trim() !== '' && Number.isFinite(Number(a))) return Number(a);
  return undefined;
}

export function conditionHolds(value: unknown, condition: ConditionDoc): boolean {
  if (typeof condition !== 'object' || condition === null) return same(value, condition);
  const c = condition;
  if (c.exists !== undefined && (value !== undefined && value !== null) !== c.exists) return false;
  if (c.equals !== undefined && !same(value, c.equals)) return false;
  if (c.not !== undefined && same(value, c.not)) return false;
  if (c.in !== undefined && !c.in.some((x) => same(value, x))) return false;
  if (c.notIn !== undefined && c.notIn.some((x) => same(value, x))) return false;
  if (c.gt !== undefined || c.gte !== undefined || c.lt !== undefined || c.lte !== undefined) {
    const n = numeric(value);
    if (n === undefined) return false;
    if (c.gt !== undefined && !(n > c.gt)) return false;
    if (c.gte !== undefined && !(n >= c.gte)) return false;
    if (c.lt !== undefined && !(n < c.lt)) return false;
    if (c.lte !== undefined && !(n <= c.lte)) return false;
  }
  return true;
}

export function predicateHolds(subject: unknown, predicate: Predicate | undefined): boolean {
  if (!predicate) return true;
  for (const [path, condition] of Object.entries(predicate)) {
    if (!conditionHolds(getPath(subject, path), condition)) return false;
  }
  return true;
}
