/**
 * Exactly-once output of the stream processor: a batch's offers, decisions and dead letters reach
 * Kafka in one transaction together with the batch's consumer offset, and the offer ledger's
 * "published" marks never get ahead of what Kafka readers can see.
 *
 * Per batch of one partition (offsets first..last):
 *  1. recovery, if the partition was just (re)assigned or its last attempt failed: the publish
 *     journal (store/redis/publish-journal.ts) holds the decisions a batch marked published, with
 *     their messages. If that batch's transaction did not commit (the committed offset is not past
 *     its last offset), they are carried over into this batch's transaction; else the entry is dropped;
 *  2. the pipeline runs with a BatchOutbox as its sink: dead letters and decisions are staged, and
 *     the journal is written (carried-over decisions included) before the pipeline marks the
 *     decisions published in the ledger;
 *  3. if anything is staged: one Kafka transaction sends it all with the consumer offset last+1
 *     (sendOffsets) and commits. A crash before the commit aborts it (readers of the offers topic
 *     read committed) and the next batch carries the journal over; a crash after it leaves all done;
 *  4. otherwise the offset is committed plainly.
 * Window updates and rule states are idempotent by themselves (per source offset, journalled closes);
 * a redelivered decision the ledger holds as published is not published again by the pipeline.
 *
 * Zombies: transactional ids are unique per process; the transaction timeout is kept below the
 * consumer session timeout, so a process that stalls mid-transaction until its partitions move has
 * its transaction aborted by the coordinator. See docs/performance.md, "Crash safety".
 */
import type { TopicMessages } from 'kafkajs';
import type { Decision } from '../../actions/decision.js';
import type { Logger } from '../../ops/logger.js';
import type { ForwardedRecord, RouteSink } from '../../pipeline/route-stage.js';
import type { BatchResult, DeadLetter, RawMessage } from '../../pipeline/types.js';
import type { JournalEntry, JournalMessage } from '../../store/redis/publish-journal.js';
import type { CpiwatchError } from '../../errors/cpiwatch-error.js';
import { deadLetterMessages, decisionMessages, divertOversized, refuseOversized, type MessageLimits, type SinkTopics } from './action-sink.js';
import { mergeResults } from '../../pipeline/step-result.js';

/** What the protocol needs of the publish journal (store/redis/publish-journal.ts). */
export interface JournalPort {
  record(source: string, entry: JournalEntry): Promise<void>;
  read(source: string): Promise<JournalEntry | null>;
  clear(source: string): Promise<void>;
}

/** What the protocol needs of Kafka transactions (kafka-transactions.ts; tests use a model). */
export interface TransactionPort {
  /** One transaction: the messages and the consumer offset (the next offset to read), committed. */
  commit(messages: TopicMessages[], offset: { topic: string; partition: number; offset: number }): Promise<void>;
  /**
   * After a failed commit: no transaction of ours may stay open (a new producer epoch: the
   * coordinator completes or aborts the open one first). Rejects when the new epoch could not be had.
   */
  reset(): Promise<void>;
}

function journalMessages(topicMessages: TopicMessages[]): JournalEntry['messages'] {
  return topicMessages.map((t) => ({
    topic: t.topic,
    messages: t.messages.map((m): JournalMessage => ({
      key: m.key == null ? null : String(m.key),
      value: String(m.value),
      headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
    })),
  }));
}

/** The offer id (CloudEvents id) of an offer or decision record. */
function offerIdOf(value: Buffer): string {
  try {
    return String((JSON.parse(value.toString('utf8')) as { id?: unknown }).id ?? '');
  } catch {
    return '';
  }
}

/** A stage of the engine that processes one partition's batch and hands its output to the sink. */
export interface BatchProcessor {
  processBatch(messages: RawMessage[], source: string, options: { sink: BatchOutbox }): Promise<BatchResult>;
  /**
   * The batch's processing failed, or its commit did not happen: state the stage keeps between
   * batches goes back to before it (the batch is processed again). A stage without it keeps what a
   * batch did even when its commit failed (the owners persist their state before the commit, and a
   * retry skips what they applied): its result is then reported with the retry's.
   */
  abandon?(source: string): void;
  /**
   * Dead-letters a message that fails for good with `error` (poison), so the partition moves past
   * it; without it the message is dead-lettered as it is and counted as one input message.
   */
  poisoned?(message: RawMessage, error: CpiwatchError, source: string, options: { sink: BatchOutbox }): Promise<BatchResult>;
}

/** An ActionSink that stages a batch's output for its transaction and journals what it marks published. */
export class BatchOutbox implements RouteSink {
  private readonly decisions: JournalEntry['messages'];
  private readonly offerIds: string[];
  private readonly deadLetters: TopicMessages[] = [];
  private readonly forwarded: TopicMessages[] = [];
  /** Decisions' records their topic could not take, dead-lettered instead (CPW604). */
  readonly diverted: DeadLetter[] = [];
  /** Ids of the offers diverted (not on the offers topic). */
  readonly divertedOffers = new Set<string>();

  constructor(
    private readonly topics: SinkTopics, private readonly journal: JournalPort, private readonly source: string,
    private readonly lastOffset: number, carried?: JournalEntry,
    /** The topics' record limits: a decision or ops record that cannot fit fails the batch before it is journalled. */
    private readonly limits?: MessageLimits,
  ) {
    this.decisions = [...(carried?.messages ?? [])];
    this.offerIds = [...(carried?.offerIds ?? [])];
  }

  async publish(all: Decision[]): Promise<void> {
    // a carried-over decision the crashed batch journalled but had not marked yet comes again: once is enough
    const staged = new Set(this.offerIds);
    const decisions = all.filter((d) => !staged.has(d.offerId));
    let built = decisionMessages(decisions, this.topics);
    if (this.limits) {
      // an offer or decision too big for its topic goes to the dead-letter topic instead (journalled like the rest)
      const origin = { topic: this.source.slice(0, this.source.lastIndexOf(':')), partition: Number(this.source.slice(this.source.lastIndexOf(':') + 1)), offset: this.lastOffset };
      const { fit, letters } = await divertOversized(built, this.limits, origin);
      if (letters.length > 0) {
        built = [...fit, ...deadLetterMessages(letters.map(({ topic: _t, ...l }) => l), this.topics)];
        this.diverted.push(...letters);
        for (const l of letters) if (l.topic === this.topics.offers && l.message.value) this.divertedOffers.add(offerIdOf(l.message.value));
      }
    }
    const messages = journalMessages(built);
    const offerIds = decisions.map((d) => d.offerId);
    // before the pipeline marks them published (it does so right after this returns)
    await this.journal.record(this.source, { last: this.lastOffset, offerIds: [...this.offerIds, ...offerIds], messages: [...this.decisions, ...messages] });
    this.decisions.push(...messages);
    this.offerIds.push(...offerIds);
  }

  async deadLetter(letters: DeadLetter[]): Promise<void> {
    this.deadLetters.push(...deadLetterMessages(letters, this.topics));
  }

  /** Ops records for the owner partitions (the routing stage): sent with the input offsets, nothing journalled. */
  async forward(records: ForwardedRecord[]): Promise<void> {
    if (!this.topics.ops) throw new Error('no ops topic to forward to');
    const forwarded = { topic: this.topics.ops, messages: records.map((r) => ({ partition: r.partition, key: null, value: r.value })) };
    if (this.limits) await refuseOversized([forwarded], this.limits);
    this.forwarded.push(forwarded);
  }

  /** Everything staged: carried-over and new decisions, ops records, then dead letters. */
  get messages(): TopicMessages[] {
    return [...this.decisions, ...this.forwarded, ...this.deadLetters];
  }
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: RawMessage[];
  firstOffset: number;
  lastOffset: number;
}

export interface ExactlyOnceOptions {
  pipeline: BatchProcessor;
  journal: JournalPort;
  transactions: TransactionPort;
  topics: SinkTopics;
  /** The output topics' record limits (KafkaTransactions.limits): output that cannot fit fails its batch before it is journalled. */
  limits?: MessageLimits;
  /** The group's committed offset of a partition, from the broker (only after a failed commit). */
  committedOffset: (topic: string, partition: number) => Promise<number>;
  /** Before a transaction commits the partition's offset: drops its pending plain offset and waits for the plain commit in flight (it must land first). */
  settled?: (topic: string, partition: number) => Promise<void>;
  log: Logger;
}

type Unsure = 'assigned' | 'failed' | 'commit-failed';

/** What process() did: `earlier` when an earlier attempt of the batch had committed (its commit call failed after the broker committed). */
export interface ProcessOutcome {
  /** What the batch did (with what a failed attempt of it did that stands); null when nothing is left to report. */
  result: BatchResult | null;
  /** Whether the offset was committed by a transaction (else the caller commits it). */
  committed: boolean;
  earlier?: true;
}

export class ExactlyOnce {
  private readonly unsure = new Map<string, Unsure>();
  /** The result of a batch whose commit failed, until it is known whether the broker committed it. */
  private readonly uncommitted = new Map<string, { result: BatchResult; pipeline: BatchProcessor }>();

  constructor(private readonly o: ExactlyOnceOptions) {}

  /** Partitions (re)assigned to this process: their journals are checked before their next batch. */
  assigned(topic: string, partitions: number[]): void {
    for (const p of partitions) {
      this.unsure.set(`${topic}:${p}`, 'assigned');
      this.uncommitted.delete(`${topic}:${p}`);
    }
  }

  /**
   * Processes one batch. Returns `earlier` when an earlier attempt of it committed (its
   * commit call failed after the broker had committed); `committed` tells whether the offset was
   * committed by a transaction (else the caller commits it).
   */
  async process(batch: PartitionBatch, pipeline: BatchProcessor = this.o.pipeline): Promise<ProcessOutcome> {
    const o = this.o;
    const source = `${batch.topic}:${batch.partition}`;
    const state = this.unsure.get(source);
    let carried: JournalEntry | undefined;
    // a failed commit's batch: reported if the broker had committed it; else undone (and processed
    // again) by a stage that can, or reported with this batch by one whose state kept it
    const failed = this.uncommitted.get(source);
    this.uncommitted.delete(source);
    let before: BatchResult | undefined;
    if (state) {
      // after an assignment the fetch starts at the committed offset; after a failed attempt nothing
      // of this batch committed, except when the failure was the commit itself: ask the broker, once
      // a new producer epoch has settled the failed transaction (a commit the coordinator had
      // prepared completes first; its offset is not visible before, and carrying its decisions into
      // the next transaction would publish them twice)
      let committed = batch.firstOffset;
      if (state === 'commit-failed') {
        await o.transactions.reset();
        committed = await o.committedOffset(batch.topic, batch.partition);
      }
      if (committed > batch.lastOffset) {
        this.unsure.delete(source);
        await o.journal.clear(source).catch(() => undefined);
        return { result: failed?.result ?? null, committed: true, earlier: true };
      }
      if (failed?.pipeline.abandon) failed.pipeline.abandon(source);
      else before = failed?.result;
      const entry = await o.journal.read(source);
      if (entry && entry.last >= committed) {
        carried = { ...entry, last: batch.lastOffset };
        // from now on the entry belongs to this batch (a crash before its commit carries it on again)
        await o.journal.record(source, carried);
        o.log.warn({ source, committed, decisions: entry.offerIds.length }, 'decisions of an uncommitted batch carried into the next transaction');
      } else if (entry) {
        await o.journal.clear(source);
      }
      this.unsure.delete(source);
    }
    const outbox = new BatchOutbox(o.topics, o.journal, source, batch.lastOffset, carried, o.limits);
    let result: BatchResult;
    try {
      result = await pipeline.processBatch(batch.messages, source, { sink: outbox });
    } catch (err) {
      this.unsure.set(source, 'failed');
      pipeline.abandon?.(source);
      throw err;
    }
    if (before) result = mergeResults(before, result);
    if (outbox.diverted.length > 0) {
      // counted and logged as dead letters; an offer that did not reach the offers topic is no offer published
      result = { ...result, deadLetters: [...result.deadLetters, ...outbox.diverted], published: result.published.filter((d) => !outbox.divertedOffers.has(d.offerId)) };
    }
    const messages = outbox.messages;
    if (messages.length === 0) return { result, committed: false };
    try {
      await o.settled?.(batch.topic, batch.partition);
      await o.transactions.commit(messages, { topic: batch.topic, partition: batch.partition, offset: batch.lastOffset + 1 });
    } catch (err) {
      this.unsure.set(source, 'commit-failed');
      this.uncommitted.set(source, { result, pipeline });
      await o.transactions.reset().catch((e: Error) => o.log.warn({ err: e.message }, 'transactional producer reset failed'));
      throw err;
    }
    // the journal has served its purpose: gone before the partition's next batch can start, so a
    // rebalance that fetches this batch again (the committed offset read before the transaction's
    // markers are written: kafkajs does not ask for stable offsets) finds no decisions to carry into
    // a second transaction (found by the crash test in CI: offers twice, one transaction apart).
    // If the clear fails, recovery after a restart finds the offset committed.
    await o.journal.clear(source).catch((err: Error) => o.log.warn({ err: err.message, source }, 'publish journal not cleared'));
    return { result, committed: true };
  }

  /**
   * The one message of a batch that fails for good (the consumer split the batch down to it): its
   * dead letter, with the error's code and reason, goes out in a transaction with the offset after
   * it, and the partition moves on.
   */
  isolate(batch: PartitionBatch, error: CpiwatchError): Promise<ProcessOutcome> {
    const stage = this.o.pipeline;
    return this.process(batch, {
      ...(stage.abandon ? { abandon: (source: string) => stage.abandon!(source) } : {}),
      processBatch: async (messages, source, options) => {
        if (stage.poisoned) return stage.poisoned(messages[0]!, error, source, options);
        const letter: DeadLetter = { message: messages[0]!, code: error.code, reason: error.message };
        await options.sink.deadLetter([letter]);
        return poisonResult(letter);
      },
    });
  }
}

/** What a poison message's batch did: nothing but its dead letter. */
export function poisonResult(letter: DeadLetter, consumed = 1): BatchResult {
  return {
    counts: { consumed, applied: 0, late: 0, duplicate: 0, unmatched: 0, deadLettered: consumed },
    deadLetters: [letter], published: [], skippedReplays: 0, evaluations: [], filteredOut: [], cpiIssues: [], lateEvents: [], traceparents: [],
    timings: { windowUpdateMs: 0, decideMs: 0, publishMs: 0 },
  };
}
