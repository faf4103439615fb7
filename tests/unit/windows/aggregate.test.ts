import { describe, expect, it } from 'vitest';
import { aggregateOf, samplesOf } from '../../../src/windows/aggregate.js';
import { bucketOf, isLate, windowBuckets } from '../../../src/windows/buckets.js';
import type { CpiWindowSpec, WindowSnapshot } from '../../../src/store/state-store.js';

const MIN = 60_000;
const spec: CpiWindowSpec = { cpi: 'c', resolutionMs: MIN, buckets: 15, latenessMs: 2 * MIN, ttlMs: 18 * MIN };

describe('window buckets', () => {
  it('a bucket holds [start, start + resolution)', () => {
    expect(bucketOf(0, MIN)).toBe(0);
    expect(bucketOf(MIN - 1, MIN)).toBe(0);
    expect(bucketOf(MIN, MIN)).toBe(1);
  });

  it('the window is the last n buckets up to and including now', () => {
    expect(windowBuckets(15 * MIN, MIN, 15)).toEqual({ first: 1, last: 15 });
    expect(windowBuckets(15 * MIN - 1, MIN, 15)).toEqual({ first: 0, last: 14 });
  });

  it('late means older than the watermark minus the lateness, or out of the window', () => {
    const wm = 30 * MIN;
    expect(isLate(wm - 2 * MIN, wm, spec)).toBe(false);
    expect(isLate(wm - 2 * MIN - 1, wm, spec)).toBe(true);
    expect(isLate(0, null, spec)).toBe(false);
    const wide = { ...spec, latenessMs: 60 * MIN };
    expect(isLate(wm - 14 * MIN, wm, wide)).toBe(false);
    expect(isLate(wm - 15 * MIN - 1, wm, wide)).toBe(true);
  });
});

describe('aggregates', () => {
  const snap = (over: Partial<WindowSnapshot>): WindowSnapshot => ({ cpi: 'c', watermark: 0, at: 0, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {}, ...over });

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
