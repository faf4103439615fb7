/**
 * The routing stage of one input partition (a source): decodes each message, dead-letters what is
 * bad, turns valid events into ops and sends each op to the partition that owns its entity, as one
 * OpRecord per owner partition per batch. Every record carries the source's watermark (the newest
 * event time routed), and every owner gets one whenever that watermark moves, with or without ops:
 * that is how an owner partition's stream time moves with all the input. Pure but for its own
 * watermark, which it keeps between batches.
 */
import { deriveOps } from '../cpis/derive-ops.js';
import type { Routing } from '../cpis/routing.js';
import { decodeEvent, type DecodeLimits } from '../events/decode.js';
import { ErrorCodes } from '../errors/codes.js';
import { messageOf } from '../errors/cpiwatch-error.js';
import type { OpRecord, RoutedEvent } from './op-records.js';
import { ownerOf } from './owner-of.js';
import type { CpiIssueRecord, DeadLetter, RawMessage } from './types.js';

export interface RouteOptions {
  limits: DecodeLimits;
  /** Wall-clock now; events further than maxFutureMs ahead of it are dead-lettered. */
  now: number;
  maxFutureMs: number;
}

export interface RouteOutcome {
  consumed: number;
  deadLetters: DeadLetter[];
  cpiIssues: CpiIssueRecord[];
  /** Valid events that feed no CPI and carry no fact (nothing to route: applied as they are). */
  unrouted: number;
  /** One record per owner partition that has ops or whose view of this source's watermark moved. */
  records: Map<number, OpRecord>;
}

export interface RouterSnapshot { watermark: number | null; sent: (number | null)[]; idleSent: boolean }

export class SourceRouter {
  /** Newest event time routed from this source (null: none yet). */
  watermark: number | null;
  /** The watermark each owner was last sent (marks are sent only when it moved). */
  private readonly sent: (number | null)[];
  private idleSent = false;
  /** Scratch of route: per owner partition, the current event's index in its record (-1: none). */
  private readonly slot: Int32Array;

  constructor(readonly source: number, readonly partitions: number, watermark: number | null = null) {
    this.watermark = watermark;
    this.sent = Array.from({ length: partitions }, () => null);
    this.slot = new Int32Array(partitions).fill(-1);
  }

  /** What the router keeps between batches (a batch that fails is undone with restore). */
  snapshot(): RouterSnapshot {
    return { watermark: this.watermark, sent: [...this.sent], idleSent: this.idleSent };
  }

  restore(s: RouterSnapshot): void {
    this.watermark = s.watermark;
    this.sent.splice(0, this.sent.length, ...s.sent);
    this.idleSent = s.idleSent;
  }

  route(messages: readonly RawMessage[], routing: Routing, options: RouteOptions): RouteOutcome {
    const out: RouteOutcome = { consumed: messages.length, deadLetters: [], cpiIssues: [], unrouted: 0, records: new Map() };
    const records = out.records;
    // per event: the index of its entry in each owner's record (-1: none yet), reset after the event
    const slot = this.slot.fill(-1); // (a batch that threw may have left some set)
    const touched: number[] = [];
    for (const message of messages) {
      const decoded = decodeEvent(message, options.limits, routing.eventTypes);
      if (!decoded.ok) {
        out.deadLetters.push({ message, code: decoded.code, reason: decoded.reason });
        continue;
      }
      const event = decoded.event;
      if (event.time > options.now + options.maxFutureMs) {
        out.deadLetters.push({
          message, code: ErrorCodes.EVENT_TIME_INVALID.code,
          reason: messageOf('EVENT_TIME_INVALID', `${new Date(event.time).toISOString()} is more than ${options.maxFutureMs} ms in the future`),
        });
        continue;
      }
      this.watermark = this.watermark === null ? event.time : Math.max(this.watermark, event.time);
      const derived = deriveOps(event, routing);
      for (const issue of derived.issues) out.cpiIssues.push({ ...issue, eventId: event.id, eventType: event.type });
      const ops = derived.ops;
      if (ops.length === 0) { out.unrouted += 1; continue; }
      for (let k = 0; k < ops.length; k++) {
        const { tag, op } = ops[k]!;
        const p = ownerOf(tag, this.partitions);
        let r = records.get(p);
        if (r === undefined) records.set(p, (r = { source: this.source, watermark: null, idle: false, events: [], ops: [] }));
        let e = slot[p]!;
        if (e === -1) {
          e = r.events.length;
          const routed: RoutedEvent = { id: event.id, src: event.source, time: event.time, mark: this.watermark, offset: message.origin.offset };
          if (event.traceparent) routed.traceparent = event.traceparent;
          // the event's first owner counts it; the others get a copy
          if (touched.length > 0) routed.c = 0;
          r.events.push(routed);
          slot[p] = e;
          touched.push(p);
        }
        r.ops.push({ e, tag, op });
      }
      for (const p of touched) slot[p] = -1;
      touched.length = 0;
    }
    if (this.watermark !== null) {
      for (let p = 0; p < this.partitions; p++) {
        if ((this.sent[p] !== this.watermark || this.idleSent) && !records.has(p)) records.set(p, { source: this.source, watermark: null, idle: false, events: [], ops: [] });
      }
    }
    for (const [p, r] of out.records) {
      r.watermark = this.watermark;
      this.sent[p] = this.watermark;
    }
    this.idleSent = false;
    return out;
  }

  /**
   * Marks for every owner while the source is caught up and idle: its watermark advanced by the wall
   * time since the last event or mark (`elapsedMs`), so stream time moves with no traffic.
   */
  idle(elapsedMs: number): OpRecord[] {
    if (this.watermark !== null) this.watermark += Math.max(0, elapsedMs);
    this.idleSent = true;
    return this.marks(true);
  }

  /**
   * Marks for every owner that the source is active at its watermark: sent when a router takes over
   * a partition (restart, rebalance), whose owners may still think it idle from its previous owner;
   * until its events arrive it holds stream time where it was, so they are not late.
   */
  active(): OpRecord[] {
    return this.watermark === null ? [] : this.marks(false);
  }

  private marks(idle: boolean): OpRecord[] {
    return Array.from({ length: this.partitions }, (_, p) => {
      this.sent[p] = this.watermark;
      return { source: this.source, watermark: this.watermark, idle, events: [], ops: [] };
    });
  }
}
