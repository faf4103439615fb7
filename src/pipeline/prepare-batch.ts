/**
 * Step 1 of a batch: decode every message, turn valid events into state ops and group them by entity
 * tag (one atomic store call per tag). Pure.
 */
import type { CloudEvent, EventOrigin } from '../events/cloud-event.js';
import { decodeEvent, type DecodeLimits } from '../events/decode.js';
import { ErrorCodes } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import { deriveOps } from '../cpis/derive-ops.js';
import type { Routing } from '../cpis/routing.js';
import type { CpiWindowSpec, StateOp, TagBatch } from '../store/state-store.js';
import type { DeadLetter, RawMessage } from './types.js';

export interface PreparedEvent {
  event: CloudEvent;
  origin: EventOrigin;
  /** Positions of its ops: [batch index, op index]. */
  ops: [number, number][];
}

export interface PreparedBatch {
  events: PreparedEvent[];
  deadLetters: DeadLetter[];
  tagBatches: TagBatch[];
  cpiIssues: { cpi: string; field: string; eventId: string }[];
}

export interface PrepareOptions {
  limits: DecodeLimits;
  /** Wall-clock now; events further than maxFutureMs ahead of it are dead-lettered. */
  now: number;
  maxFutureMs: number;
}

export function prepareBatch(messages: RawMessage[], source: string, routing: Routing, options: PrepareOptions): PreparedBatch {
  const events: PreparedEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const cpiIssues: PreparedBatch['cpiIssues'] = [];
  const byTag = new Map<string, { ops: StateOp[]; cpis: Set<string>; index: number }>();
  const tagBatches: TagBatch[] = [];

  for (const message of messages) {
    const decoded = decodeEvent(message, options.limits);
    if (!decoded.ok) {
      deadLetters.push({ message, code: decoded.code, reason: decoded.reason });
      continue;
    }
    const event = decoded.event;
    if (event.time > options.now + options.maxFutureMs) {
      deadLetters.push({
        message,
        code: ErrorCodes.EVENT_TIME_INVALID.code,
        reason: messageOf('EVENT_TIME_INVALID', `${new Date(event.time).toISOString()} is more than ${options.maxFutureMs} ms in the future`),
      });
      continue;
    }
    const derived = deriveOps(event, routing, message.origin.offset);
    for (const issue of derived.issues) cpiIssues.push({ ...issue, eventId: event.id });
    const prepared: PreparedEvent = { event, origin: message.origin, ops: [] };
    for (const { tag, op, cpi } of derived.ops) {
      let group = byTag.get(tag);
      if (!group) {
        group = { ops: [], cpis: new Set(), index: tagBatches.length };
        byTag.set(tag, group);
        tagBatches.push({ tag, source, ops: group.ops, cpis: [] });
      }
      if (cpi) group.cpis.add(cpi);
      prepared.ops.push([group.index, group.ops.length]);
      group.ops.push(op);
    }
    events.push(prepared);
  }
  for (const group of byTag.values()) {
    tagBatches[group.index]!.cpis = [...group.cpis].map((c) => routing.specs.get(c)).filter((s): s is CpiWindowSpec => !!s);
  }
  return { events, deadLetters, tagBatches, cpiIssues };
}
