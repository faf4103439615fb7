/**
 * The merged content of a window's buckets [first, last] (present ones), kept between reads so a
 * window that slides by one step costs the buckets that left and came in, not all of them.
 *
 * Only what adds and subtracts exactly is kept running: counts, ratio counts and sketch bins are
 * integers. The sum is added up afresh at each read (a float sum moved by subtraction would drift
 * from a fresh merge's), and min and max are recomputed when a bucket holding one of them leaves.
 */
import type { Bucket } from './bucket.js';
import type { WindowSnapshot } from './window-spec.js';

export class RunningWindow {
  count = 0;
  num = 0;
  den = 0;
  private min = Infinity;
  private max = -Infinity;
  /** min and max may be wrong (a bucket holding one left): the next read recomputes them. */
  minMaxStale = false;
  private readonly bins = new Map<string, number>();

  constructor(public first: number, public last: number) {}

  private covers(b: number): boolean {
    return b >= this.first && b <= this.last;
  }

  /** A bucket enters the range (the caller moves the range). */
  include(bucket: Bucket): void {
    this.count += bucket.count;
    this.num += bucket.num;
    this.den += bucket.den;
    if (bucket.count > 0) {
      if (bucket.min < this.min) this.min = bucket.min;
      if (bucket.max > this.max) this.max = bucket.max;
    }
    for (const [bin, n] of bucket.bins) this.bins.set(bin, (this.bins.get(bin) ?? 0) + n);
  }

  /** A bucket leaves the range (slid out or evicted). */
  subtract(bucket: Bucket): void {
    this.count -= bucket.count;
    this.num -= bucket.num;
    this.den -= bucket.den;
    if (bucket.count > 0 && (bucket.min <= this.min || bucket.max >= this.max)) this.minMaxStale = true;
    for (const [bin, n] of bucket.bins) {
      const left = this.bins.get(bin)! - n;
      if (left === 0) this.bins.delete(bin);
      else this.bins.set(bin, left);
    }
  }

  /** A bucket is dropped from the window: it leaves the range if it was in it. */
  evict(b: number, bucket: Bucket): void {
    if (this.covers(b)) this.subtract(bucket);
  }

  /** An observation was added to bucket `b`. */
  addValue(b: number, value: number, bin: string): void {
    if (!this.covers(b)) return;
    this.count += 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + 1);
  }

  addCounts(b: number, num: number, den: number): void {
    if (!this.covers(b)) return;
    this.num += num;
    this.den += den;
  }

  moveTo(first: number, last: number): void {
    this.first = first;
    this.last = last;
  }

  setMinMax(min: number, max: number): void {
    this.min = min;
    this.max = max;
    this.minMaxStale = false;
  }

  snapshot(cpi: string, at: number, sum: number): WindowSnapshot {
    const some = this.count > 0;
    return {
      cpi, at, count: this.count, sum,
      min: some ? this.min : null, max: some ? this.max : null,
      num: this.num, den: this.den, bins: Object.fromEntries(this.bins),
    };
  }
}
