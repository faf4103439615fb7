/**
 * The records of the internal ops topic (the repartition hop): what the routing stage of one input
 * partition (the source) sends to the partition that owns a set of entities. One record per owner
 * partition per routed batch, plus marks (records without ops) that carry the source's progress to
 * every owner. Internal to cpiwatch and versioned (`v`): a record of an unknown version is an error.
 */
import type { StateOp } from '../cpis/ops.js';

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
  v: 1;
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

export function encodeOpRecord(r: OpRecord): string {
  return JSON.stringify(r);
}

/**
 * One owner's record of a batch as one or more values of at most `maxBytes` (UTF-8) each, so no
 * record of the ops topic can exceed the topic's max.message.bytes however large the input batch
 * (only an event whose own ops exceed it stays whole). Split between events: each part but the last
 * carries the watermark of its last event, so stream time never runs ahead of the events still to come.
 */
export function encodeOpRecords(r: OpRecord, maxBytes: number): string[] {
  const value = encodeOpRecord(r);
  if (r.events.length <= 1 || Buffer.byteLength(value) <= maxBytes) return [value];
  const k = r.events.length >> 1;
  const head: OpRecord = { ...r, watermark: r.events[k - 1]!.mark, idle: false, events: r.events.slice(0, k), ops: r.ops.filter((o) => o.e < k) };
  const tail: OpRecord = { ...r, events: r.events.slice(k), ops: r.ops.filter((o) => o.e >= k).map((o) => ({ ...o, e: o.e - k })) };
  return [...encodeOpRecords(head, maxBytes), ...encodeOpRecords(tail, maxBytes)];
}

/** Reads one record of the ops topic; throws (with the reason) on anything cpiwatch did not write. */
export function decodeOpRecord(value: Buffer | string | null): OpRecord {
  if (value === null) throw new Error('empty ops record');
  const r = JSON.parse(String(value)) as OpRecord;
  if (r?.v !== 1) throw new Error(`ops record of unknown version ${JSON.stringify(r?.v)}`);
  if (!Array.isArray(r.ops) || !Array.isArray(r.events) || !Number.isInteger(r.source) || r.source < 0) throw new Error('ops record without source, events or ops');
  if (!(r.watermark === null || Number.isFinite(r.watermark)) || typeof r.idle !== 'boolean') throw new Error('ops record with a bad watermark');
  return r;
}
