// The statistics of cpiwatch lift against published values:
// - Wilson intervals: Newcombe (1998a), "Two-sided confidence intervals for the single proportion:
//   comparison of seven methods", Statistics in Medicine 17:857-872, Table I, method 3.
// - Newcombe's hybrid score interval for p1 - p2: Newcombe (1998b), "Interval estimation for the
//   difference between independent proportions", Statistics in Medicine 17:873-890, Table II, method 10.
// - Sample sizes: Fleiss, Levin, Paik (2003), without continuity correction; 0.10 vs 0.15 needs 686
//   per group and 0.10 vs 0.30 needs 62 (two-sided alpha 0.05, power 0.80), the usual table values.
import { describe, expect, it } from 'vitest';
import { compare, newcombeDifference, numberNeededToTreat, numberNeededToTreatInterval, proportion, relativeLift, sampleSizePerArm, wilson } from '../../../src/lift/statistics.js';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

describe('Wilson score interval', () => {
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i: %f to %f (Newcombe 1998a, Table I)', (x, n, low, high) => {
    const i = wilson(x, n);
    expect([round4(i.low), round4(i.high)]).toEqual([low, high]);
  });

  it('is [0, 1] without customers, and exactly 1 at the top when every customer converted', () => {
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
    expect(wilson(10, 10).high).toBe(1);
  });
});

describe('Newcombe hybrid score interval for a difference (method 10)', () => {
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%i/%i - %i/%i: %f to %f (Newcombe 1998b, Table II)', (x1, n1, x2, n2, low, high) => {
    const i = newcombeDifference(proportion(x1, n1), proportion(x2, n2));
    expect([round4(i.low), round4(i.high)]).toEqual([low, high]);
  });
});

describe('customers needed per arm (80% power, two-sided alpha 0.05)', () => {
  it('equal arms: 686 for 15% vs 10%, 62 for 30% vs 10% (Fleiss, no continuity correction)', () => {
    expect(sampleSizePerArm(0.15, 0.1)).toEqual({ n1: 686, n2: 686 });
    expect(sampleSizePerArm(0.3, 0.1)).toEqual({ n1: 62, n2: 62 });
  });

  it('twice as many treated as held out: 49 held out and 98 offered for 30% vs 10%', () => {
    // by hand: pbar = (2*0.3 + 0.1)/3 = 0.2333; 1.96*sqrt(0.2333*0.7667*1.5) = 1.0153;
    // 0.8416*sqrt(0.21/2 + 0.09) = 0.3717; (1.3869)^2 / 0.04 = 48.09 -> 49, and 2 * 49 = 98
    expect(sampleSizePerArm(0.3, 0.1, 2)).toEqual({ n1: 98, n2: 49 });
  });

  it('none when there is no difference to detect', () => {
    expect(sampleSizePerArm(0.2, 0.2)).toBeNull();
  });
});

describe('relative lift and number needed to treat', () => {
  it('30/100 vs 10/100: +200%, Katz log interval 55% to 380%', () => {
    // RR 3, se = sqrt(1/30 - 1/100 + 1/10 - 1/100) = 0.3215; exp(ln 3 -+ 1.96 * 0.3215) = 1.551, 5.803
    const r = relativeLift(proportion(30, 100), proportion(10, 100));
    expect(r.estimate).toBeCloseTo(2, 10);
    expect(round4(r.interval!.low)).toBe(0.5508);
    expect(round4(r.interval!.high)).toBe(4.8033);
  });

  it('no relative lift without a conversion among the held out', () => {
    expect(relativeLift(proportion(3, 10), proportion(0, 10))).toEqual({ estimate: null, interval: null });
  });

  it('NNT is 1 / difference; its interval the reciprocal of the difference\'s, when that excludes 0', () => {
    expect(numberNeededToTreat(0.2)).toBeCloseTo(5, 10);
    expect(numberNeededToTreat(0)).toBe(Infinity);
    expect(numberNeededToTreatInterval({ low: 0.1, high: 0.25 })).toEqual({ low: 4, high: 10 });
    expect(numberNeededToTreatInterval({ low: -0.01, high: 0.25 })).toBeNull();
  });
});

describe('compare: one rule\'s numbers', () => {
  it('56/70 offered vs 48/80 held out: the interval excludes 0', () => {
    const c = compare(56, 70, 48, 80);
    expect(c.difference).toBeCloseTo(0.2, 10);
    expect(c.excludesZero).toBe(true);
    expect(c.nntInterval!.low).toBeCloseTo(1 / 0.3339, 3);
    expect(c.nntInterval!.high).toBeCloseTo(1 / 0.0524, 1);
    expect(c.neededPerArm).toBe(sampleSizePerArm(0.8, 0.6)!.n1);
    expect(c.neededAtSplit).toEqual({ treated: sampleSizePerArm(0.8, 0.6, 70 / 80)!.n1, control: sampleSizePerArm(0.8, 0.6, 70 / 80)!.n2 });
  });

  it('5/56 vs 0/29: the interval contains 0', () => {
    expect(compare(5, 56, 0, 29).excludesZero).toBe(false);
  });

  it('an empty arm: no comparison, nothing needed; a target lift is sized from the held-out rate', () => {
    const c = compare(10, 50, 0, 0, 0.05);
    expect(c.excludesZero).toBe(false);
    expect(c.neededPerArm).toBeNull();
    expect(c.target).toBeNull();
    expect(compare(30, 100, 10, 100, 0.05).target).toEqual({ rate: 0.15000000000000002, perArm: sampleSizePerArm(0.15, 0.1)!.n1 });
  });
});
