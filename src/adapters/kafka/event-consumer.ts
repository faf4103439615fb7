/**
 * Consumes a topic with kafkajs `eachBatch` and feeds each partition's batch to a stage (through its
 * exactly-once protocol): the input to the routing stage, the ops topic to the owners.
 * A batch that fails with a retriable error (Redis or Kafka down: errors/cpiwatch-error.ts) is retried
 * with backoff, heartbeating meanwhile, until it succeeds or the partition is taken away (rebalance)
 * or the consumer stops: nothing is skipped, and offsets are committed only after a batch's effects
 * are durable. A batch that fails on its input (a coded error that is not retriable: a Lua script
 * refusing an argument, a record Kafka refuses, a bug the input trips in the engine) is split in
 * halves, each processed and committed on its own, until the one message behind it is found; that
 * message is dead-lettered with the error's code and the partition moves on (poison isolation:
 * about log2(batch size) extra attempts for one bad message).
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../ops/logger.js';
import { endBatchSpan, startBatchSpan } from '../../ops/tracing.js';
import type { BatchResult, RawMessage } from '../../pipeline/types.js';
import { peekEventTime } from '../../events/peek-time.js';
import type { Alignment } from '../../stream-time/alignment.js';
import { isPoison, type CpiwatchError } from '../../errors/cpiwatch-error.js';
import type { ExactlyOnce } from './exactly-once.js';
import { kafkaErrorChain } from './kafka-errors.js';
import { OffsetCommitter } from './offset-committer.js';

export interface BatchErrorMeta { topic: string; partition: number; attempt: number; firstOffset: string; lastOffset: string; retriable: boolean }

export interface BatchMeta { topic: string; partition: number; firstOffset: string; lastOffset: string; durationMs: number; highWatermark: string }

export interface EventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  log: Logger;
  partitionsConcurrently?: number;
  fromBeginning?: boolean;
  onBatch?: (result: BatchResult, meta: BatchMeta) => void;
  /** A batch (or part of one) failed; `retriable: false` when its input caused it (it is split, and the message behind it dead-lettered). */
  onBatchError?: (err: unknown, meta: BatchErrorMeta) => void;
  /** A message that failed for good was dead-lettered with the error's code. */
  onPoison?: (err: CpiwatchError, at: { topic: string; partition: number; offset: number }) => void;
  onGroupJoin?: (partitions: number[]) => void;
  onCrash?: (err: unknown) => void;
  /** Called when a partition whose batch failed goes on again. */
  onRecovered?: (at: { topic: string; partition: number }) => void;
  retry?: { initialMs: number; maxMs: number };
  /** Consumer group session timeout (ms, default 30 s): how long a dead member keeps its partitions. */
  sessionTimeoutMs?: number;
  /** Called on every fetch and heartbeat: the broker answers (readiness). */
  onContact?: () => void;
  /**
   * The stage a batch goes to, with its transactional output (exactly-once.ts): each batch's output
   * and offset commit in one Kafka transaction, offsets committed per batch and partition.
   */
  exactlyOnce: ExactlyOnce;
  /** Watermark alignment of the partitions of this instance (stream-time/alignment.ts). */
  alignment?: Alignment;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Errors that mean this member lost its place in the group: kafkajs rejoins when they reach it. */
const MEMBERSHIP_ERRORS = new Set(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);

/** The kafkajs error along the cause chain that says the membership is lost (thrown on, kafkajs rejoins on it). */
function membershipError(err: unknown): unknown {
  return kafkaErrorChain(err).find((e) => typeof e.type === 'string' && MEMBERSHIP_ERRORS.has(e.type));
}

export class EventConsumer {
  readonly consumer: Consumer;
  private stopping = false;
  /** Exactly-once mode: the offsets of batches without output. */
  private readonly plainCommits: OffsetCommitter;

  constructor(private readonly options: EventConsumerOptions) {
    this.plainCommits = new OffsetCommitter(
      (offsets) => this.consumer.commitOffsets(offsets),
      (err, offsets) => {
        for (const { topic, partition, offset } of offsets) options.log.warn({ err: err.message, topic, partition, offset }, 'offset commit failed; the next commit covers it');
      },
    );
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      maxBytesPerPartition: 1_048_576,
      // an idle fetch returns after 1 s (kafkajs: 5 s): a stop waits for the fetch in flight
      maxWaitTimeInMs: 1000,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    const { GROUP_JOIN, CRASH, FETCH, HEARTBEAT } = this.consumer.events;
    if (options.onContact) {
      this.consumer.on(FETCH, () => options.onContact!());
      this.consumer.on(HEARTBEAT, () => options.onContact!());
    }
    this.consumer.on(GROUP_JOIN, (e) => {
      // offsets of the previous generation must not be sent with the new one (another member may
      // have committed past them meanwhile)
      this.plainCommits.forget();
      const assigned = e.payload.memberAssignment[options.topic] ?? [];
      for (const key of options.alignment?.keys() ?? []) if (!assigned.includes(Number(key.split(':').pop()))) options.alignment!.remove(key);
      options.log.info({ groupId: options.groupId, partitions: assigned }, 'joined consumer group');
      options.onContact?.();
      options.exactlyOnce.assigned(options.topic, assigned);
      options.onGroupJoin?.(assigned);
    });
    this.consumer.on(CRASH, (e) => {
      options.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      options.onCrash?.(e.payload.error);
    });
  }

  async start(): Promise<void> {
    const o = this.options;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [o.topic], fromBeginning: o.fromBeginning ?? true });
    await this.consumer.run({
      // exactly-once: each batch commits its own partition's offset (in its transaction, or right
      // after it); an auto-commit of all partitions could move one back behind a transaction's
      autoCommit: false,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConcurrently ?? 2,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    if (batch.messages.length === 0) return;
    const o = this.options;
    const source = `${batch.topic}:${batch.partition}`;
    let messages: RawMessage[] = batch.messages.map((m) => ({
      value: m.value,
      headers: m.headers as RawMessage['headers'],
      key: m.key,
      origin: { topic: batch.topic, partition: batch.partition, offset: Number(m.offset) },
    }));
    // alignment: process only the events within the limit, then wait (paused) for the slowest
    const align = o.alignment?.boundMs === null ? undefined : o.alignment;
    // off (a reload may turn it off while this partition waited): nothing of it is kept
    if (!align) o.alignment?.remove(source);
    let times: (number | undefined)[] = [];
    let cut = false;
    if (align) {
      times = messages.map(peekEventTime);
      align.arrived(source, times.find((t) => t !== undefined));
      await new Promise<void>((r) => setImmediate(r)); // the other batches of this fetch arrive too
      const limit = align.limit();
      let n = 0;
      while (n < messages.length && !((times[n] ?? Number.NEGATIVE_INFINITY) > limit)) n++;
      if (n < messages.length) {
        align.wait(source, times[n]!);
        payload.pause();
        this.scheduleResume();
        if (n === 0) return;
        messages = messages.slice(0, n);
        times = times.slice(0, n);
        cut = true;
      }
    }
    const lastOffset = String(messages[messages.length - 1]!.origin.offset);
    const meta = { topic: batch.topic, partition: batch.partition };
    // the batch, then (after an error the input caused) the parts it is split into, in offset order
    const parts: RawMessage[][] = [messages];
    let failing = false;
    let attempt = 1;
    /** The first part is done (processed, or its one message dead-lettered): on to the next. */
    const partDone = async () => {
      parts.shift();
      if (parts.length === 0) this.aligned(source, times, cut, lastOffset, batch.highWatermark);
      attempt = 1;
      await commitOffsetsIfNecessary();
    };
    while (parts.length > 0) {
      if (!isRunning() || isStale()) return;
      const part = parts[0]!;
      const partLast = String(part[part.length - 1]!.origin.offset);
      try {
        const started = performance.now();
        const result = await this.attempt(payload, part, attempt);
        resolveOffset(partLast);
        if (result) o.onBatch?.(result, { ...meta, firstOffset: String(part[0]!.origin.offset), lastOffset: partLast, durationMs: performance.now() - started, highWatermark: batch.highWatermark });
        if (failing) { failing = false; o.onRecovered?.(meta); }
        await partDone();
      } catch (err) {
        const lost = membershipError(err);
        if (lost) {
          // the group moved on (this member timed out or a rebalance began): give the batch up;
          // kafkajs rejoins, and whoever gets the partition redelivers it from the committed offset
          o.log.warn({ err, topic: batch.topic, partition: batch.partition }, 'group membership lost during a batch; rejoining');
          throw lost;
        }
        failing = true;
        const poison = isPoison(err);
        o.onBatchError?.(err, { ...meta, attempt, firstOffset: String(part[0]!.origin.offset), lastOffset: partLast, retriable: !poison });
        if (poison && part.length > 1) {
          // the input caused it: split until the message behind it is found; the parts before it go through
          const half = Math.ceil(part.length / 2);
          parts.splice(0, 1, part.slice(0, half), part.slice(half));
          o.log.warn({ err, topic: batch.topic, partition: batch.partition, firstOffset: part[0]!.origin.offset, lastOffset: partLast }, 'batch failed on its input; splitting it to find the message');
          continue;
        }
        if (poison) {
          if (!(await this.isolate(payload, part[0]!, err))) return;
          await partDone();
          continue;
        }
        o.log.warn({ err, topic: batch.topic, partition: batch.partition, attempt }, 'batch failed; retrying');
        if (this.stopping) throw err;
        await this.backOff(payload, attempt++);
      }
    }
  }

  /** One attempt at some of a batch's messages; null when nothing is left to report (an earlier attempt committed them). */
  private async attempt(payload: EachBatchPayload, messages: RawMessage[], attempt: number): Promise<BatchResult | null> {
    const { batch, heartbeat } = payload;
    const o = this.options;
    const first = messages[0]!.origin.offset;
    const last = messages[messages.length - 1]!.origin.offset;
    const span = startBatchSpan({
      topic: batch.topic, partition: batch.partition, groupId: o.groupId, messages: messages.length,
      firstOffset: String(first), lastOffset: String(last), attempt,
    });
    // a batch held up by a slow store keeps the membership alive (heartbeat() sends at most one
    // per heartbeat interval): without it a stall longer than the session timeout loses the partitions
    const keepAlive = setInterval(() => { heartbeat().catch(() => undefined); }, 1000);
    try {
      const out = await o.exactlyOnce.process({ topic: batch.topic, partition: batch.partition, messages, firstOffset: first, lastOffset: last });
      if (!out.committed) this.plainCommits.add(batch.topic, batch.partition, last + 1);
      const result = out.result;
      if (!result) {
        endBatchSpan(span, { traceparents: [], counts: {}, offers: 0 });
        return null;
      }
      endBatchSpan(span, { traceparents: result.traceparents, counts: { ...result.counts }, offers: result.published.filter((d) => d.outcome === 'offered').length });
      return result;
    } catch (err) {
      endBatchSpan(span, { error: err });
      throw err;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** A message that fails for good: dead-lettered with the error's code, its offset committed; retried only if that fails. */
  private async isolate(payload: EachBatchPayload, message: RawMessage, error: CpiwatchError): Promise<boolean> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const o = this.options;
    const offset = message.origin.offset;
    o.log.error({ code: error.code, err: error.message, topic: batch.topic, partition: batch.partition, offset }, 'message fails for good; dead-lettered, the partition moves on');
    for (let attempt = 1; isRunning() && !isStale(); attempt++) {
      try {
        const out = await o.exactlyOnce.isolate({ topic: batch.topic, partition: batch.partition, messages: [message], firstOffset: offset, lastOffset: offset }, error);
        if (!out.committed) this.plainCommits.add(batch.topic, batch.partition, offset + 1);
        if (out.result) {
          o.onBatch?.(out.result, { topic: batch.topic, partition: batch.partition, firstOffset: String(offset), lastOffset: String(offset), durationMs: 0, highWatermark: batch.highWatermark });
        }
        resolveOffset(String(offset));
        o.onPoison?.(error, { topic: batch.topic, partition: batch.partition, offset });
        return true;
      } catch (err) {
        const lost = membershipError(err);
        if (lost) throw lost;
        o.onBatchError?.(err, { topic: batch.topic, partition: batch.partition, attempt, firstOffset: String(offset), lastOffset: String(offset), retriable: true });
        o.log.warn({ err, topic: batch.topic, partition: batch.partition, offset, attempt }, 'dead letter of a failing message not written; retrying');
        if (this.stopping) throw err;
        await this.backOff(payload, attempt);
      }
    }
    return false;
  }

  /** The pause before retry `attempt + 1` (exponential, capped), then a heartbeat. */
  private async backOff(payload: EachBatchPayload, attempt: number): Promise<void> {
    const retry = this.options.retry ?? { initialMs: 200, maxMs: 10_000 };
    await sleep(Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt - 1, 10)));
    await payload.heartbeat().catch(() => undefined);
  }

  /** After a batch: its partition's frontier moves, and waiting partitions now within the limit resume. */
  private aligned(source: string, times: (number | undefined)[], cut: boolean, lastOffset: string, highWatermark: string): void {
    const align = this.options.alignment;
    if (!align || align.boundMs === null) return;
    let max: number | undefined;
    for (const t of times) if (t !== undefined && (max === undefined || t > max)) max = t;
    // a cut batch's partition keeps waiting at its next event (set before the batch ran)
    if (!cut) align.processed(source, max, Number(lastOffset) + 1 >= Number(highWatermark));
    this.resumeReady();
  }

  private resumeTimer?: NodeJS.Timeout;

  /** Waiting partitions are checked on every batch and, while any waits, every 100 ms. */
  private scheduleResume(): void {
    if (this.resumeTimer) return;
    this.resumeTimer = setInterval(() => {
      this.resumeReady();
      if (!this.options.alignment?.hasWaiting() || this.stopping) { clearInterval(this.resumeTimer); this.resumeTimer = undefined; }
    }, 100);
    this.resumeTimer.unref();
  }

  private resumeReady(): void {
    const ready = this.options.alignment?.ready() ?? [];
    for (const key of ready) {
      const i = key.lastIndexOf(':');
      this.consumer.resume([{ topic: key.slice(0, i), partitions: [Number(key.slice(i + 1))] }]);
    }
  }

  /** Resolves once a transaction may commit the partition's offset (see OffsetCommitter). */
  settled(topic: string, partition: number): Promise<void> {
    return this.plainCommits.settled(topic, partition);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.resumeTimer);
    await this.plainCommits.flush();
    await this.consumer.disconnect();
  }
}
