/**
 * One time bucket of a CPI window (see cpi-window.ts): count, sum, min, max, ratio counts and
 * quantile-sketch bins of the observations in one resolution step, and how it is persisted.
 */
import type { WindowSnapshot } from './window-spec.js';

export interface Bucket {
  count: number; sum: number; min: number; max: number; num: number; den: number; bins: Map<string, number>;
  /** Keys of the observations added (an event's CloudEvents source and id, and the op): a repeat adds nothing. */
  keys?: Set<string>;
}

export function emptyBucket(): Bucket {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, num: 0, den: 0, bins: new Map() };
}

/** Adds a bucket's content to a window being merged. */
export function mergeBucket(snap: WindowSnapshot, bucket: Bucket): void {
  snap.count += bucket.count;
  snap.sum += bucket.sum;
  snap.num += bucket.num;
  snap.den += bucket.den;
  if (bucket.count > 0) {
    snap.min = snap.min === null ? bucket.min : Math.min(snap.min, bucket.min);
    snap.max = snap.max === null ? bucket.max : Math.max(snap.max, bucket.max);
  }
  for (const [bin, n] of bucket.bins) snap.bins[bin] = (snap.bins[bin] ?? 0) + n;
}

/** A bucket as a JSON array: [count, sum, min, max, num, den, bins, keys?]. */
export function encodeBucket(b: Bucket): string {
  const head = [b.count, b.sum, b.count > 0 ? b.min : null, b.count > 0 ? b.max : null, b.num, b.den, Object.fromEntries(b.bins)];
  return JSON.stringify(b.keys && b.keys.size > 0 ? [...head, [...b.keys]] : head);
}

export function decodeBucket(s: string): Bucket {
  const [count, sum, min, max, num, den, bins, keys] = JSON.parse(s) as [number, number, number | null, number | null, number, number, Record<string, number>, string[] | undefined];
  return { count, sum, min: min ?? Infinity, max: max ?? -Infinity, num, den, bins: new Map(Object.entries(bins)), ...(keys ? { keys: new Set(keys) } : {}) };
}
