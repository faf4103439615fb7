/**
 * The partition-state contract: one suite, run against the in-memory version (tests/unit/store) and
 * the Redis one on a real Redis (tests/integration/store). Both must behave identically.
 *
 * open() gives two handles on one storage, standing for two processes: `state` and `other` (for
 * Redis two clients on one key prefix, in memory the same instance).
 */
import { describe, expect, it } from 'vitest';
import { PartitionFencedError, type PartitionStatePort } from '../../src/store/redis/partition-state.js';

export interface PartitionStateHandles {
  state: PartitionStatePort;
  other: PartitionStatePort;
  done: () => Promise<void>;
}

let seq = 0;
function uniquePartition(): string {
  return `cpiwatch.state-${process.pid}-${Date.now()}:${seq++}`;
}

/** Odd strings that must come back byte for byte: non-ASCII tags, JSON with lone surrogate escapes and odd field names. */
export const ODD_ENTITIES = new Map<string, string>([
  ['customerId=josé', JSON.stringify({ name: 'josé', lone: '\ud800', low: 'x\udc00y', emoji: '🙂' })],
  ['客户1', '{"\\ud800":1,"__proto__":{"a":2},"":3,"a\\"b":4,"\\u0000":5,"x":"\\udbff\\udfff"}'],
  ['storeId=Zürich 🏪', 'not JSON at all: \u0000\r\n\t\\ "quoted" ünïcödé 𝄞'],
  ['empty', ''],
  ['{braces}', '[]'],
]);

export function partitionStateContract(name: string, open: () => Promise<PartitionStateHandles>): void {
  describe(`partition state contract: ${name}`, () => {
    async function withState(fn: (h: PartitionStateHandles, partition: string) => Promise<void>): Promise<void> {
      const h = await open();
      try {
        await fn(h, uniquePartition());
      } finally {
        await h.done();
      }
    }

    it('claims an empty partition: epoch 1, no offsets, no entities, no meta', () =>
      withState(async ({ state }, p) => {
        const snap = await state.claim(p);
        expect(snap).toEqual({ epoch: 1, offsets: {}, entities: new Map(), meta: null });
        expect(await state.readEntities(p, ['a'])).toEqual([null]);
      }));

    it('returns on the next claim what was saved, with a greater epoch', () =>
      withState(async ({ state, other }, p) => {
        const { epoch } = await state.claim(p);
        await state.save(p, epoch, {
          entities: new Map([['storeId=S1', '{"n":1}'], ['customerId=C1', '{"n":2}']]),
          offsets: { 'events:0': 41, 'events:1': 7 },
          meta: '{"streamTime":1000}',
        });
        await state.save(p, epoch, { entities: new Map([['storeId=S1', '{"n":3}']]), offsets: { 'events:0': 42 } });
        const snap = await other.claim(p);
        expect(snap.epoch).toBeGreaterThan(epoch);
        expect(snap.offsets).toEqual({ 'events:0': 42, 'events:1': 7 });
        expect(snap.entities).toEqual(new Map([['storeId=S1', '{"n":3}'], ['customerId=C1', '{"n":2}']]));
        expect(snap.meta).toBe('{"streamTime":1000}');
      }));

    it('fences the first claim once a second one is made: its save throws and writes nothing', () =>
      withState(async ({ state, other }, p) => {
        const first = await state.claim(p);
        await state.save(p, first.epoch, { entities: new Map([['a', '1']]), offsets: { 'events:0': 1 }, meta: 'm1' });
        const second = await other.claim(p);
        expect(second.epoch).toBeGreaterThan(first.epoch);
        const stale = new Map([['a', 'stale'], ['b', 'stale'], ['c', null]]);
        const late = state.save(p, first.epoch, { entities: stale, offsets: { 'events:0': 99 }, meta: 'stale' });
        await expect(late).rejects.toBeInstanceOf(PartitionFencedError);
        await expect(late).rejects.toMatchObject({ partition: p, epoch: first.epoch, current: second.epoch });
        // even an empty write is refused: it is a check of the ownership
        await expect(state.save(p, first.epoch, { entities: new Map(), offsets: {} })).rejects.toBeInstanceOf(PartitionFencedError);
        expect(await other.readEntities(p, ['a', 'b'])).toEqual(['1', null]);
        await other.save(p, second.epoch, { entities: new Map([['b', '2']]), offsets: { 'events:0': 2 } });
        const third = await state.claim(p);
        expect(third).toEqual({ epoch: third.epoch, offsets: { 'events:0': 2 }, entities: new Map([['a', '1'], ['b', '2']]), meta: 'm1' });
        await expect(other.save(p, second.epoch, { entities: new Map(), offsets: {} })).rejects.toMatchObject({ current: third.epoch });
      }));

    it('refuses a save on an epoch no claim gave', () =>
      withState(async ({ state }, p) => {
        await expect(state.save(p, 0, { entities: new Map([['a', '1']]), offsets: {} })).rejects.toMatchObject({ epoch: 0, current: 0 });
        await expect(state.save(p, 1, { entities: new Map([['a', '1']]), offsets: {} })).rejects.toBeInstanceOf(PartitionFencedError);
        const { epoch } = await state.claim(p);
        await expect(state.save(p, epoch + 1, { entities: new Map([['a', '1']]), offsets: {} }))
          .rejects.toMatchObject({ epoch: epoch + 1, current: epoch });
        expect(await state.readEntities(p, ['a'])).toEqual([null]);
      }));

    it('deletes entities given as null (an unknown one too), keeping the others', () =>
      withState(async ({ state, other }, p) => {
        const { epoch } = await state.claim(p);
        await state.save(p, epoch, { entities: new Map([['a', '1'], ['b', '2'], ['c', '3']]), offsets: { 'events:0': 1 } });
        await state.save(p, epoch, { entities: new Map([['b', null], ['never', null], ['d', '4']]), offsets: { 'events:0': 2 } });
        expect((await other.claim(p)).entities).toEqual(new Map([['a', '1'], ['c', '3'], ['d', '4']]));
      }));

    it('keeps the meta when a write has none, and offsets of sources a write does not name', () =>
      withState(async ({ state, other }, p) => {
        const { epoch } = await state.claim(p);
        await state.save(p, epoch, { entities: new Map(), offsets: { 'events:0': 10, 'other:3': 5 }, meta: '' });
        await state.save(p, epoch, { entities: new Map(), offsets: { 'events:0': 11 } });
        expect(await other.claim(p)).toMatchObject({ offsets: { 'events:0': 11, 'other:3': 5 }, meta: '' });
      }));

    it('round-trips a write of 20,000 entities (and deletes half of them in the next)', () =>
      withState(async ({ state, other }, p) => {
        const { epoch } = await state.claim(p);
        const entities = new Map<string, string>();
        // ~600 bytes each: 12 MB, more than one script call of the Redis version carries
        for (let i = 0; i < 20_000; i++) entities.set(`customerId=C${i}`, JSON.stringify({ i, pad: 'x'.repeat(560 + (i % 7)) }));
        await state.save(p, epoch, { entities, offsets: { 'events:0': 20_000 }, meta: 'big' });
        const snap = await other.claim(p);
        expect(snap.entities.size).toBe(20_000);
        expect(snap.entities).toEqual(entities);
        expect(snap).toMatchObject({ offsets: { 'events:0': 20_000 }, meta: 'big' });
        const deletes = new Map<string, string | null>();
        for (let i = 0; i < 20_000; i += 2) deletes.set(`customerId=C${i}`, null);
        await other.save(p, snap.epoch, { entities: deletes, offsets: { 'events:0': 20_001 } });
        const after = await state.claim(p);
        expect(after.entities.size).toBe(10_000);
        expect(after.entities.get('customerId=C1')).toBe(entities.get('customerId=C1'));
        expect(after.entities.has('customerId=C0')).toBe(false);
        expect(after.offsets).toEqual({ 'events:0': 20_001 });
      }), 60_000);

    it('keeps non-ASCII tags and states with lone surrogate escapes byte for byte', () =>
      withState(async ({ state, other }, p) => {
        const { epoch } = await state.claim(p);
        await state.save(p, epoch, { entities: ODD_ENTITIES, offsets: { 'événements:0': 3 }, meta: '{"t":"\\ud800 ü"}' });
        const snap = await other.claim(p);
        expect(snap.entities).toEqual(ODD_ENTITIES);
        for (const [tag, value] of ODD_ENTITIES) expect(Buffer.from(snap.entities.get(tag)!).equals(Buffer.from(value))).toBe(true);
        expect(snap.offsets).toEqual({ 'événements:0': 3 });
        expect(snap.meta).toBe('{"t":"\\ud800 ü"}');
        expect(await other.readEntities(p, [...ODD_ENTITIES.keys()])).toEqual([...ODD_ENTITIES.values()]);
        expect(JSON.parse(snap.entities.get('customerId=josé')!)).toEqual({ name: 'josé', lone: '\ud800', low: 'x\udc00y', emoji: '🙂' });
      }));

    it('refuses, writing nothing, a string with a raw lone surrogate (it has no UTF-8 form)', () =>
      withState(async ({ state }, p) => {
        const { epoch } = await state.claim(p);
        const write = (entities: [string, string][], meta?: string) =>
          state.save(p, epoch, { entities: new Map([['ok', 'fine'], ...entities]), offsets: { 'events:0': 1 }, meta });
        await expect(write([['a', 'x\ud800']])).rejects.toThrow(TypeError);
        await expect(write([['\udc00', 'x']])).rejects.toThrow(/lone UTF-16 surrogate/);
        await expect(write([], '\ud800')).rejects.toThrow(TypeError);
        expect(await state.readEntities(p, ['ok'])).toEqual([null]);
        await write([['pair', '\ud83d\ude42']]);
        expect(await state.readEntities(p, ['pair'])).toEqual(['🙂']);
      }));

    it('reads entities without claiming: values in the order asked, null for missing ones', () =>
      withState(async ({ state, other }, p) => {
        expect(await other.readEntities(p, [])).toEqual([]);
        const { epoch } = await state.claim(p);
        const entities = new Map<string, string>();
        for (let i = 0; i < 2500; i++) entities.set(`t${i}`, `v${i}`);
        await state.save(p, epoch, { entities, offsets: {} });
        expect(await other.readEntities(p, ['t5', 'missing', 't1', 't5'])).toEqual(['v5', null, 'v1', 'v5']);
        const many = [...entities.keys()].reverse();
        expect(await other.readEntities(p, many)).toEqual(many.map((t) => entities.get(t)));
        // reading did not claim: the owner still owns the partition
        await state.save(p, epoch, { entities: new Map([['t0', 'w0']]), offsets: {} });
        expect((await other.claim(p)).epoch).toBe(epoch + 1);
      }));
  });
}
