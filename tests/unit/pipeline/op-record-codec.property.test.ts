// The ops topic's wire format (pipeline/op-records.ts): what the owner reads is exactly what the
// router wrote, for every kind of op, non-finite numbers and optional fields included; records of
// the previous format (v1) are still read; anything else is refused with a reason, never half-read.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StateOp } from '../../../src/cpis/ops.js';
import { decodeOpRecord, encodeOpRecord, encodeOpRecords, type OpRecord, type RoutedEvent } from '../../../src/pipeline/op-records.js';

const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 0, -0));
const name = fc.oneof(fc.constantFrom('storeId=S1', 'customerId=c1', 'curbside-wait', 'curbside-wait.r1', ''), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const time = fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 });
const facts = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)), { maxKeys: 4 });

const op = (t: number): fc.Arbitrary<StateOp> => fc.oneof(
  fc.record({ kind: fc.constant('sample' as const), time: fc.constant(t), cpi: name, value: number, cust: name }, { requiredKeys: ['kind', 'time', 'cpi', 'value'] }),
  fc.record({ kind: fc.constant('count' as const), time: fc.constant(t), cpi: name, num: fc.constantFrom(0 as const, 1 as const), den: fc.constantFrom(0 as const, 1 as const), cust: name }, { requiredKeys: ['kind', 'time', 'cpi', 'num', 'den'] }),
  fc.record({
    kind: fc.constant('start' as const), time: fc.constant(t), cpi: name, key: name, divisorMs: fc.option(number, { nil: null }),
    divisorFact: fc.option(name, { nil: undefined }), fallbackDivisorMs: fc.option(number, { nil: undefined }), maxPendingMs: number, cust: name,
  }, { requiredKeys: ['kind', 'time', 'cpi', 'key', 'divisorMs', 'maxPendingMs'] }),
  fc.record({ kind: fc.constant('end' as const), time: fc.constant(t), cpi: name, key: name, maxPendingMs: number, cust: name }, { requiredKeys: ['kind', 'time', 'cpi', 'key', 'maxPendingMs'] }),
  fc.record({ kind: fc.constant('fact' as const), time: fc.constant(t), facts }),
  fc.record({ kind: fc.constant('enroute' as const), time: fc.oneof(fc.constant(t), time), customer: name, etaMs: number, keepMs: number }),
  // (cust: the customer whose facts decide, on observations of CPIs with `customers`)
  fc.record({ kind: fc.constant('contrib' as const), time: fc.constant(t), cpi: name, customer: name, keepMs: number, cust: name }, { requiredKeys: ['kind', 'time', 'cpi', 'customer', 'keepMs'] }),
);

const event: fc.Arbitrary<{ event: RoutedEvent; ops: { tag: string; op: StateOp }[] }> = time.chain((t) => fc.record({
  event: fc.record({
    id: fc.string({ maxLength: 40 }), src: fc.option(name, { nil: undefined }), time: fc.constant(t), mark: fc.integer({ min: t, max: t + 1e9 }),
    offset: fc.nat(), traceparent: fc.option(fc.string({ maxLength: 55 }), { nil: undefined }), c: fc.option(fc.constant(0 as const), { nil: undefined }),
  }, { requiredKeys: ['id', 'time', 'mark', 'offset'] }),
  ops: fc.array(fc.record({ tag: name, op: op(t) }), { maxLength: 4 }),
}));

const record: fc.Arbitrary<OpRecord> = fc.record({
  source: fc.nat({ max: 255 }), watermark: fc.option(time, { nil: null }), idle: fc.boolean(), events: fc.array(event, { maxLength: 12 }),
}).map(({ source, watermark, idle, events }) => ({
  source, watermark, idle,
  events: events.map((e) => e.event),
  ops: events.flatMap((e, i) => e.ops.map(({ tag, op }) => ({ e: i, tag, op }))),
}));

/** A record as comparable JSON: non-finite numbers as "#Infinity" etc. (-0 reads back as 0 either way). */
const plain = (r: OpRecord) => JSON.parse(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `#${v}` : v))) as unknown;

describe('ops records on the wire', () => {
  it('decode(encode(r)) is r, for every kind of op and every number', () => {
    fc.assert(fc.property(record, (r) => {
      const back = decodeOpRecord(encodeOpRecord(r));
      // (plain() writes a non-finite number as "#Infinity", so a name read back as a string would differ)
      expect(plain(back)).toEqual(plain(r));
    }), { numRuns: 300 });
  });

  it('parts of a record split by size decode to the whole record', () => {
    fc.assert(fc.property(record, fc.integer({ min: 200, max: 4000 }), (r, maxBytes) => {
      const parts = encodeOpRecords(r, maxBytes).map((v) => decodeOpRecord(v));
      expect(parts.flatMap((p) => p.events).map((e) => e.id)).toEqual(r.events.map((e) => e.id));
      expect(parts.flatMap((p) => p.ops.map((o) => o.op.kind))).toEqual(r.ops.map((o) => o.op.kind));
      expect(parts.at(-1)!.watermark).toBe(r.watermark);
    }), { numRuns: 100 });
  });

  it('is a third of the previous format\'s size on a typical record', () => {
    const events: RoutedEvent[] = Array.from({ length: 100 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, src: 'urn:curbside', time: 1_765_000_000_000 + i * 1000, mark: 1_765_000_000_000 + i * 1000, offset: 5000 + i }));
    const r: OpRecord = {
      source: 3, watermark: events.at(-1)!.mark, idle: false, events,
      ops: events.map((e, i) => ({ e: i, tag: `storeId=S${i % 7}`, op: { kind: 'end', time: e.time, cpi: 'curbside-wait', key: `o${i}`, maxPendingMs: 3_600_000 } })),
    };
    const v1 = Buffer.byteLength(JSON.stringify({ v: 1, ...r }));
    expect(encodeOpRecord(r).length).toBeLessThan(v1 * 0.6);
  });

  it('still reads records of the previous format (v1)', () => {
    const r: OpRecord = { source: 1, watermark: 7000, idle: false, events: [{ id: 'e1', src: 'urn:x', time: 6000, mark: 7000, offset: 4 }], ops: [{ e: 0, tag: 'storeId=S1', op: { kind: 'sample', time: 6000, cpi: 'w', value: 2.5 } }] };
    expect(decodeOpRecord(Buffer.from(JSON.stringify({ v: 1, ...r })))).toEqual(r);
  });

  it('refuses what it did not write, with the reason', () => {
    const good = JSON.parse(String(encodeOpRecord({ source: 0, watermark: 10, idle: false, events: [{ id: 'a', time: 5, mark: 10, offset: 0 }], ops: [{ e: 0, tag: 't', op: { kind: 'count', time: 5, cpi: 'c', num: 1, den: 1 } }] }))) as Record<string, unknown[]>;
    const variant = (f: (r: Record<string, unknown[]>) => void) => { const r = structuredClone(good); f(r); return Buffer.from(JSON.stringify(r)); };
    expect(() => decodeOpRecord(variant((r) => { r.op![0] = 9; }))).toThrow(/op kind/);
    expect(() => decodeOpRecord(variant((r) => { r.op![1] = 3; }))).toThrow(/op event/);
    expect(() => decodeOpRecord(variant((r) => { r.op![2] = 17; }))).toThrow(/op tag/);
    const twoEvents = JSON.parse(String(encodeOpRecord({
      source: 0, watermark: 10, idle: false, events: [{ id: 'a', time: 5, mark: 5, offset: 0 }, { id: 'b', time: 6, mark: 6, offset: 1 }],
      ops: [{ e: 0, tag: 't', op: { kind: 'count', time: 5, cpi: 'c', num: 1, den: 1 } }, { e: 1, tag: 't', op: { kind: 'count', time: 6, cpi: 'c', num: 1, den: 1 } }],
    }))) as { op: number[] };
    twoEvents.op[1] = 1; twoEvents.op[8] = 0; // (7 cells per count op) the second event's op first: the owner would skip it
    expect(() => decodeOpRecord(Buffer.from(JSON.stringify(twoEvents)))).toThrow(/op order/);
    expect(() => decodeOpRecord(variant((r) => { r.ev![2] = 'soon'; }))).toThrow(/event time/);
    expect(() => decodeOpRecord(variant((r) => { r.ev!.pop(); }))).toThrow(/without/);
    expect(() => decodeOpRecord(Buffer.from('{"v":3}'))).toThrow(/unknown version 3/);
    expect(() => decodeOpRecord(null)).toThrow(/empty/);
  });
});
