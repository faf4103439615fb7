/**
 * Events from a Kafka topic between two bounds, for backtests. A bound is an offset (digits, applied
 * to every partition) or a time (RFC 3339: the first message at or after it, by Kafka timestamp).
 * `from` is inclusive, `to` exclusive; defaults: the start of each partition, and its end when the
 * backtest starts. Reads with a throw-away consumer group that never commits (kafkajs 2 has no
 * group-less consumer). Each batch holds messages of one partition, as in production; partitions
 * are read one batch at a time, in the order Kafka delivers them.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { parseRfc3339 } from '../events/rfc3339.js';
import type { RawMessage } from '../pipeline/types.js';
import type { EventBatches } from './ndjson-source.js';

export type RangeBound = { offset: number } | { time: number };

/** "1234" -> offset; an RFC 3339 time -> time; anything else -> an error message. */
export function parseBound(text: string): RangeBound | string {
  if (/^\d+$/.test(text)) return { offset: Number(text) };
  const t = parseRfc3339(text);
  return typeof t === 'number' ? { time: t } : `expected an offset (digits) or an RFC 3339 time, found "${text}": ${t}`;
}

export interface PartitionRange { partition: number; start: number; end: number }

export async function resolveRanges(kafka: Kafka, topic: string, from?: RangeBound, to?: RangeBound): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const marks = await admin.fetchTopicOffsets(topic);
    const at = async (bound: RangeBound | undefined, fallback: 'low' | 'high'): Promise<Map<number, number>> => {
      const out = new Map<number, number>();
      if (bound === undefined || 'offset' in bound) {
        for (const m of marks) out.set(m.partition, bound === undefined ? Number(m[fallback]) : bound.offset);
        return out;
      }
      for (const r of await admin.fetchTopicOffsetsByTimestamp(topic, bound.time)) {
        const high = Number(marks.find((m) => m.partition === r.partition)?.high ?? 0);
        out.set(r.partition, Number(r.offset) < 0 ? high : Number(r.offset));
      }
      return out;
    };
    const starts = await at(from, 'low');
    const ends = await at(to, 'high');
    return marks.map((m) => {
      const low = Number(m.low);
      const high = Number(m.high);
      const start = Math.min(high, Math.max(low, starts.get(m.partition) ?? low));
      const end = Math.min(high, Math.max(start, ends.get(m.partition) ?? high));
      return { partition: m.partition, start, end };
    }).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

export async function kafkaRangeSource(kafka: Kafka, topic: string, ranges: PartitionRange[], options: { idleMs?: number } = {}): Promise<EventBatches> {
  const total = ranges.reduce((n, r) => n + (r.end - r.start), 0);
  return {
    total,
    async *batches(onProgress) {
      const pending = new Map(ranges.filter((r) => r.end > r.start).map((r) => [r.partition, r]));
      if (pending.size === 0) return;
      const queue: RawMessage[][] = [];
      let wake: (() => void) | undefined;
      let drained: (() => void) | undefined;
      let failure: unknown;
      let done = 0;
      const notify = () => { wake?.(); wake = undefined; };
      const consumer = kafka.consumer({ groupId: `cpiwatch-backtest-${randomUUID()}`, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
      consumer.on(consumer.events.CRASH, (e) => { failure = e.payload.error; notify(); });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = pending.get(batch.partition);
            if (!range) return;
            const messages: RawMessage[] = [];
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset < range.start || offset >= range.end) continue;
              messages.push({ value: m.value, headers: m.headers as RawMessage['headers'], key: m.key, origin: { topic, partition: batch.partition, offset } });
            }
            const last = Number(batch.lastOffset());
            if (last + 1 >= range.end || Number(batch.highWatermark) <= last + 1 && Number(batch.highWatermark) >= range.end) pending.delete(batch.partition);
            if (messages.length > 0) queue.push(messages);
            notify();
            // back-pressure: wait until the engine has taken this batch
            if (queue.length > 2) await new Promise<void>((r) => { drained = r; });
          },
        });
        for (const r of pending.values()) consumer.seek({ topic, partition: r.partition, offset: String(r.start) });
        const idleMs = options.idleMs ?? 15_000;
        for (;;) {
          if (failure) throw failure;
          const next = queue.shift();
          if (next) {
            drained?.(); drained = undefined;
            done += next.length;
            onProgress?.(done);
            yield next;
            continue;
          }
          if (pending.size === 0) break;
          const woke = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), idleMs);
            wake = () => { clearTimeout(timer); resolve(true); };
          });
          if (!woke) throw new Error(`no message from partitions ${[...pending.keys()].join(', ')} of ${topic} for ${idleMs} ms before the end of the range`);
        }
      } finally {
        drained?.();
        await consumer.disconnect().catch(() => undefined);
      }
    },
  };
}
