/**
 * The records of the internal ops topic (the repartition hop): what the routing stage of one input
 * partition (the source) sends to the partition that owns a set of entities. One record per owner
 * partition per routed batch, plus marks (records without ops) that carry the source's progress to
 * every owner. Internal to cpiwatch and versioned (`v`): a record of an unknown version is an error.
 *
 * Wire format v2 (written since 7 December 2026; v1, the objects below as JSON, is still read, so
 * a rolling upgrade reads what the old version left on the topic): JSON with a string table and
 * flat columns instead of an object per event and op, about a third of v1's bytes, and cheaper to
 * write and read on both sides of the hop:
 *
 *     {"v":2, "source", "watermark", "idle",
 *      "s":  [strings: tags, CPI ids, sources, divisor facts],
 *      "t0": base time (ms),
 *      "ev": [id, source (s index or -1), time - t0, mark - t0, offset, copy (0|1)] per event,
 *      "tp": [event index, traceparent, ...] (events that carry one),
 *      "op": [kind, event index, tag (s index), time - event's time, ...kind's fields] per op,
 *      "cu": [op index, customer, ...] (observations of a CPI counted only for some customers)}
 *
 * Kind fields: 0 sample: cpi, value; 1 count: cpi, num, den; 2 start: cpi, key, divisorMs,
 * divisorFact (s index or -1), fallbackDivisorMs (or null), maxPendingMs; 3 end: cpi, key,
 * maxPendingMs; 4 fact: facts (object); 5 enroute: customer, etaMs, keepMs; 6 contrib: cpi,
 * customer, keepMs. A non-finite number (an eta that overflowed, say) is written as its name
 * ("Infinity"), so what the owner applies is exactly what was routed.
 */
import type { FactValue, StateOp } from '../cpis/ops.js';

export interface RoutedEvent {
  id: string;
  /** CloudEvents source (with `id`, the event's identity: an event delivered again counts once). */
  src?: string;
  /** Event time. */
  time: number;
  /** The source's watermark through this event: the newest event time routed up to and including it. */
  mark: number;
  /** Offset of the event in its input partition. */
  offset: number;
  traceparent?: string;
  /** 0: a copy (the event's ops go to several owners; only the first copy counts it). */
  c?: 0;
}

export interface RoutedOp { e: number; tag: string; op: StateOp }

export interface OpRecord {
  /** Input partition the ops come from. */
  source: number;
  /** The source's watermark after the batch (newest event time routed; null: none yet). */
  watermark: number | null;
  /** The source was caught up and idle when this mark was sent. */
  idle: boolean;
  events: RoutedEvent[];
  /** Ops in event order; `e` indexes `events`. */
  ops: RoutedOp[];
}

/** The traceparents of the records' events, in order (`firsts`: of each event's first copy only). One loop, no array per event. */
export function traceparentsOf(records: Iterable<OpRecord>, firsts: boolean): string[] {
  const out: string[] = [];
  for (const r of records) {
    for (const e of r.events) if (e.traceparent && !(firsts && e.c === 0)) out.push(e.traceparent);
  }
  return out;
}

/** A number as JSON can carry it: a non-finite one (an overflowing eta, say) as its name, read back by `num`, so the hop is lossless. */
const n = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
const NON_FINITE: Record<string, number> = { Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, NaN: Number.NaN };

const KINDS = ['sample', 'count', 'start', 'end', 'fact', 'enroute', 'contrib'] as const;
type Kind = (typeof KINDS)[number];
const KIND_NUMBER = Object.fromEntries(KINDS.map((kind, i) => [kind, i])) as Record<Kind, number>;
const EVENT_COLUMNS = 6;
type Cell = string | number | boolean | null | Record<string, FactValue>;

/** One record as the value of an ops topic message (wire format v2). */
export function encodeOpRecord(r: OpRecord): Buffer {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const s = (v: string): number => {
    let i = index.get(v);
    if (i === undefined) { i = strings.length; strings.push(v); index.set(v, i); }
    return i;
  };
  const t0 = r.events.length > 0 ? r.events[0]!.time : 0;
  // arrays grown by push stay packed, which JSON.stringify writes faster than holey ones (new Array(n))
  const ev: Cell[] = [];
  const tp: Cell[] = [];
  for (let i = 0; i < r.events.length; i++) {
    const e = r.events[i]!;
    ev.push(e.id, e.src === undefined ? -1 : s(e.src), e.time - t0, e.mark - t0, e.offset, e.c === 0 ? 1 : 0);
    if (e.traceparent !== undefined) tp.push(i, e.traceparent);
  }
  const op: Cell[] = [];
  const cu: Cell[] = [];
  for (let i = 0; i < r.ops.length; i++) {
    const { e, tag, op: o } = r.ops[i]!;
    op.push(KIND_NUMBER[o.kind], e, s(tag), n(o.time - r.events[e]!.time));
    if ('cust' in o && o.cust !== undefined) cu.push(i, o.cust);
    switch (o.kind) {
      case 'sample': op.push(s(o.cpi), n(o.value)); break;
      case 'count': op.push(s(o.cpi), o.num, o.den); break;
      case 'start': op.push(s(o.cpi), o.key, o.divisorMs === null ? null : n(o.divisorMs), o.divisorFact === undefined ? -1 : s(o.divisorFact), o.fallbackDivisorMs === undefined ? null : n(o.fallbackDivisorMs), n(o.maxPendingMs)); break;
      case 'end': op.push(s(o.cpi), o.key, n(o.maxPendingMs)); break;
      case 'fact': op.push(o.facts); break;
      case 'enroute': op.push(o.customer, n(o.etaMs), n(o.keepMs)); break;
      case 'contrib': op.push(s(o.cpi), o.customer, n(o.keepMs)); break;
    }
  }
  return Buffer.from(JSON.stringify({ v: 2, source: r.source, watermark: r.watermark, idle: r.idle, s: strings, t0, ev, ...(tp.length > 0 ? { tp } : {}), op, ...(cu.length > 0 ? { cu } : {}) }));
}

/**
 * One owner's record of a batch as one or more values of at most `maxBytes` each, so no record of
 * the ops topic can exceed the topic's max.message.bytes however large the input batch (only an
 * event whose own ops exceed it stays whole). Split between events: each part but the last carries
 * the watermark of its last event, so stream time never runs ahead of the events still to come.
 */
export function encodeOpRecords(r: OpRecord, maxBytes: number): Buffer[] {
  const value = encodeOpRecord(r);
  if (r.events.length <= 1 || value.length <= maxBytes) return [value];
  const k = r.events.length >> 1;
  const head: OpRecord = { ...r, watermark: r.events[k - 1]!.mark, idle: false, events: r.events.slice(0, k), ops: r.ops.filter((o) => o.e < k) };
  const tail: OpRecord = { ...r, events: r.events.slice(k), ops: r.ops.filter((o) => o.e >= k).map((o) => ({ ...o, e: o.e - k })) };
  return [...encodeOpRecords(head, maxBytes), ...encodeOpRecords(tail, maxBytes)];
}

/** Reads one record of the ops topic (v2, or v1 of an older version); throws (with the reason) on anything cpiwatch did not write. */
export function decodeOpRecord(value: Buffer | string | null): OpRecord {
  if (value === null) throw new Error('empty ops record');
  const r = JSON.parse(String(value)) as Record<string, unknown> | null;
  if (r?.v !== 1 && r?.v !== 2) throw new Error(`ops record of unknown version ${JSON.stringify(r?.v)}`);
  if (!Number.isInteger(r.source) || (r.source as number) < 0) throw new Error('ops record without source, events or ops');
  if (!(r.watermark === null || Number.isFinite(r.watermark)) || typeof r.idle !== 'boolean') throw new Error('ops record with a bad watermark');
  if (r.v === 1) {
    if (!Array.isArray(r.ops) || !Array.isArray(r.events)) throw new Error('ops record without source, events or ops');
    return { source: r.source as number, watermark: r.watermark as number | null, idle: r.idle, events: r.events as RoutedEvent[], ops: r.ops as RoutedOp[] };
  }
  return decodeV2(r, r.source as number, r.watermark as number | null, r.idle);
}

function decodeV2(r: Record<string, unknown>, source: number, watermark: number | null, idle: boolean): OpRecord {
  const { s: strings, t0, ev, op, tp, cu } = r as { s: unknown; t0: unknown; ev: unknown; op: unknown; tp?: unknown; cu?: unknown };
  if (!Array.isArray(strings) || !Array.isArray(ev) || !Array.isArray(op) || typeof t0 !== 'number' || ev.length % EVENT_COLUMNS !== 0) throw new Error('ops record without source, events or ops');
  const bad = (what: string): never => { throw new Error(`ops record with a bad ${what}`); };
  const num = (v: unknown, what: string): number => (typeof v === 'number' ? v : typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v]! : bad(what));
  const str = (v: unknown, what: string): string => (typeof v === 'string' ? v : bad(what));
  const ref = (v: unknown, what: string): string => str(strings[v as number], what);
  const events: RoutedEvent[] = new Array(ev.length / EVENT_COLUMNS);
  for (let i = 0, k = 0; i < events.length; i++, k += EVENT_COLUMNS) {
    const src = ev[k + 1];
    const e: RoutedEvent = { id: str(ev[k], 'event id'), time: t0 + num(ev[k + 2], 'event time'), mark: t0 + num(ev[k + 3], 'event mark'), offset: num(ev[k + 4], 'event offset') };
    if (src !== -1) e.src = ref(src, 'event source');
    if (ev[k + 5] === 1) e.c = 0;
    events[i] = e;
  }
  if (tp !== undefined) {
    if (!Array.isArray(tp)) bad('traceparent list');
    for (let k = 0; k < (tp as unknown[]).length; k += 2) {
      const e = events[(tp as unknown[])[k] as number] ?? bad('traceparent');
      e.traceparent = str((tp as unknown[])[k + 1], 'traceparent');
    }
  }
  const ops: RoutedOp[] = [];
  for (let k = 0; k < op.length;) {
    const kind = KINDS[op[k] as number] ?? bad('op kind');
    const e = op[k + 1] as number;
    const event = events[e] ?? bad('op event');
    // ops in event order: the owner applies each event's ops together, one after another
    if (ops.length > 0 && e < ops[ops.length - 1]!.e) bad('op order');
    const tag = ref(op[k + 2], 'op tag');
    const time = event.time + num(op[k + 3], 'op time');
    k += 4;
    let o: StateOp;
    switch (kind) {
      case 'sample': o = { kind, time, cpi: ref(op[k], 'cpi'), value: num(op[k + 1], 'sample value') }; k += 2; break;
      case 'count': o = { kind, time, cpi: ref(op[k], 'cpi'), num: op[k + 1] === 1 ? 1 : 0, den: op[k + 2] === 1 ? 1 : 0 }; k += 3; break;
      case 'start': {
        const divisorMs = op[k + 2] === null ? null : num(op[k + 2], 'divisor');
        const start: StateOp = { kind, time, cpi: ref(op[k], 'cpi'), key: str(op[k + 1], 'key'), divisorMs, maxPendingMs: num(op[k + 5], 'maxPendingMs') };
        if (op[k + 3] !== -1) start.divisorFact = ref(op[k + 3], 'divisor fact');
        if (op[k + 4] !== null) start.fallbackDivisorMs = num(op[k + 4], 'fallback divisor');
        o = start; k += 6; break;
      }
      case 'end': o = { kind, time, cpi: ref(op[k], 'cpi'), key: str(op[k + 1], 'key'), maxPendingMs: num(op[k + 2], 'maxPendingMs') }; k += 3; break;
      case 'fact': {
        const facts = op[k];
        if (typeof facts !== 'object' || facts === null || Array.isArray(facts)) bad('facts');
        o = { kind, time, facts: facts as Record<string, FactValue> }; k += 1; break;
      }
      case 'enroute': o = { kind, time, customer: str(op[k], 'customer'), etaMs: num(op[k + 1], 'etaMs'), keepMs: num(op[k + 2], 'keepMs') }; k += 3; break;
      case 'contrib': o = { kind, time, cpi: ref(op[k], 'cpi'), customer: str(op[k + 1], 'customer'), keepMs: num(op[k + 2], 'keepMs') }; k += 3; break;
    }
    ops.push({ e, tag, op: o });
  }
  if (cu !== undefined) {
    if (!Array.isArray(cu)) bad('customer list');
    for (let k = 0; k < (cu as unknown[]).length; k += 2) {
      const o = ops[(cu as unknown[])[k] as number]?.op ?? bad('customer');
      if (o.kind === 'fact' || o.kind === 'enroute') bad('customer');
      else o.cust = str((cu as unknown[])[k + 1], 'customer');
    }
  }
  return { source, watermark, idle, events, ops };
}
