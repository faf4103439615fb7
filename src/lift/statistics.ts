/**
 * The statistics of `cpiwatch lift`: two proportions (offered and held out), their difference with
 * a confidence interval, and how many customers an arm needs. Pure; every formula cites its source.
 *
 * - One proportion: the Wilson score interval (Wilson 1927). Unlike the textbook p +- z*sqrt(pq/n)
 *   (Wald), it stays inside [0, 1] and keeps close to its nominal coverage with few conversions or
 *   a small holdout, which is the usual case here (a 10% holdout of a few hundred customers).
 * - The difference of two independent proportions: Newcombe's hybrid score interval (Newcombe 1998,
 *   "Interval estimation for the difference between independent proportions", Statistics in
 *   Medicine 17:873-890, method 10), built from the two Wilson intervals. Newcombe found it close
 *   to nominal coverage where the Wald interval for a difference is far too narrow (rates near 0,
 *   unequal arms), and it needs no iteration.
 * - Relative lift: the risk ratio minus 1, with the Katz log interval (Katz et al. 1978) when both
 *   arms have at least one conversion.
 * - Customers needed per arm: the normal-approximation sample size for two proportions without
 *   continuity correction (Fleiss, Levin, Paik, "Statistical Methods for Rates and Proportions",
 *   3rd ed., eq. 4.14, generalised to unequal arms), two-sided alpha 0.05, power 0.80.
 * - Number needed to treat: 1 / absolute lift (Laupacis, Sackett, Roberts 1988): offers made per
 *   extra conversion; its interval is the reciprocal of the difference's when that excludes 0.
 */

/** z of the two-sided 95% interval (the 0.975 normal quantile). */
export const Z_95 = 1.959963984540054;
/** z of 80% power (the 0.80 normal quantile). */
export const Z_POWER_80 = 0.8416212335729143;

export interface Interval { low: number; high: number }

export interface Proportion {
  successes: number;
  n: number;
  /** successes / n; 0 when n is 0 */
  rate: number;
  /** Wilson 95% interval; [0, 1] when n is 0 */
  interval: Interval;
}

/** Wilson score interval of `successes` out of `n`. */
export function wilson(successes: number, n: number, z = Z_95): Interval {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p) + z2 / (4 * n)) / n);
  const denominator = 1 + z2 / n;
  // exactly 0 and 1 at the edges (the formula gives them up to rounding)
  return {
    low: successes === 0 ? 0 : (centre - spread) / denominator,
    high: successes === n ? 1 : (centre + spread) / denominator,
  };
}

export function proportion(successes: number, n: number): Proportion {
  return { successes, n, rate: n === 0 ? 0 : successes / n, interval: wilson(successes, n) };
}

/** Newcombe's hybrid score interval (method 10) of p1 - p2 from the two proportions' Wilson intervals. */
export function newcombeDifference(a: Proportion, b: Proportion): Interval {
  const d = a.rate - b.rate;
  const { low: l1, high: u1 } = a.interval;
  const { low: l2, high: u2 } = b.interval;
  return {
    low: d - Math.sqrt((a.rate - l1) ** 2 + (u2 - b.rate) ** 2),
    high: d + Math.sqrt((u1 - a.rate) ** 2 + (b.rate - l2) ** 2),
  };
}

/** (p1 / p2) - 1 and its Katz log interval; the interval is null when an arm has no conversion. */
export function relativeLift(a: Proportion, b: Proportion, z = Z_95): { estimate: number | null; interval: Interval | null } {
  if (a.n === 0 || b.n === 0 || b.successes === 0) return { estimate: null, interval: null };
  const ratio = a.rate / b.rate;
  if (a.successes === 0) return { estimate: ratio - 1, interval: null };
  const se = Math.sqrt(1 / a.successes - 1 / a.n + 1 / b.successes - 1 / b.n);
  return { estimate: ratio - 1, interval: { low: Math.exp(Math.log(ratio) - z * se) - 1, high: Math.exp(Math.log(ratio) + z * se) - 1 } };
}

/**
 * Customers needed in each arm to detect rates `p1` vs `p2` (two-sided alpha 0.05, power 0.80),
 * with `ratio` = n1 / n2 (1: equal arms). Returns { n1, n2 } rounded up; null when p1 = p2 (no
 * effect to detect) or a rate is outside (0, 1).
 *
 *   n2 = ( z_a * sqrt(pbar * qbar * (1 + 1/k)) + z_b * sqrt(p1 q1 / k + p2 q2) )^2 / (p1 - p2)^2,
 *   n1 = k * n2, pbar = (k p1 + p2) / (k + 1)
 */
export function sampleSizePerArm(p1: number, p2: number, ratio = 1): { n1: number; n2: number } | null {
  if (!(p1 >= 0 && p1 <= 1 && p2 >= 0 && p2 <= 1) || p1 === p2 || !(ratio > 0)) return null;
  const k = ratio;
  const pbar = (k * p1 + p2) / (k + 1);
  const root = Z_95 * Math.sqrt(pbar * (1 - pbar) * (1 + 1 / k)) + Z_POWER_80 * Math.sqrt((p1 * (1 - p1)) / k + p2 * (1 - p2));
  const n2 = Math.ceil(root ** 2 / (p1 - p2) ** 2 - 1e-9);
  return { n1: Math.ceil(k * n2 - 1e-9), n2 };
}

/** Offers per extra conversion: 1 / difference (Infinity when it is 0; negative when the offer does harm). */
export function numberNeededToTreat(difference: number): number {
  return difference === 0 ? Infinity : 1 / difference;
}

/** The NNT's interval: the reciprocal of the difference's, only when that excludes 0 (else it spans infinity). */
export function numberNeededToTreatInterval(difference: Interval): Interval | null {
  if (difference.low <= 0 && difference.high >= 0) return null;
  return { low: 1 / difference.high, high: 1 / difference.low };
}

export interface Comparison {
  treated: Proportion;
  control: Proportion;
  /** treated.rate - control.rate */
  difference: number;
  /** Newcombe 95% */
  differenceInterval: Interval;
  /** the interval lies wholly above or below 0 */
  excludesZero: boolean;
  relative: { estimate: number | null; interval: Interval | null };
  nnt: number;
  nntInterval: Interval | null;
  /** per arm to detect the observed rates, equal arms; null when there is no difference */
  neededPerArm: number | null;
  /** to detect the observed rates at this comparison's split (treated / control) */
  neededAtSplit: { treated: number; control: number } | null;
  /** when a target absolute lift is given: per arm (equal arms) to detect control.rate -> rate */
  target: { rate: number; perArm: number } | null;
}

/** Everything the report shows of one rule, from the four counts. */
export function compare(treatedConverted: number, treatedN: number, controlConverted: number, controlN: number, targetLift?: number): Comparison {
  const treated = proportion(treatedConverted, treatedN);
  const control = proportion(controlConverted, controlN);
  const both = treatedN > 0 && controlN > 0;
  const difference = both ? treated.rate - control.rate : 0;
  const differenceInterval = both ? newcombeDifference(treated, control) : { low: -1, high: 1 };
  const excludesZero = both && (differenceInterval.low > 0 || differenceInterval.high < 0);
  const equal = both ? sampleSizePerArm(treated.rate, control.rate) : null;
  const split = both ? sampleSizePerArm(treated.rate, control.rate, treatedN / controlN) : null;
  const targetRate = targetLift === undefined ? undefined : Math.min(1, control.rate + targetLift);
  const target = targetRate !== undefined && controlN > 0 ? sampleSizePerArm(targetRate, control.rate) : null;
  return {
    treated, control, difference, differenceInterval, excludesZero,
    relative: relativeLift(treated, control),
    nnt: both ? numberNeededToTreat(difference) : Infinity,
    nntInterval: both ? numberNeededToTreatInterval(differenceInterval) : null,
    neededPerArm: equal?.n1 ?? null,
    neededAtSplit: split ? { treated: split.n1, control: split.n2 } : null,
    target: target && targetRate !== undefined ? { rate: targetRate, perArm: target.n1 } : null,
  };
}
