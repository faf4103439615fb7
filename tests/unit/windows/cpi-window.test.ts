import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tagOf } from '../../../src/cpis/tags.js';
import { CpiWindow, isLate } from '../../../src/windows/cpi-window.js';
import type { CpiWindowSpec } from '../../../src/windows/window-spec.js';
import { Facts } from '../../../src/entities/facts.js';
import { murmur2, ownerOf } from '../../../src/pipeline/owner-of.js';
import { Partitioners } from 'kafkajs';

const spec: CpiWindowSpec = { cpi: 'c', resolutionMs: 1000, buckets: 3, latenessMs: 1500 };

describe('a CPI window', () => {
  it('holds the buckets before a boundary, whatever order the observations came in', () => {
    const a = new CpiWindow();
    const b = new CpiWindow();
    const obs = [[500, 1], [1500, 4], [2500, 2], [3500, 8], [200, 16]] as const;
    for (const [t, v] of obs) a.add(t, spec, { value: v });
    for (const [t, v] of [...obs].reverse()) b.add(t, spec, { value: v });
    expect(a.snapshot(3000, spec)).toEqual(b.snapshot(3000, spec));
    expect(a.snapshot(3000, spec)).toMatchObject({ at: 3000, count: 4, sum: 23, min: 1, max: 16 });
    expect(a.snapshot(4000, spec)).toMatchObject({ count: 3, sum: 14, min: 2, max: 8 });
  });

  it('round-trips its buckets through persistence and evicts what no window needs', () => {
    const w = new CpiWindow();
    w.add(100, spec, { value: 0.5 });
    w.add(2100, spec, { num: 1, den: 1 });
    const copy = new CpiWindow();
    for (const [b, v] of w.takeDirty()) if (v) copy.load(b, v);
    expect(copy.snapshot(3000, spec)).toEqual(w.snapshot(3000, spec));
    w.evictBefore(1);
    expect([...w.takeDirty()]).toEqual([[0, null]]);
    expect(w.hasDataFrom(2)).toBe(true);
  });

  it('calls an observation late past the lateness or out of the window', () => {
    expect(isLate(1000, null, spec)).toBe(false);
    expect(isLate(8400, 10_000, spec)).toBe(true);
    expect(isLate(8600, 10_000, spec)).toBe(false);
    expect(isLate(6999, 9_500, { ...spec, latenessMs: 10_000 })).toBe(true);
  });
});

describe('facts as of a time', () => {
  it('answers with the versions at or before the time, whatever order they came in', () => {
    const f = new Facts();
    f.apply(200, { tier: 'gold' });
    f.apply(100, { tier: 'silver', city: 'Austin' });
    expect(f.at(50)).toBeNull();
    expect(f.at(150)).toEqual({ tier: 'silver', city: 'Austin' });
    expect(f.at(250)).toEqual({ tier: 'gold', city: 'Austin' });
    expect(Facts.decode(f.encode()).latest()).toEqual({ tier: 'gold', city: 'Austin' });
  });
});

describe('the owner of an entity', () => {
  it('is the partition Kafka\'s default partitioner gives a record keyed by the entity\'s value', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (const value of ['S1', 'store-42', 'josé', '客户1', 'a', 'abcd', 'abcde']) {
      const expected = partitioner({ topic: 't', partitionMetadata: Array.from({ length: 6 }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })), message: { key: value, value: '' } });
      expect(ownerOf(`storeId=${encodeURIComponent(value)}`, 6)).toBe(expected);
    }
    expect(murmur2(Buffer.from('')) ).toBe(murmur2(Buffer.alloc(0)));
  });

  it('is the same for any value, escaped in its tag or not, short or longer than the reused buffer', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const metadata = Array.from({ length: 7 }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ minLength: 300, maxLength: 1200 })), (value) => {
      expect(ownerOf(tagOf('storeId', value), 7)).toBe(partitioner({ topic: 't', partitionMetadata: metadata, message: { key: value, value: '' } }));
    }), { numRuns: 300 });
  });
});
