/**
 * The sliding window of one CPI in one scope: time buckets of width `resolution`, each holding count,
 * sum, min, max, ratio counts and quantile-sketch bins. Buckets merge by adding, so the content of a
 * window does not depend on the order its observations arrived in. The window at an evaluation time
 * `at` (a bucket boundary) is the last `buckets` buckets ending at `at`.
 *
 * Reading a window costs little whatever its length: the merged counts and sketch bins of the last
 * window read are kept (running totals, see running-window.ts) and moved along as the window slides,
 * bucket by bucket. Every read still equals a fresh merge of its buckets, exactly.
 *
 * The one implementation of the window: `run`, `backtest` and `test` all use it (through
 * entities/entity-state.ts). Pure; the time is always an argument.
 */
import { lowerBound } from '../shared/lower-bound.js';
import { binOf } from './sketch.js';
import { RunningWindow } from './running-window.js';
import type { CpiWindowSpec, WindowSnapshot } from './window-spec.js';
import { type Bucket, decodeBucket, emptyBucket, encodeBucket } from './bucket.js';

export { decodeBucket, encodeBucket, mergeBucket, type Bucket } from './bucket.js';

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

export class CpiWindow {
  readonly buckets = new Map<number, Bucket>();
  /** The indices of `buckets`, ascending (observations come mostly in time order: an append). */
  private readonly order: number[] = [];
  /** Indices of buckets that hold observation keys (recent ones only: keys go at a bucket's close). */
  private keyed?: Set<number>;
  /** Bucket indices changed since the last takeDirty (persistence). */
  private readonly dirty = new Set<number>();
  /** The merge of the window read last, moved along as it slides (absent: none yet, or reset). */
  private running?: RunningWindow;
  /** The rule-set epoch the window was last evaluated under (pipeline/partition-task.ts; not persisted). */
  evaluatedEpoch = -1;

  /**
   * Adds an observation; with a key (the event's identity), a second observation of the same key in
   * the bucket is refused (returns false): an event delivered again counts once while its step is
   * open; the keys go when the step's close is due (forgetKeysBefore), and a repeat is late from then.
   */
  add(time: number, spec: CpiWindowSpec, obs: Observation, key?: string): boolean {
    const b = bucketOf(time, spec.resolutionMs);
    let bucket = this.buckets.get(b);
    if (!bucket) bucket = this.insert(b, emptyBucket());
    if (key !== undefined) {
      if (bucket.keys?.has(key)) return false;
      (bucket.keys ??= new Set()).add(key);
      (this.keyed ??= new Set()).add(b);
    }
    if ('value' in obs) {
      const bin = binOf(obs.value);
      bucket.count += 1;
      bucket.sum += obs.value;
      if (obs.value < bucket.min) bucket.min = obs.value;
      if (obs.value > bucket.max) bucket.max = obs.value;
      bucket.bins.set(bin, (bucket.bins.get(bin) ?? 0) + 1);
      this.running?.addValue(b, obs.value, bin);
    } else {
      bucket.num += obs.num;
      bucket.den += obs.den;
      this.running?.addCounts(b, obs.num, obs.den);
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
    const first = firstBucketBefore(at, spec);
    const last = first + spec.buckets - 1;
    const r = this.running;
    if (r && first >= r.first && last >= r.last && first <= r.last) {
      // leave the buckets that slid out, take in the new ones (present buckets only)
      for (let i = lowerBound(this.order, r.first); i < this.order.length && this.order[i]! < first && this.order[i]! <= r.last; i++) {
        r.subtract(this.buckets.get(this.order[i]!)!);
      }
      for (let i = lowerBound(this.order, Math.max(first, r.last + 1)); i < this.order.length && this.order[i]! <= last; i++) {
        r.include(this.buckets.get(this.order[i]!)!);
      }
      r.moveTo(first, last);
    } else {
      this.running = new RunningWindow(first, last);
      for (let i = lowerBound(this.order, first); i < this.order.length && this.order[i]! <= last; i++) {
        this.running.include(this.buckets.get(this.order[i]!)!);
      }
    }
    // the sum is added up afresh, in bucket order, so it is the same float a fresh merge gives
    const running = this.running!;
    const stale = running.minMaxStale;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = lowerBound(this.order, first); i < this.order.length && this.order[i]! <= last; i++) {
      const bucket = this.buckets.get(this.order[i]!)!;
      sum += bucket.sum;
      if (stale && bucket.count > 0) {
        if (bucket.min < min) min = bucket.min;
        if (bucket.max > max) max = bucket.max;
      }
    }
    if (stale) running.setMinMax(min, max);
    return running.snapshot(spec.cpi, at, sum);
  }

  /** Whether any bucket at or after `first` holds data. */
  hasDataFrom(first: number): boolean {
    return this.firstDataFrom(first) !== undefined;
  }

  /** The earliest bucket at or after `first` that holds data (undefined: none). */
  firstDataFrom(first: number): number | undefined {
    return this.order[lowerBound(this.order, first)];
  }

  /** The earliest bucket (undefined: none). */
  get firstBucket(): number | undefined {
    return this.order[0];
  }

  /**
   * Forgets the observation keys of buckets before `first`: once a bucket's close is due, every
   * event that could still count in it has arrived, and any later one for it is late, repeat or not.
   */
  forgetKeysBefore(first: number): void {
    if (!this.keyed) return;
    for (const b of this.keyed) {
      if (b >= first) continue;
      const bucket = this.buckets.get(b);
      if (bucket?.keys) {
        delete bucket.keys;
        this.dirty.add(b);
      }
      this.keyed.delete(b);
    }
  }

  /** Drops buckets before `first` (they can be in no later window). */
  evictBefore(first: number): void {
    const n = lowerBound(this.order, first);
    if (n === 0) return;
    for (const b of this.order.slice(0, n)) {
      const bucket = this.buckets.get(b)!;
      this.running?.evict(b, bucket);
      this.buckets.delete(b);
      this.keyed?.delete(b);
      this.dirty.add(b);
    }
    this.order.splice(0, n);
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
    const bucket = decodeBucket(encoded);
    if (this.buckets.has(index)) this.buckets.set(index, bucket);
    else this.insert(index, bucket);
    if (bucket.keys) (this.keyed ??= new Set()).add(index);
    this.running = undefined;
  }

  private insert(b: number, bucket: Bucket): Bucket {
    this.buckets.set(b, bucket);
    const n = this.order.length;
    if (n === 0 || this.order[n - 1]! < b) this.order.push(b);
    else this.order.splice(lowerBound(this.order, b), 0, b);
    return bucket;
  }
}
