import { describe, expect, it } from 'vitest';
import type { CompiledRule } from '../../../src/rules/compiled.js';
import { evaluateRule } from '../../../src/rules/evaluate.js';
import type { RuleState } from '../../../src/rules/rule-state.js';
import type { WindowSnapshot } from '../../../src/windows/window-spec.js';

const MIN = 60_000;
/** A v1 rule: one condition, made of its cpi, aggregate, threshold, clear and minSamples. */
const rule = (over: Partial<CompiledRule> = {}): CompiledRule => {
  const r = {
    id: 'r', version: 'v1', aggregate: 'avg', direction: 'above', threshold: 10, clear: 8, forMs: 2 * MIN, minSamples: 2,
    target: { kind: 'scopeCustomer' }, guardrails: { holdoutPercent: 0, killSwitch: false },
    offer: { kind: 'k', code: 'C', title: 't', expiresAfterMs: MIN },
    cpi: { id: 'c', measure: { kind: 'value', event: 'e', field: 'f' }, groupBy: 'g', windowMs: 15 * MIN, resolutionMs: MIN, latenessMs: 0 },
    match: 'all',
    ...over,
  } as Omit<CompiledRule, 'conditions'>;
  return { ...r, conditions: [{ cpi: r.cpi, aggregate: r.aggregate, direction: r.direction, threshold: r.threshold, clear: r.clear, minSamples: r.minSamples }] };
};
const at = (minute: number, avg: number, count = 5): WindowSnapshot => ({ cpi: 'c', at: minute * MIN, count, sum: avg * count, min: avg, max: avg, num: 0, den: 0, bins: {} });

function run(r: CompiledRule, points: WindowSnapshot[]): { transitions: string[]; state: RuleState | undefined } {
  let state: RuleState | undefined;
  const transitions: string[] = [];
  for (const p of points) {
    const ev = evaluateRule(r, p, state);
    if (ev.transition) transitions.push(`${ev.transition}@${p.at / MIN}`);
    state = ev.state;
  }
  return { transitions, state };
}

describe('rule state machine', () => {
  it('fires only after the breach held for `for`, and records the episode and value', () => {
    const { transitions, state } = run(rule(), [at(1, 5), at(2, 11), at(3, 12), at(4, 13)]);
    expect(transitions).toEqual(['pending@2', 'fire@4']);
    expect(state).toMatchObject({ status: 'firing', episode: 4 * MIN, firedValue: 13 });
  });

  it('a breach shorter than `for` goes back to inactive', () => {
    expect(run(rule(), [at(1, 11), at(2, 9), at(3, 11)]).transitions).toEqual(['pending@1', 'abandon@2', 'pending@3']);
  });

  it('hysteresis: a firing rule stays firing between clear and threshold, and clears past clear', () => {
    const r = rule({ forMs: 0 });
    expect(run(r, [at(1, 11), at(2, 9), at(3, 10.5), at(4, 8.5), at(5, 8)]).transitions).toEqual(['fire@1', 'clear@5']);
  });

  it('below-thresholds mirror above', () => {
    const r = rule({ direction: 'below', threshold: 0.7, clear: 0.75, forMs: 0 });
    expect(run(r, [at(1, 0.8), at(2, 0.69), at(3, 0.74), at(4, 0.75)]).transitions).toEqual(['fire@2', 'clear@4']);
  });

  it('too few samples is no breach', () => {
    const r = rule({ forMs: 0, minSamples: 10 });
    expect(run(r, [at(1, 50, 9)]).transitions).toEqual([]);
    expect(run(r, [at(1, 50, 10)]).transitions).toEqual(['fire@1']);
  });

  it('an edited rule keeps its state and takes the new version', () => {
    const first = run(rule({ forMs: 0 }), [at(1, 11)]).state;
    const ev = evaluateRule(rule({ forMs: 0, version: 'v2' }), at(2, 11), first);
    expect(ev.transition).toBeUndefined();
    expect(ev.state).toMatchObject({ status: 'firing', episode: MIN, version: 'v2' });
  });
});
