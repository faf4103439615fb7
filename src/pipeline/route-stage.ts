/**
 * The routing stage of `run`: the input partitions this process consumes, each a SourceRouter. Per
 * batch of one input partition: decode, dead-letter what is bad, derive ops and forward them as one
 * OpRecord per owner partition (the ops topic's partition that owns their entities), all through the
 * sink, which sends them in one Kafka transaction with the input offsets (adapters/kafka/exactly-once.ts).
 * While a partition is caught up and idle, `idle` gives the marks that move its owners' stream time
 * with the wall clock. Knows nothing of Kafka.
 */
import { buildRouting, type Routing } from '../cpis/routing.js';
import type { DecodeLimits } from '../events/decode.js';
import type { RuleSet } from '../rules/compiled.js';
import { engine } from './engine-step.js';
import { encodeOpRecord, encodeOpRecords, traceparentsOf } from './op-records.js';
import { SourceRouter, type RouterSnapshot } from './route.js';
import { stepResult } from './step-result.js';
import type { ActionSink, BatchResult, RawMessage } from './types.js';

/** A record for the ops topic: its partition (the owner) and value. */
export interface ForwardedRecord { partition: number; value: Buffer }

export interface RouteSink extends ActionSink {
  forward(records: ForwardedRecord[]): Promise<void>;
}

export interface RouteStageOptions {
  /** Partitions of the ops topic (= of the input topic). */
  partitions: number;
  limits: DecodeLimits;
  clock: () => number;
  maxFutureMs: number;
  /** Largest value of an ops record (UTF-8 bytes; default 512 KiB, half the broker's default max.message.bytes). */
  maxRecordBytes?: number;
}

export class RouteStage {
  private routing: Routing;
  private readonly routers = new Map<number, SourceRouter>();
  /** Each source's router as it was before its batch in flight (undone if the batch fails). */
  private readonly before = new Map<number, RouterSnapshot>();

  constructor(ruleSet: RuleSet, private readonly o: RouteStageOptions) {
    this.routing = buildRouting(ruleSet);
  }

  setRules(ruleSet: RuleSet): void {
    this.routing = buildRouting(ruleSet);
  }

  private router(source: number): SourceRouter {
    let r = this.routers.get(source);
    if (!r) this.routers.set(source, (r = new SourceRouter(source, this.o.partitions)));
    return r;
  }

  /** Starts a source's router at a watermark it had reached before (restart, rebalance); never moves one back. */
  seed(source: number, watermark: number | null): void {
    if (watermark === null) return;
    const r = this.routers.get(source);
    if (!r) this.routers.set(source, new SourceRouter(source, this.o.partitions, watermark));
    else if (r.watermark === null || r.watermark < watermark) r.watermark = watermark;
  }

  /** The newest event time routed from each input partition (idle marks, metrics). */
  watermark(source: number): number | null {
    return this.routers.get(source)?.watermark ?? null;
  }

  async processBatch(messages: readonly RawMessage[], _source: string, options: { sink: RouteSink }): Promise<BatchResult> {
    const started = performance.now();
    const origin = messages[0]!.origin;
    const router = this.router(origin.partition);
    this.before.set(origin.partition, router.snapshot());
    const { routed, records } = engine(`${origin.topic}:${origin.partition} offsets ${origin.offset}..${messages[messages.length - 1]!.origin.offset}`, () => {
      const routed = router.route(messages, this.routing, { limits: this.o.limits, now: this.o.clock(), maxFutureMs: this.o.maxFutureMs });
      const records = [...routed.records].flatMap(([partition, r]) => encodeOpRecords(r, this.o.maxRecordBytes ?? 512 * 1024).map((value) => ({ partition, value })));
      return { routed, records };
    });
    if (routed.deadLetters.length > 0) await options.sink.deadLetter(routed.deadLetters);
    if (records.length > 0) await options.sink.forward(records);
    return stepResult({
      consumed: routed.consumed, unrouted: routed.unrouted, deadLetters: routed.deadLetters, cpiIssues: routed.cpiIssues, task: null,
      published: [], skippedReplays: 0, filteredOut: [], topic: origin.topic,
      traceparents: traceparentsOf(routed.records.values(), true),
      timings: { windowUpdateMs: performance.now() - started, decideMs: 0, publishMs: 0 },
    });
  }

  /** The batch in flight of `source` ("topic:partition") failed: its router goes back to before it. */
  abandon(source: string): void {
    const partition = Number(source.slice(source.lastIndexOf(':') + 1));
    const before = this.before.get(partition);
    if (before) this.routers.get(partition)?.restore(before);
  }

  /** Marks for every owner that an input partition just taken over is active at its (seeded) watermark. */
  active(source: number): ForwardedRecord[] {
    return this.router(source).active().map((r, partition) => ({ partition, value: encodeOpRecord(r) }));
  }

  /** Marks for every owner from an input partition that is caught up and idle (`elapsedMs` since its last event or mark). */
  idle(source: number, elapsedMs: number): ForwardedRecord[] {
    return this.router(source).idle(elapsedMs).map((r, partition) => ({ partition, value: encodeOpRecord(r) }));
  }
}

