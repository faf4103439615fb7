import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryPartitionState } from '../../../src/store/memory/partition-state.js';
import { planCountedCalls, planSaveCalls, type PartitionWrite } from '../../../src/store/redis/partition-state.js';
import { partitionStateContract } from '../../contract/partition-state.contract.js';

partitionStateContract('memory', async () => {
  const state = new MemoryPartitionState();
  return { state, other: state, done: async () => {} };
});

describe('MemoryPartitionState', () => {
  it('hands out copies: changing a snapshot changes nothing stored', async () => {
    const state = new MemoryPartitionState();
    const { epoch } = await state.claim('p:0');
    await state.save('p:0', epoch, { entities: new Map([['a', '1']]), offsets: { 'e:0': 1 } });
    const snap = await state.claim('p:0');
    snap.entities.set('b', '2');
    snap.offsets['e:0'] = 5;
    expect(await state.claim('p:0')).toMatchObject({ offsets: { 'e:0': 1 }, entities: new Map([['a', '1']]) });
  });
});

describe('planSaveCalls (how the Redis version splits a large save)', () => {
  it('plans what counting every byte plans, whether the write fits at once or not (multi-byte text too)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '\u20ac', '\u{1F600}'), maxLength: 300 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text, fc.option(text)), { maxLength: 40 }),
        fc.dictionary(text, fc.nat()),
        fc.option(text, { nil: undefined }),
        fc.integer({ min: 1, max: 20_000 }),
        (entities, offsets, meta, maxBytes) => {
          const w: PartitionWrite = { entities: new Map(entities), offsets, ...(meta === undefined ? {} : { meta }) };
          expect(planSaveCalls(w, maxBytes)).toEqual(planCountedCalls(w, maxBytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  const write = (n: number, size: number, extra: Partial<PartitionWrite> = {}): PartitionWrite => ({
    entities: new Map(Array.from({ length: n }, (_, i) => [`t${i}`, i % 5 === 0 ? null : 'x'.repeat(size)] as const)),
    offsets: { 'events:0': 9, 'events:1': 3 },
    meta: 'm',
    ...extra,
  });

  it('keeps a write that fits in one call', () => {
    const calls = planSaveCalls(write(100, 100));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.set).toHaveLength(80);
    expect(calls[0]!.del).toHaveLength(20);
    expect(calls[0]).toMatchObject({ offsets: [['events:0', 9], ['events:1', 3]], meta: 'm' });
  });

  it('splits a larger one into calls under the limit, only the last with offsets and meta, every entity once', () => {
    const w = write(1000, 1000);
    const calls = planSaveCalls(w, 64 * 1024);
    expect(calls.length).toBeGreaterThan(10);
    for (const c of calls.slice(0, -1)) expect(c).toMatchObject({ offsets: [], meta: null });
    expect(calls.at(-1)).toMatchObject({ offsets: [['events:0', 9], ['events:1', 3]], meta: 'm' });
    for (const c of calls) {
      const bytes = c.set.reduce((n, [t, s]) => n + t.length + s.length + 32, 0) + c.del.reduce((n, t) => n + t.length + 16, 0);
      expect(bytes).toBeLessThanOrEqual(64 * 1024);
    }
    const set = calls.flatMap((c) => c.set.map(([t]) => t));
    const del = calls.flatMap((c) => c.del);
    expect([...set, ...del].sort()).toEqual([...w.entities.keys()].sort());
    expect(del).toEqual([...w.entities].filter(([, s]) => s === null).map(([t]) => t));
  });

  it('gives an entity larger than the limit a call of its own, and an empty write one call (the epoch check)', () => {
    const calls = planSaveCalls({ entities: new Map([['a', 'x'.repeat(10)], ['big', 'x'.repeat(5000)], ['b', 'y']]), offsets: {} }, 1000);
    expect(calls.map((c) => c.set.map(([t]) => t))).toEqual([['a'], ['big'], ['b']]);
    expect(planSaveCalls({ entities: new Map(), offsets: {} })).toEqual([{ set: [], del: [], offsets: [], meta: null }]);
  });

  it('counts bytes, not characters (UTF-8)', () => {
    const calls = planSaveCalls({ entities: new Map([['a', '客'.repeat(300)], ['b', '客'.repeat(300)]]), offsets: {} }, 1500);
    expect(calls).toHaveLength(2);
  });
});
