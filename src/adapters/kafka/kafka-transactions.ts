/**
 * Kafka transactions on one transactional producer (the TransactionPort of exactly-once.ts). One
 * transaction at a time; the batches of other partitions that finish meanwhile go together into the
 * next one (group commit: one transaction's round trips for many batches). A transaction and a reset
 * (a new producer epoch after a failed commit) never overlap: both take the producer's lane, so a
 * reset cannot take the producer away from a transaction between its connect and its begin.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kafka, Producer, TopicMessages } from 'kafkajs';
import { isPoison } from '../../errors/cpiwatch-error.js';
import type { Logger } from '../../ops/logger.js';
import { sizedSends, TopicLimits, type SinkTopics } from './action-sink.js';
import type { TransactionPort } from './exactly-once.js';
import { transactionError } from './kafka-errors.js';

/** A process-unique transactional id (no two live processes may share one: they would fence each other). */
export function transactionalIdFor(clientId: string, groupId: string): string {
  return `${clientId}-${groupId}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

interface CommitRequest {
  messages: TopicMessages[];
  offset: { topic: string; partition: number; offset: number };
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class KafkaTransactions implements TransactionPort {
  private producer?: Producer;
  private connected?: Promise<void>;
  private pending: CommitRequest[] = [];
  private draining?: Promise<void>;
  private resetting?: Promise<void>;
  /** Connects, transactions, resets and the disconnect, one after the other (each may replace the producer). */
  private lane: Promise<unknown> = Promise.resolve();
  /** max.message.bytes of the topics sent to, read once per topic (action-sink.ts). */
  readonly limits: TopicLimits;

  constructor(private readonly kafka: Kafka, private readonly o: {
    transactionalId: string; groupId: string; transactionTimeoutMs: number; log: Logger;
    /** Which topics carry offers and dead letters (a failure's code says what could not be written). */
    topics?: Pick<SinkTopics, 'offers' | 'deadLetters'>;
    /** After each committed transaction: how many batches it carried and how long it took. */
    onCommitted?: (batches: number, ms: number) => void;
  }) {
    this.limits = new TopicLimits(() => this.kafka.admin(), { log: this.o.log });
  }

  private create(): Producer {
    return this.kafka.producer({
      transactionalId: this.o.transactionalId,
      transactionTimeout: this.o.transactionTimeoutMs,
      idempotent: true,
      maxInFlightRequests: 1,
      // quick: right after a commit the coordinator answers CONCURRENT_TRANSACTIONS for a few ms
      retry: { retries: 12, initialRetryTime: 10, maxRetryTime: 1_000 },
    });
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.lane.then(step, step);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Connects (and initialises the transactional id, which fences an earlier epoch of it). */
  connect(): Promise<void> {
    return this.exclusive(async () => { await this.ready(); });
  }

  /** The connected producer (in the lane only: nothing else replaces it meanwhile). */
  private async ready(): Promise<Producer> {
    const producer = (this.producer ??= this.create());
    this.connected ??= producer.connect();
    try {
      await this.connected;
    } catch (err) {
      this.connected = undefined;
      throw err;
    }
    return producer;
  }

  commit(messages: TopicMessages[], offset: { topic: string; partition: number; offset: number }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ messages, offset, resolve, reject });
      this.draining ??= this.drain().finally(() => { this.draining = undefined; });
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      await this.resetting;
      const group = this.pending.splice(0);
      const started = performance.now();
      try {
        await this.exclusive(() => this.transaction(group));
        this.o.onCommitted?.(group.length, performance.now() - started);
        for (const r of group) r.resolve();
      } catch (err) {
        const coded = transactionError(err, this.contents(group));
        // a record refused in a group commit: each batch alone, so that only the batch that made it fails
        if (group.length > 1 && isPoison(coded)) await this.oneByOne(group);
        else for (const r of group) r.reject(coded);
      }
    }
  }

  private async oneByOne(group: CommitRequest[]): Promise<void> {
    for (const r of group) {
      const started = performance.now();
      try {
        await this.exclusive(() => this.transaction([r]));
        this.o.onCommitted?.(1, performance.now() - started);
        r.resolve();
      } catch (err) {
        r.reject(transactionError(err, this.contents([r])));
      }
    }
  }

  private contents(group: CommitRequest[]): { offers: number; deadLetters: number; offersTopic: string } {
    let offers = 0;
    let deadLetters = 0;
    for (const r of group) {
      for (const t of r.messages) {
        if (t.topic === this.o.topics?.offers) offers += t.messages.length;
        else if (t.topic === this.o.topics?.deadLetters) deadLetters += t.messages.length;
      }
    }
    return { offers, deadLetters, offersTopic: this.o.topics?.offers ?? 'the offers topic' };
  }

  private async transaction(group: CommitRequest[]): Promise<void> {
    // sized before the transaction starts: dead letters fitted to their topic's max.message.bytes,
    // the output split into sends whose record batches each fit (one request may hold many batches'
    // output; a transaction holds any number of sends)
    const { sends } = await sizedSends(group.flatMap((r) => r.messages), this.limits, this.o.log);
    const producer = await this.ready();
    const tx = await producer.transaction();
    try {
      for (const topicMessages of sends) await tx.sendBatch({ acks: -1, topicMessages });
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const { offset: o } of group) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: String(o.offset) }]);
      await tx.sendOffsets({ consumerGroupId: this.o.groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      await tx.commit();
    } catch (err) {
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      throw err;
    }
  }

  /** A new producer epoch (after a failed commit); concurrent calls share one reset. */
  reset(): Promise<void> {
    this.resetting ??= this.exclusive(async () => {
      const old = this.producer;
      this.producer = undefined;
      this.connected = undefined;
      await old?.disconnect().catch(() => undefined);
      await this.ready();
    }).finally(() => { this.resetting = undefined; });
    return this.resetting;
  }

  async disconnect(): Promise<void> {
    await this.draining?.catch(() => undefined);
    await this.exclusive(async () => {
      await this.producer?.disconnect().catch(() => undefined);
      this.producer = undefined;
      this.connected = undefined;
    });
  }
}
