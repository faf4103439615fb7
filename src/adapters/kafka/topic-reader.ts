/**
 * Reads a whole topic once, read committed, from the start of each partition to the end it had
 * when the read began (`cpiwatch rebuild` reads the offers and decisions topics this way). kafkajs
 * 2.2.4 has no group-less consumer: a throw-away group that never commits. Read committed (the
 * kafkajs default, with cpiwatch's fix of its aborted-transaction filter, read-committed.ts): a
 * record of an aborted transaction is never seen, and a transaction still open holds the read at
 * its first record until it commits or the coordinator aborts it (at most the producer's
 * transaction timeout after the producer died), hence the generous default timeout.
 */
import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';

/** A read that ends once the consumer is past the end offset of every partition in `remaining`. */
export interface EndsRead {
  /** Resolves when every partition is read (or rejects with the error finish() was given). */
  done: Promise<void>;
  finish(err?: unknown): void;
  readonly stopped: boolean;
}

/**
 * Watches a consumer until it is past each partition's end (`remaining`: partition -> end offset;
 * partitions are taken out as they end). Batches of transaction markers only (offers, decisions and
 * dead letters are written in transactions) never reach eachBatch, but do end a batch here.
 */
export function untilEnds(consumer: Consumer, remaining: Map<number, bigint>): EndsRead {
  let finish!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => { finish = (err) => (err ? reject(err) : resolve()); });
  const read = {
    done, stopped: false,
    finish: (err?: unknown) => { read.stopped = true; finish(err); },
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = remaining.get(payload.partition);
    if (read.stopped || end === undefined || BigInt(payload.lastOffset) + 1n < end) return;
    remaining.delete(payload.partition);
    if (remaining.size === 0) read.finish();
  });
  return read;
}

export interface TopicRecord { partition: number; offset: string; timestamp: string; key: Buffer | null; value: Buffer | null }

export interface TopicExtent {
  /** Per partition: the first offset still on the topic (above 0: retention deleted older records) and the end read to. */
  partitions: { partition: number; low: number; high: number }[];
  /** Records passed to onBatch. */
  records: number;
  /** The smallest Kafka timestamp (ms) among the records read; null when none. */
  oldest: number | null;
}

export interface TopicReadOptions {
  onBatch: (records: TopicRecord[]) => Promise<void>;
  timeoutMs?: number;
}

export async function readTopicToEnd(kafka: Kafka, topic: string, o: TopicReadOptions): Promise<TopicExtent> {
  const admin = kafka.admin();
  await admin.connect();
  let extent: TopicExtent;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    extent = { partitions: ends.map((e) => ({ partition: e.partition, low: Number(e.low), high: Number(e.high) })).sort((a, b) => a.partition - b.partition), records: 0, oldest: null };
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(extent.partitions.filter((p) => p.low < p.high).map((p) => [p.partition, BigInt(p.high)]));
  if (remaining.size === 0) return extent;

  const timeoutMs = o.timeoutMs ?? 300_000;
  const consumer = kafka.consumer({ groupId: `cpiwatch-reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 200, sessionTimeout: 30_000, heartbeatInterval: 3_000, allowAutoTopicCreation: false });
  const read = untilEnds(consumer, remaining);
  let timer: NodeJS.Timeout | undefined;
  // no progress for timeoutMs (not the whole read: a large topic takes as long as it takes)
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const behind = [...remaining.keys()].join(', ');
      read.finish(new Error(`reading ${topic} (read committed) made no progress for ${timeoutMs} ms before its end (partitions ${behind}); a transaction left open by a producer that died holds read-committed readers until the transaction coordinator aborts it`));
    }, timeoutMs);
  };
  arm();
  consumer.on(consumer.events.CRASH, (e) => read.finish(e.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (read.stopped) return;
        const end = remaining.get(batch.partition);
        if (end === undefined) return;
        arm();
        const records: TopicRecord[] = [];
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) continue;
          records.push({ partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value });
          const t = Number(m.timestamp);
          if (Number.isFinite(t) && (extent.oldest === null || t < extent.oldest)) extent.oldest = t;
        }
        try {
          if (records.length > 0) {
            await o.onBatch(records);
            extent.records += records.length;
          }
        } catch (err) {
          // the read stops with the error (kafkajs would retry the batch)
          read.finish(err);
          return;
        }
        await heartbeat();
      },
    });
    await read.done;
  } finally {
    clearTimeout(timer);
    read.finish();
    await consumer.disconnect().catch(() => undefined);
  }
  return extent;
}
