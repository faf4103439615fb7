/**
 * The sliding window of one CPI in one scope: time buckets of width `resolution`, each holding count,
 * sum, min, max, ratio counts and quantile-sketch bins. Buckets merge by adding, so the content of a
 * window does not depend on the order its observations arrived in. The window at an evaluation time
 * `at` (a bucket boundary) is the last `buckets` buckets ending at `at`.
 *
 * The one implementation of the window: `run`, `backtest` and `test` all use it (through
 * entities/entity-state.ts). Pure; the time is always an argument.
 */
import { binOf } from './sketch.js';
import type { CpiWindowSpec, WindowSnapshot } from './window-spec.js';

export interface Bucket {
  count: number; sum: number; min: number; max: number; num: number; den: number; bins: Map<string, number>;
  /** Keys of the observations added (an event's CloudEvents source and id, and the op): a repeat adds nothing. */
  keys?: Set<string>;
}

export type Observation = { value: number } | { num: 0 | 1; den: 0 | 1 };

export function bucketOf(time: number, resolutionMs: number): number {
  return Math.floor(time / resolutionMs);
}

/** The first bucket of the window ending at `at` (a boundary: the window holds buckets before it). */
export function firstBucketBefore(at: number, spec: CpiWindowSpec): number {
  return Math.ceil(at / spec.resolutionMs) - spec.buckets;
}

/**
 * Whether an observation at `time` is too late, at stream time `now`: older than now - lateness,
 * or its bucket has slid out of the window that ends with the bucket holding `now`.
 */
export function isLate(time: number, now: number | null, spec: CpiWindowSpec): boolean {
  if (now === null) return false;
  if (time < now - spec.latenessMs) return true;
  return bucketOf(time, spec.resolutionMs) < bucketOf(now, spec.resolutionMs) - spec.buckets + 1;
}

function emptyBucket(): Bucket {
  return { count: 0, sum: 0, min: Infinity, max: -Infinity, num: 0, den: 0, bins: new Map() };
}

export class CpiWindow {
  readonly buckets = new Map<number, Bucket>();
  /** Bucket indices changed since the last takeDirty (persistence). */
  private readonly dirty = new Set<number>();

  /**
   * Adds an observation; with a key (the event's identity), a second observation of the same key in
   * the bucket is refused (returns false): an event delivered again counts once while its step is
   * open; the keys go when the step's close is due (forgetKeysBefore), and a repeat is late from then.
   */
  add(time: number, spec: CpiWindowSpec, obs: Observation, key?: string): boolean {
    const b = bucketOf(time, spec.resolutionMs);
    let bucket = this.buckets.get(b);
    if (!bucket) this.buckets.set(b, (bucket = emptyBucket()));
    if (key !== undefined) {
      if (bucket.keys?.has(key)) return false;
      (bucket.keys ??= new Set()).add(key);
    }
    if ('value' in obs) {
      bucket.count += 1;
      bucket.sum += obs.value;
      if (obs.value < bucket.min) bucket.min = obs.value;
      if (obs.value > bucket.max) bucket.max = obs.value;
      const bin = binOf(obs.value);
      bucket.bins.set(bin, (bucket.bins.get(bin) ?? 0) + 1);
    } else {
      bucket.num += obs.num;
      bucket.den += obs.den;
    }
    this.dirty.add(b);
    return true;
  }

  /** Whether the bucket holding `time` has an observation of `key`. */
  has(time: number, spec: CpiWindowSpec, key: string): boolean {
    return this.buckets.get(bucketOf(time, spec.resolutionMs))?.keys?.has(key) ?? false;
  }

  /** The window ending at boundary `at`: the `spec.buckets` buckets before it, merged. */
  snapshot(at: number, spec: CpiWindowSpec): WindowSnapshot {
    const snap: WindowSnapshot = { cpi: spec.cpi, at, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {} };
    const first = firstBucketBefore(at, spec);
    const last = first + spec.buckets - 1;
    // few buckets hold data: walk them rather than the whole window
    const keys = this.buckets.size <= spec.buckets ? [...this.buckets.keys()].sort((a, b) => a - b) : range(first, last);
    for (const b of keys) {
      if (b < first || b > last) continue;
      const bucket = this.buckets.get(b);
      if (bucket) mergeBucket(snap, bucket);
    }
    return snap;
  }

  /** Whether any bucket at or after `first` holds data. */
  hasDataFrom(first: number): boolean {
    return this.firstDataFrom(first) !== undefined;
  }

  /** The earliest bucket at or after `first` that holds data (undefined: none). */
  firstDataFrom(first: number): number | undefined {
    let min: number | undefined;
    for (const b of this.buckets.keys()) if (b >= first && (min === undefined || b < min)) min = b;
    return min;
  }

  /**
   * Forgets the observation keys of buckets before `first`: once a bucket's close is due, every
   * event that could still count in it has arrived, and any later one for it is late, repeat or not.
   */
  forgetKeysBefore(first: number): void {
    for (const [b, bucket] of this.buckets) {
      if (b < first && bucket.keys) {
        delete bucket.keys;
        this.dirty.add(b);
      }
    }
  }

  /** Drops buckets before `first` (they can be in no later window). */
  evictBefore(first: number): void {
    for (const b of this.buckets.keys()) {
      if (b < first) {
        this.buckets.delete(b);
        this.dirty.add(b);
      }
    }
  }

  get isEmpty(): boolean {
    return this.buckets.size === 0;
  }

  /** Changed buckets since the last call: index to encoded bucket (null: deleted). */
  takeDirty(): Map<number, string | null> {
    const out = new Map<number, string | null>();
    for (const b of this.dirty) {
      const bucket = this.buckets.get(b);
      out.set(b, bucket ? encodeBucket(bucket) : null);
    }
    this.dirty.clear();
    return out;
  }

  /** Restores a persisted bucket. */
  load(index: number, encoded: string): void {
    this.buckets.set(index, decodeBucket(encoded));
  }
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

function range(first: number, last: number): number[] {
  const out: number[] = [];
  for (let b = first; b <= last; b++) out.push(b);
  return out;
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
