/** Reads an aggregate (avg, p90, ratio, ...) off a window snapshot. Pure. */
import type { WindowSnapshot } from './window-spec.js';
import { quantile } from './sketch.js';

/** The aggregates a rule may watch (rules/schema.ts offers exactly these). */
export const AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'ratio'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

const QUANTILES: Partial<Record<AggregateName, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** Rounds away float noise so Redis (Lua doubles) and the in-memory store report identical values. */
export function roundValue(v: number): number {
  return Number(v.toPrecision(12));
}

/** The aggregate's value, or null when the window holds no data for it. */
export function aggregateOf(snapshot: WindowSnapshot, aggregate: AggregateName): number | null {
  const q = QUANTILES[aggregate];
  if (q !== undefined) {
    const v = quantile(snapshot.bins, q);
    return v === null ? null : roundValue(v);
  }
  switch (aggregate) {
    case 'count':
      return snapshot.den > 0 || snapshot.num > 0 ? snapshot.den : snapshot.count;
    case 'sum':
      return snapshot.count === 0 ? null : roundValue(snapshot.sum);
    case 'avg':
      return snapshot.count === 0 ? null : roundValue(snapshot.sum / snapshot.count);
    case 'min':
      return snapshot.min;
    case 'max':
      return snapshot.max;
    case 'ratio':
      return snapshot.den === 0 ? null : roundValue(snapshot.num / snapshot.den);
    default:
      return null;
  }
}

/** Number of observations behind the aggregate (for minSamples). */
export function samplesOf(snapshot: WindowSnapshot, aggregate: AggregateName): number {
  return aggregate === 'ratio' || (aggregate === 'count' && snapshot.den > 0) ? snapshot.den : snapshot.count;
}
