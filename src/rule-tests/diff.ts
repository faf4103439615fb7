/**
 * Expected against actual decisions, as a diff a marketer can read:
 *
 *       curbside-flash-drink  customer c1  storeId=S1  value 1.62  at +22m
 *     - curbside-flash-drink  customer c9                                    (expected, not taken)
 *     + curbside-flash-drink  customer c7  storeId=S1  value 1.62  at +22m   (taken, not expected)
 *
 * An expectation matches a decision of the same rule and customer whose scope, value and time match
 * where the expectation gives them. Each decision matches at most one expectation.
 */
import type { Decision } from '../actions/decision.js';
import { parseTag } from '../cpis/tags.js';
import { fmt, relTime } from './format.js';
import { valueMatches, type Expectation, type ValueMatch } from './test-file.js';

export interface DiffLine {
  kind: 'same' | 'missing' | 'unexpected';
  text: string;
}

function scopeOf(d: Decision): string {
  const { dimension, value } = parseTag(d.scopeTag);
  return `${dimension}=${value}`;
}

function matches(x: Expectation, d: Decision): boolean {
  return x.rule === d.rule.id && x.customer === d.customerId
    && (x.scope === undefined || x.scope === scopeOf(d))
    && (x.value === undefined || valueMatches(d.value, x.value))
    && (x.time === undefined || x.time === d.time)
    && (x.title === undefined || x.title === offerTitle(d))
    && (x.reason === undefined || x.reason === d.reason);
}

/** The title the offer is published with: rendered from the rule's offer.template, or as written. */
function offerTitle(d: Decision): string {
  return d.texts?.title ?? d.rule.offer.title;
}

function valueText(v: ValueMatch): string {
  if (typeof v === 'number') return fmt(v);
  return Object.entries(v).map(([op, n]) => `${({ gt: '>', gte: '>=', lt: '<', lte: '<=' } as Record<string, string>)[op]}${fmt(n as number)}`).join(' ');
}

function expectationText(x: Expectation, start: number): string {
  return [
    x.rule, `customer ${x.customer}`,
    ...(x.reason ? [`reason ${x.reason}`] : []),
    ...(x.scope ? [x.scope] : []),
    ...(x.value !== undefined ? [`value ${valueText(x.value)}`] : []),
    ...(x.time !== undefined ? [`at ${relTime(x.time, start)}`] : []),
    ...(x.title !== undefined ? [`title ${JSON.stringify(x.title)}`] : []),
  ].join('  ');
}

export function decisionText(d: Decision, start: number): string {
  return [
    d.rule.id, `customer ${d.customerId}`,
    ...(d.reason ? [`reason ${d.reason}`] : []),
    scopeOf(d), `value ${fmt(d.value)}`, `at ${relTime(d.time, start)}`,
    // a rendered title (the rule's offer.template) is shown: it is what the test can check
    ...(d.outcome === 'offered' && d.texts ? [`title ${JSON.stringify(d.texts.title)}`] : []),
  ].join('  ');
}

/** Pairs expectations with decisions; the most specific expectations are matched first. */
export function diffDecisions(expected: readonly Expectation[], actual: readonly Decision[], start: number): DiffLine[] {
  const specificity = (x: Expectation) => (x.scope ? 1 : 0) + (x.value !== undefined ? 1 : 0) + (x.time !== undefined ? 1 : 0) + (x.title !== undefined ? 1 : 0);
  const order = expected.map((x, i) => i).sort((a, b) => specificity(expected[b]!) - specificity(expected[a]!));
  const used = new Set<number>();
  const pairedWith = new Map<number, number>();
  for (const i of order) {
    const j = actual.findIndex((d, k) => !used.has(k) && matches(expected[i]!, d));
    if (j >= 0) { used.add(j); pairedWith.set(i, j); }
  }
  const lines: DiffLine[] = expected.map((x, i) => pairedWith.has(i)
    ? { kind: 'same', text: decisionText(actual[pairedWith.get(i)!]!, start) }
    : { kind: 'missing', text: expectationText(x, start) });
  actual.forEach((d, k) => { if (!used.has(k)) lines.push({ kind: 'unexpected', text: decisionText(d, start) }); });
  return lines;
}

export function formatDiff(lines: readonly DiffLine[]): string[] {
  return lines.map((l) => `${l.kind === 'same' ? ' ' : l.kind === 'missing' ? '-' : '+'} ${l.text}`);
}
