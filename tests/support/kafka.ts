// Kafka helpers for integration tests, on the real broker from services().
// first: read committed as the Java consumer does (src/adapters/kafka/read-committed.ts)
import '../../src/adapters/kafka/read-committed.js';
import kafkajs, { type Consumer, type IHeaders, type Kafka, type Message } from 'kafkajs';
import { services } from './services.js';
import { uniqueId } from './names.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** A kafkajs client on the test broker; silent unless TEST_KAFKA_LOG=info or debug (kafkajs logs even retried errors at ERROR). */
export function kafkaClient(clientId = uniqueId('test-client')): Kafka {
  const level = process.env.TEST_KAFKA_LOG?.toUpperCase();
  return new kafkajs.Kafka({
    clientId,
    brokers: services().kafkaBrokers,
    logLevel: level === 'DEBUG' ? kafkajs.logLevel.DEBUG : level === 'INFO' ? kafkajs.logLevel.INFO : kafkajs.logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

/** Create a topic and wait until its partitions have leaders. Returns the name. */
export async function createTopic(
  topic: string,
  { partitions = 1, config = {} }: { partitions?: number; config?: Record<string, string> } = {},
): Promise<string> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: true,
    }).catch(async (err: { type?: string }) => {
      // KRaft: right after the creation the metadata may not name the topic yet, and kafkajs' wait
      // for leaders gives up on UNKNOWN_TOPIC_OR_PARTITION instead of retrying: wait here instead
      if (err?.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        const parts = meta?.topics[0]?.partitions ?? [];
        if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return true;
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    return topic;
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(...topics: string[]): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export type ProduceInput =
  | string
  | {
      key?: string | Buffer | null;
      /** objects are sent as JSON */
      value: string | Buffer | null | Record<string, unknown> | unknown[];
      headers?: IHeaders;
      partition?: number;
      timestamp?: string;
    };

function toMessage(m: ProduceInput): Message {
  if (typeof m === 'string') return { value: m };
  const value = m.value === null || typeof m.value === 'string' || Buffer.isBuffer(m.value) ? m.value : JSON.stringify(m.value);
  const out: Message = { value };
  if (m.key !== undefined) out.key = m.key;
  if (m.headers !== undefined) out.headers = m.headers;
  if (m.partition !== undefined) out.partition = m.partition;
  if (m.timestamp !== undefined) out.timestamp = m.timestamp;
  return out;
}

/** Produce messages (acks -1, idempotent producer) and wait for the broker's acknowledgement. */
export async function produce(topic: string, messages: ProduceInput[]): Promise<void> {
  const producer = kafkaClient().producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: messages.map(toMessage) });
  } finally {
    await producer.disconnect();
  }
}

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  timestamp: string;
  /** value parsed as JSON (undefined when it is not JSON) */
  json: unknown;
}

function parseJson(s: string | null): unknown {
  if (s === null) return undefined;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Read a topic from the beginning until at least `count` messages arrived (then `settleMs` more,
 * to catch unexpected extra ones), or fail after `timeoutMs`. Nothing is committed: kafkajs
 * 2.2.4 has no group-less (assign) consumer, so this uses a throw-away consumer group with a
 * unique id that never commits offsets and leaves no trace for the code under test.
 * Transactional data is read committed unless `readUncommitted` is set.
 */
export async function waitForMessages(
  topic: string,
  count: number,
  { timeoutMs = 30_000, settleMs = 0, readUncommitted = false }: { timeoutMs?: number; settleMs?: number; readUncommitted?: boolean } = {},
): Promise<ReadMessage[]> {
  const consumer: Consumer = kafkaClient().consumer({
    groupId: uniqueId('test-reader'),
    readUncommitted,
    maxWaitTimeInMs: 100,
    heartbeatInterval: 500,
    sessionTimeout: 10_000,
    allowAutoTopicCreation: false,
  });
  const got: ReadMessage[] = [];
  let reached: (() => void) | undefined;
  const reachedP = new Promise<void>((r) => (reached = r));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        const value = message.value === null ? null : message.value.toString('utf8');
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
        }
        got.push({
          topic: t,
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString('utf8'),
          value,
          headers,
          timestamp: message.timestamp,
          json: parseJson(value),
        });
        if (got.length >= count) reached?.();
      },
    });
    if (count <= 0) reached?.();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`waitForMessages(${topic}): got ${got.length} of ${count} messages in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([reachedP, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    return [...got];
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
