/**
 * A log-bucketed quantile sketch (the DDSketch mapping): a value v > 0 falls in bin
 * ceil(log(v) / log(gamma)) with gamma = (1 + alpha) / (1 - alpha). Reporting a bin as
 * 2 * gamma^i / (gamma + 1) is within a relative error of alpha of every value in it, so any
 * quantile read from the bins is within alpha (1%) of the exact quantile's value.
 * Bins merge by adding counts, which is what makes them fit time buckets in Redis.
 *
 * Bin keys are strings: "z" for zero, "p<i>" for positive values, "n<i>" for negative values (i may be
 * negative itself: values below 1 have negative indices).
 */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values with magnitude below this count as zero (keeps bin indices bounded). */
const MIN_MAGNITUDE = 1e-9;

export function binOf(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude < MIN_MAGNITUDE) return 'z';
  const index = Math.ceil(Math.log(magnitude) / LOG_GAMMA);
  return value > 0 ? `p${index}` : `n${index}`;
}

/** The representative value of a bin (within RELATIVE_ACCURACY of every value in it). */
export function valueOfBin(bin: string): number {
  if (bin === 'z') return 0;
  const negative = bin.startsWith('n');
  const index = Number(bin.slice(1));
  const v = (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
  return negative ? -v : v;
}

/** The q-quantile (0..1) of the values in the bins: the value of rank floor(q * (n - 1)), nearest-rank. */
export function quantile(bins: Readonly<Record<string, number>>, q: number): number | null {
  const entries = Object.entries(bins)
    .filter(([, n]) => n > 0)
    .map(([bin, n]) => [valueOfBin(bin), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.floor(q * (total - 1));
  let seen = 0;
  for (const [value, n] of entries) {
    seen += n;
    if (seen > rank) return value;
  }
  return entries[entries.length - 1]![0];
}
