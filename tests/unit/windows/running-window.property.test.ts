import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CpiWindow, firstBucketBefore, mergeBucket } from '../../../src/windows/cpi-window.js';
import type { CpiWindowSpec, WindowSnapshot } from '../../../src/windows/window-spec.js';

/** The window at `at` merged afresh from every bucket, in bucket order: what a read must equal. */
function freshMerge(w: CpiWindow, at: number, spec: CpiWindowSpec): WindowSnapshot {
  const snap: WindowSnapshot = { cpi: spec.cpi, at, count: 0, sum: 0, min: null, max: null, num: 0, den: 0, bins: {} };
  const first = firstBucketBefore(at, spec);
  const last = first + spec.buckets - 1;
  for (const b of [...w.buckets.keys()].sort((x, y) => x - y)) if (b >= first && b <= last) mergeBucket(snap, w.buckets.get(b)!);
  return snap;
}

const RES = 1000;
const value = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom(0, 0.1, 0.2, 0.3, 1e-12, 3.5), fc.integer({ min: 1, max: 9 }));
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('value' as const), dt: fc.integer({ min: -8_000, max: 3_000 }), value, key: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('counts' as const), dt: fc.integer({ min: -8_000, max: 3_000 }), num: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), step: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -3, max: 12 })), buckets: fc.constantFrom(5, 5, 5, 8, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict' as const), back: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forget' as const), back: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const) }) },
);

describe('a window read while it slides (running totals)', () => {
  it('equals a fresh merge of its buckets, exactly, whatever the adds, reads, evictions and reloads in between', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        let w = new CpiWindow();
        let at = 10 * RES;
        for (const o of ops) {
          switch (o.kind) {
            case 'value':
              w.add(Math.max(0, at + o.dt), { cpi: 'c', resolutionMs: RES, buckets: 5, latenessMs: 0 }, { value: o.value }, o.key === undefined ? undefined : `k${o.key}`);
              break;
            case 'counts':
              w.add(Math.max(0, at + o.dt), { cpi: 'c', resolutionMs: RES, buckets: 5, latenessMs: 0 }, { num: o.num, den: 1 });
              break;
            case 'read': {
              at = Math.max(0, at + o.step * RES);
              const spec: CpiWindowSpec = { cpi: 'c', resolutionMs: RES, buckets: o.buckets, latenessMs: 0 };
              expect(w.snapshot(at, spec)).toEqual(freshMerge(w, at, spec));
              break;
            }
            case 'evict':
              w.evictBefore(at / RES - o.back);
              break;
            case 'forget':
              w.forgetKeysBefore(at / RES - o.back);
              break;
            case 'reload': {
              const copy = new CpiWindow();
              for (const [b, bucket] of w.buckets) copy.load(b, JSON.stringify([bucket.count, bucket.sum, bucket.count > 0 ? bucket.min : null, bucket.count > 0 ? bucket.max : null, bucket.num, bucket.den, Object.fromEntries(bucket.bins)]));
              w = copy;
              break;
            }
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps first and next data answers right as buckets come out of order and go', () => {
    const spec: CpiWindowSpec = { cpi: 'c', resolutionMs: RES, buckets: 3, latenessMs: 0 };
    const w = new CpiWindow();
    for (const t of [5_500, 1_200, 3_900, 1_100, 9_000]) w.add(t, spec, { value: 1 });
    expect(w.firstBucket).toBe(1);
    expect(w.firstDataFrom(2)).toBe(3);
    expect(w.firstDataFrom(6)).toBe(9);
    w.evictBefore(4);
    expect(w.firstBucket).toBe(5);
    expect([...w.takeDirty().entries()].filter(([, v]) => v === null).map(([b]) => b).sort()).toEqual([1, 3]);
    expect(w.snapshot(6_000, spec)).toMatchObject({ count: 1, min: 1, max: 1 });
  });
});
