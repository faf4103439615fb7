import { describe, expect, it } from 'vitest';
import { aggregateOf, samplesOf } from '../../../src/windows/aggregate.js';
import type { WindowSnapshot } from '../../../src/windows/window-spec.js';


describe('aggregates', () => {
  const snap = (over: Partial<WindowSnapshot>): WindowSnapshot => ({ cpi: 'c', at: 0, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {}, ...over });

  it('count, sum, avg, min, max read the merged buckets', () => {
    const s = snap({ count: 4, sum: 10, min: 1, max: 4 });
    expect([aggregateOf(s, 'count'), aggregateOf(s, 'sum'), aggregateOf(s, 'avg'), aggregateOf(s, 'min'), aggregateOf(s, 'max')]).toEqual([4, 10, 2.5, 1, 4]);
    expect(samplesOf(s, 'avg')).toBe(4);
  });

  it('a ratio is numerator over denominator, and null without a denominator', () => {
    expect(aggregateOf(snap({ num: 1, den: 3 }), 'ratio')).toBeCloseTo(0.333333333333, 10);
    expect(aggregateOf(snap({ num: 0, den: 0 }), 'ratio')).toBeNull();
    expect(samplesOf(snap({ num: 1, den: 3 }), 'ratio')).toBe(3);
    expect(aggregateOf(snap({ num: 1, den: 3 }), 'count')).toBe(3);
  });

  it('an empty window has no value', () => {
    for (const a of ['avg', 'sum', 'p90', 'min'] as const) expect(aggregateOf(snap({}), a)).toBeNull();
  });
});
