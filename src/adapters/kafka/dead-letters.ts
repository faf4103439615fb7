/**
 * Reading and re-publishing dead letters (the `cpiwatch dlq` command). A dead letter is the original
 * message (key, bytes, headers) plus `cpiwatch-dlq-*` headers (deadLetterMessages in action-sink.ts): code,
 * reason, topic, partition, offset and time. A letter that would not fit its topic's
 * max.message.bytes is truncated (fitDeadLetter in action-sink.ts) and says so: `-truncated` (what
 * was cut: value, headers, key), `-original-size` and `-sha256` (of the full value), and when
 * cut, `-dropped-headers` and `-original-key-size`. Its origin headers point at the original.
 *
 * The dead-letter topic is read up to the end offsets it had when the read started. Listing uses a
 * throw-away consumer group that never commits (kafkajs 2 has no group-less consumer); replaying
 * uses a named group and commits after each re-published batch, so a second replay with the same
 * group continues where the first stopped and no letter is replayed twice.
 */
import { randomBytes } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { untilEnds } from './topic-reader.js';

export const DLQ_HEADER_PREFIX = 'cpiwatch-dlq-';

/** The headers cpiwatch adds to a dead letter. */
export const DLQ_HEADERS = {
  code: `${DLQ_HEADER_PREFIX}code`,
  reason: `${DLQ_HEADER_PREFIX}reason`,
  topic: `${DLQ_HEADER_PREFIX}topic`,
  partition: `${DLQ_HEADER_PREFIX}partition`,
  offset: `${DLQ_HEADER_PREFIX}offset`,
  time: `${DLQ_HEADER_PREFIX}time`,
  /** Only on a truncated letter: what was cut, comma-separated, in order: value, headers, key. */
  truncated: `${DLQ_HEADER_PREFIX}truncated`,
  /** Only on a truncated letter: bytes of the original value. */
  originalSize: `${DLQ_HEADER_PREFIX}original-size`,
  /** Only on a truncated letter: SHA-256 of the original value, hex. */
  sha256: `${DLQ_HEADER_PREFIX}sha256`,
  /** Only when the original headers were dropped: how many there were. */
  droppedHeaders: `${DLQ_HEADER_PREFIX}dropped-headers`,
  /** Only when the key was cut: bytes of the original key. */
  originalKeySize: `${DLQ_HEADER_PREFIX}original-key-size`,
} as const;

/** How a truncated dead letter differs from the original (the original is at its origin while the source topic's retention lasts). */
export interface DeadLetterTruncation {
  parts: string[];
  originalSize: number;
  sha256: string;
  droppedHeaders?: number;
  originalKeySize?: number;
}

export interface DeadLetterRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Original headers, without the cpiwatch-dlq-* ones. */
  headers: IHeaders;
  code: string;
  reason: string;
  origin: { topic: string; partition: number; offset: number } | undefined;
  time: string | undefined;
  /** Set when the letter was truncated to fit the dead-letter topic: its value (or key, headers) is not the original. */
  truncated?: DeadLetterTruncation;
}

const text = (v: IHeaders[string]): string | undefined => {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

export function deadLetterOf(partition: number, m: KafkaMessage): DeadLetterRecord {
  const all = m.headers ?? {};
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(all)) if (!k.startsWith(DLQ_HEADER_PREFIX) && v !== undefined) headers[k] = v;
  const topic = text(all[DLQ_HEADERS.topic]);
  const cut = text(all[DLQ_HEADERS.truncated]);
  const count = (name: string): number | undefined => { const t = text(all[name]); return t === undefined ? undefined : Number(t); };
  const truncated: DeadLetterTruncation | undefined = cut === undefined ? undefined : {
    parts: cut.split(',').filter(Boolean),
    originalSize: count(DLQ_HEADERS.originalSize) ?? NaN,
    sha256: text(all[DLQ_HEADERS.sha256]) ?? '',
    ...(count(DLQ_HEADERS.droppedHeaders) !== undefined ? { droppedHeaders: count(DLQ_HEADERS.droppedHeaders)! } : {}),
    ...(count(DLQ_HEADERS.originalKeySize) !== undefined ? { originalKeySize: count(DLQ_HEADERS.originalKeySize)! } : {}),
  };
  return {
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers,
    code: text(all[DLQ_HEADERS.code]) ?? 'unknown',
    reason: text(all[DLQ_HEADERS.reason]) ?? '',
    origin: topic === undefined ? undefined : {
      topic,
      partition: Number(text(all[DLQ_HEADERS.partition])),
      offset: Number(text(all[DLQ_HEADERS.offset])),
    },
    time: text(all[DLQ_HEADERS.time]),
    ...(truncated ? { truncated } : {}),
  };
}

export interface ReadOptions {
  /** Consumer group; default a throw-away one that never commits. */
  groupId?: string;
  /** Commit after each batch (only with groupId). */
  commit?: boolean;
  /**
   * Called per batch in offset order. Returns how many of the letters it took (all when it returns
   * nothing); fewer than all stops the read, and only the letters taken are committed.
   */
  onBatch: (letters: DeadLetterRecord[]) => Promise<number | void>;
  timeoutMs?: number;
}

/** Reads the topic from the group's position (or the beginning) up to its current end. */
export async function readDeadLetters(kafka: Kafka, topic: string, o: ReadOptions): Promise<void> {
  const groupId = o.groupId ?? `cpiwatch-dlq-reader-${randomBytes(6).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  let remaining: Map<number, bigint>;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = o.groupId ? await admin.fetchOffsets({ groupId, topics: [topic] }) : [undefined];
    remaining = new Map();
    for (const e of ends) {
      const low = BigInt(e.low);
      const high = BigInt(e.high);
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset;
      const from = c !== undefined && c !== '-1' ? BigInt(c) : low;
      if (from < high) remaining.set(e.partition, high);
    }
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return;

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1_000, allowAutoTopicCreation: false });
  const read = untilEnds(consumer, remaining);
  const timer = setTimeout(() => read.finish(new Error(`reading ${topic} did not reach its end in ${o.timeoutMs ?? 60_000} ms`)), o.timeoutMs ?? 60_000);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (read.stopped) return;
        const end = remaining.get(batch.partition);
        if (end === undefined) return;
        const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
        if (inRange.length > 0) {
          const taken = Math.min(inRange.length, (await o.onBatch(inRange.map((m) => deadLetterOf(batch.partition, m)))) ?? inRange.length);
          if (taken > 0) {
            // all taken: past the batch's end, transaction markers included
            const last = taken === inRange.length && inRange.length === batch.messages.length ? batch.lastOffset() : inRange[taken - 1]!.offset;
            resolveOffset(last);
            if (o.groupId && o.commit) await consumer.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
          }
          await heartbeat();
          if (taken < inRange.length) read.finish();
        }
      },
    });
    await read.done;
  } finally {
    clearTimeout(timer);
    read.finish();
    await consumer.disconnect().catch(() => undefined);
  }
}
