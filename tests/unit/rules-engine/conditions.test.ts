// The conditions of a rule at one close: several CPIs matched with all / any (one state machine),
// and trends: the aggregate against its recorded value a period earlier or a rolling baseline.
import { describe, expect, it } from 'vitest';
import type { CompiledCompare, CompiledCondition, CompiledCpi, CompiledRule } from '../../../src/rules/compiled.js';
import type { RuleInputs } from '../../../src/rules/conditions.js';
import { evaluateRule } from '../../../src/rules/evaluate.js';
import type { RuleState } from '../../../src/rules/rule-state.js';
import { ValueHistory } from '../../../src/windows/value-history.js';
import type { WindowSnapshot } from '../../../src/windows/window-spec.js';

const MIN = 60_000;
const cpi = (id: string): CompiledCpi => ({ id, measure: { kind: 'value', event: 'e', field: 'f' }, groupBy: 'storeId', windowMs: 10 * MIN, resolutionMs: MIN, latenessMs: 0 });
const cond = (id: string, over: Partial<CompiledCondition> = {}): CompiledCondition => ({ cpi: cpi(id), aggregate: 'avg', direction: 'above', threshold: 10, clear: 8, minSamples: 1, ...over });
function rule(match: 'all' | 'any', conditions: CompiledCondition[]): CompiledRule {
  const first = conditions[0]!;
  return {
    id: 'r', version: 'v1', cpi: first.cpi, aggregate: first.aggregate, direction: first.direction, threshold: first.threshold, clear: first.clear,
    minSamples: first.minSamples, forMs: 0, match, conditions, target: { kind: 'enRoute', withinMs: MIN },
    guardrails: { holdoutPercent: 0, killSwitch: false }, offer: { kind: 'k', code: 'C', title: 't', expiresAfterMs: MIN },
  };
}
const snap = (id: string, at: number, avg: number | null, count = 5): WindowSnapshot =>
  avg === null ? { cpi: id, at, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {} } : { cpi: id, at, count, sum: avg * count, min: avg, max: avg, num: 0, den: 0, bins: {} };

/** Inputs at minute `m`: each CPI's avg, and the recorded values of "a:avg". */
function inputs(m: number, avgs: Record<string, number | null>, history?: ValueHistory, count = 5): RuleInputs {
  return { at: m * MIN, snapshot: (id) => snap(id, m * MIN, avgs[id] ?? null, count), history: (id, agg) => (id === 'a' && agg === 'avg' ? history : undefined) };
}

function run(r: CompiledRule, steps: RuleInputs[]): string[] {
  let state: RuleState | undefined;
  const out: string[] = [];
  for (const s of steps) {
    const ev = evaluateRule(r, s, state);
    if (ev.transition) out.push(`${ev.transition}@${s.at / MIN}`);
    state = ev.state;
  }
  return out;
}

describe('conditions over several CPIs', () => {
  it('all: breaches while every condition does, clears once one is back past its clear line', () => {
    const r = rule('all', [cond('a'), cond('b', { threshold: 3, clear: 1 })]);
    expect(run(r, [
      inputs(1, { a: 12, b: 2 }), // b not breaching
      inputs(2, { a: 12, b: 4 }), // both: fire
      inputs(3, { a: 9, b: 2 }), // both between clear and threshold: still firing
      inputs(4, { a: 9, b: 1 }), // b back at its clear line: clear
    ])).toEqual(['fire@2', 'clear@4']);
  });

  it('any: breaches while one condition does, clears once all are back', () => {
    const r = rule('any', [cond('a'), cond('b', { threshold: 3, clear: 1 })]);
    expect(run(r, [
      inputs(1, { a: 5, b: 2 }),
      inputs(2, { a: 5, b: 4 }), // b: fire
      inputs(3, { a: 7, b: 2 }), // a cleared, b not yet: firing
      inputs(4, { a: 7, b: 1 }), // all back: clear
    ])).toEqual(['fire@2', 'clear@4']);
  });

  it('reports each condition, and the value of the first breaching one', () => {
    const r = rule('any', [cond('a'), cond('b', { threshold: 3, clear: 1, minSamples: 10 })]);
    const ev = evaluateRule(r, inputs(1, { a: 12, b: 4 }), undefined);
    expect(ev.conditions.map((c) => [c.cpi, c.value, c.samples, c.breaching, c.noValue])).toEqual([['a', 12, 5, true, undefined], ['b', null, 5, false, 'too-few-samples']]);
    expect(ev.value).toBe(12);
  });
});

describe('trends', () => {
  const compare = (to: CompiledCompare['to'], over: Partial<CompiledCompare> = {}): CompiledCompare => ({ to, as: 'ratio', minSamples: 3, ...over });
  const yesterday = compare({ kind: 'offset', offsetMs: 24 * 60 * MIN, name: 'sameTimeYesterday' });
  const DAY = 24 * 60;

  it('a ratio against the value recorded a period earlier', () => {
    const h = new ValueHistory();
    h.record(0, 10, 5);
    const r = rule('all', [cond('a', { threshold: 1.3, clear: 1.1, compare: yesterday })]);
    const ev = evaluateRule(r, inputs(DAY, { a: 14 }, h), undefined);
    expect(ev.conditions[0]).toMatchObject({ current: 14, earlier: 10, value: 1.4, breaching: true });
    expect(ev.transition).toBe('fire');
    expect(evaluateRule(r, inputs(DAY, { a: 12 }, h), undefined).conditions[0]).toMatchObject({ value: 1.2, breaching: false });
  });

  it('no value then, too few samples then, or a ratio against 0: no breach, and why', () => {
    const r = rule('all', [cond('a', { threshold: 1.3, clear: 1.1, compare: yesterday })]);
    const h = new ValueHistory();
    expect(evaluateRule(r, inputs(DAY, { a: 50 }, h), undefined).conditions[0]).toMatchObject({ value: null, noValue: 'no-earlier-value', breaching: false });
    h.record(0, 10, 2); // fewer than compare.minSamples 3
    expect(evaluateRule(r, inputs(DAY, { a: 50 }, h), undefined).conditions[0]).toMatchObject({ value: null, earlier: null, noValue: 'earlier-too-few-samples' });
    h.record(0, 0, 5);
    expect(evaluateRule(r, inputs(DAY, { a: 50 }, h), undefined).conditions[0]).toMatchObject({ value: null, earlier: 0, noValue: 'earlier-zero' });
    // the current side's minSamples too
    h.record(0, 10, 5);
    const few = rule('all', [cond('a', { threshold: 1.3, clear: 1.1, minSamples: 6, compare: yesterday })]);
    expect(evaluateRule(few, inputs(DAY, { a: 50 }, h), undefined).conditions[0]).toMatchObject({ value: null, noValue: 'too-few-samples' });
  });

  it('a difference, and a firing trend clears once the ratio is back at its clear line', () => {
    const h = new ValueHistory();
    for (let m = 0; m < 4; m++) h.record(m * MIN, 10, 5);
    const diff = rule('all', [cond('a', { threshold: 3, clear: 1, compare: compare({ kind: 'offset', offsetMs: 2 * MIN, name: 'offset 2m' }, { as: 'difference' }) })]);
    expect(run(diff, [inputs(2, { a: 14 }, h), inputs(3, { a: 12 }, h), inputs(4, { a: 11 }, h)])).toEqual(['fire@2', 'clear@4']);
  });

  it('a rolling baseline: the avg or median of the values recorded over the period before now', () => {
    const h = new ValueHistory();
    [10, 10, 10, 40, 5].forEach((v, m) => h.record((m + 1) * MIN, v, 5));
    h.record(6 * MIN, 1000, 1); // too few samples: not in the baseline
    h.record(7 * MIN, 999, 5); // the current close: not in its own baseline
    const of = (k: 'avg' | 'median', periodMin: number) => rule('all', [cond('a', { threshold: 1.5, clear: 1, compare: compare({ kind: 'baseline', periodMs: periodMin * MIN, of: k, name: '' }) })]);
    expect(evaluateRule(of('avg', 7), inputs(7, { a: 15 }, h), undefined).conditions[0]).toMatchObject({ earlier: 15, value: 1 });
    expect(evaluateRule(of('median', 7), inputs(7, { a: 15 }, h), undefined).conditions[0]).toMatchObject({ earlier: 10, value: 1.5 });
    // the period reaches back 3 closes: minutes 4, 5, 6 (6 has too few samples)
    expect(evaluateRule(of('median', 3), inputs(7, { a: 45 }, h), undefined).conditions[0]).toMatchObject({ earlier: 22.5, value: 2 });
  });
});

describe('recorded values (windows/value-history.ts)', () => {
  it('keeps a value per close in hourly chunks, persisted and restored per chunk, pruned by chunk', () => {
    const h = new ValueHistory();
    h.record(59 * MIN, 1, 1);
    h.record(60 * MIN, 2, 2);
    h.record(61 * MIN, 3, 3);
    const dirty = h.takeDirty();
    expect([...dirty.keys()]).toEqual([0, 1]);
    const back = new ValueHistory();
    for (const [c, v] of dirty) back.load(c, v!);
    expect(back.points(0, 120 * MIN)).toEqual([{ at: 59 * MIN, value: 1, samples: 1 }, { at: 60 * MIN, value: 2, samples: 2 }, { at: 61 * MIN, value: 3, samples: 3 }]);
    expect(back.point(60 * MIN)).toEqual({ at: 60 * MIN, value: 2, samples: 2 });
    h.record(61 * MIN, 3, 3); // the same again: nothing to write
    expect(h.takeDirty().size).toBe(0);
    h.pruneBefore(60 * MIN + 1);
    expect(h.points(0, 120 * MIN).map((p) => p.value)).toEqual([2, 3]);
    expect(h.takeDirty()).toEqual(new Map([[0, null]]));
  });

  it('keeps closes in time order within a chunk whatever order they are recorded in, and reads a range of them', () => {
    const h = new ValueHistory();
    for (const m of [5, 1, 3, 2, 4]) h.record(m * MIN, m, m);
    h.record(3 * MIN, 30, 3);
    const seen: number[] = [];
    h.each(2 * MIN, 5 * MIN, (at, value) => seen.push(at / MIN, value));
    expect(seen).toEqual([2, 2, 3, 30, 4, 4]);
    expect(h.points(0, 10 * MIN).map((p) => p.at / MIN)).toEqual([1, 2, 3, 4, 5]);
    expect(h.point(90_000)).toBeUndefined();
  });
});
