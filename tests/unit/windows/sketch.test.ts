import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binOf, quantile, RELATIVE_ACCURACY, valueOfBin } from '../../../src/windows/sketch.js';

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function binsOf(values: number[]): Record<string, number> {
  const bins: Record<string, number> = {};
  for (const v of values) bins[binOf(v)] = (bins[binOf(v)] ?? 0) + 1;
  return bins;
}

describe('quantile sketch', () => {
  it('every value is within the stated relative error of its bin', () => {
    fc.assert(fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (v) => {
      const back = valueOfBin(binOf(v));
      if (Math.abs(v) < 1e-9) return back === 0;
      return Math.abs(back - v) <= RELATIVE_ACCURACY * Math.abs(v) * (1 + 1e-12);
    }), { numRuns: 5000 });
  });

  it('p50, p90 and p99 are within 1% of the exact quantile on random data', () => {
    fc.assert(fc.property(
      fc.array(fc.double({ min: 0.001, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 2000 }),
      fc.constantFrom(0.5, 0.9, 0.95, 0.99),
      (values, q) => {
        const exact = exactQuantile(values, q);
        const approx = quantile(binsOf(values), q)!;
        return Math.abs(approx - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-12);
      },
    ), { numRuns: 300 });
  });

  it('handles zeros and negative values, and an empty sketch', () => {
    expect(quantile({}, 0.9)).toBeNull();
    const values = [-5, -1, 0, 0, 2, 3, 10];
    for (const q of [0, 0.5, 1]) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(quantile(binsOf(values), q)! - exact)).toBeLessThanOrEqual(Math.abs(exact) * RELATIVE_ACCURACY + 1e-12);
    }
  });
});
