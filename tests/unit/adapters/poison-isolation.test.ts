// Poison isolation (src/adapters/kafka/event-consumer.ts): a batch that fails on its input (a coded,
// non-retriable error) is split until the one message behind it is found; that message is
// dead-lettered with the error's code, the others are processed once each, in order, and the
// committed offset reaches the batch's end. A retriable error is retried, never split. The consumer
// and the exactly-once protocol are the real ones; Kafka's transactions and the journal are modelled.
import type { EachBatchPayload, Kafka, TopicMessages } from 'kafkajs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventConsumer } from '../../../src/adapters/kafka/event-consumer.js';
import { ExactlyOnce, type JournalPort, type TransactionPort } from '../../../src/adapters/kafka/exactly-once.js';
import { CpiwatchError } from '../../../src/errors/cpiwatch-error.js';
import { createLogger } from '../../../src/ops/logger.js';
import { stepResult } from '../../../src/pipeline/step-result.js';
import type { RawMessage } from '../../../src/pipeline/types.js';
import type { JournalEntry } from '../../../src/store/redis/publish-journal.js';

const TOPICS = { offers: 'offers', decisions: 'decisions', deadLetters: 'dlq' };
const log = createLogger('silent');

class ModelTransactions implements TransactionPort {
  readonly output: TopicMessages[] = [];
  committed = 0;
  async commit(messages: TopicMessages[], offset: { offset: number }): Promise<void> {
    this.output.push(...messages);
    this.committed = offset.offset;
  }
  async reset(): Promise<void> {}
}

class ModelJournal implements JournalPort {
  private readonly entries = new Map<string, JournalEntry>();
  async record(source: string, entry: JournalEntry): Promise<void> { this.entries.set(source, entry); }
  async read(source: string): Promise<JournalEntry | null> { return this.entries.get(source) ?? null; }
  async clear(source: string): Promise<void> { this.entries.delete(source); }
}

/** The stage: every message is applied (recorded) and dead-lettered as a marker; `bad` ones throw. */
function stage(bad: Set<number>, outage: { failures: number }) {
  const applied: number[] = [];
  let attempts = 0;
  return {
    applied,
    get attempts() { return attempts; },
    pipeline: {
      processBatch: async (messages: RawMessage[], _source: string, options: { sink: { deadLetter(l: unknown[]): Promise<void> } }) => {
        attempts += 1;
        if (outage.failures > 0) {
          outage.failures -= 1;
          throw new CpiwatchError('STORE_UNAVAILABLE', ['ECONNREFUSED']);
        }
        const poison = messages.find((m) => bad.has(m.origin.offset));
        if (poison) throw new CpiwatchError('PROCESSING_FAILED', [`offset ${poison.origin.offset}`, 'the input tripped the engine']);
        applied.push(...messages.map((m) => m.origin.offset));
        // output, so each part commits in a transaction of its own
        await options.sink.deadLetter(messages.map((m) => ({ message: m, code: 'CPW200' as const, reason: 'marker' })));
        return stepResult({ consumed: messages.length, deadLetters: [], cpiIssues: [], task: null, published: [], skippedReplays: 0, filteredOut: [], topic: 'events' });
      },
    },
  };
}

function fakeKafka(): Kafka {
  const consumer = { events: { GROUP_JOIN: 'j', CRASH: 'c', FETCH: 'f', HEARTBEAT: 'h' }, on: () => undefined };
  return { consumer: () => consumer } as unknown as Kafka;
}

async function runBatch(size: number, bad: Set<number>, outage = { failures: 0 }) {
  const tx = new ModelTransactions();
  const s = stage(bad, outage);
  const exactlyOnce = new ExactlyOnce({ pipeline: s.pipeline, journal: new ModelJournal(), transactions: tx, topics: TOPICS, committedOffset: async () => tx.committed, log });
  const poisoned: { code: string; offset: number }[] = [];
  const errors: boolean[] = [];
  const consumer = new EventConsumer({
    kafka: fakeKafka(), groupId: 'g', topic: 'events', log, exactlyOnce, retry: { initialMs: 1, maxMs: 2 },
    onPoison: (err, at) => poisoned.push({ code: err.code, offset: at.offset }),
    onBatchError: (_err, at) => errors.push(at.retriable),
  });
  const resolved: string[] = [];
  const messages = Array.from({ length: size }, (_, i) => ({ offset: String(100 + i), value: Buffer.from(`m${i}`), headers: {}, key: null }));
  const payload = {
    batch: {
      topic: 'events', partition: 0, messages, highWatermark: String(100 + size),
      firstOffset: () => messages[0]!.offset, lastOffset: () => messages[messages.length - 1]!.offset,
    },
    resolveOffset: (o: string) => { resolved.push(o); },
    heartbeat: async () => undefined, isRunning: () => true, isStale: () => false,
    commitOffsetsIfNecessary: async () => undefined, pause: () => () => undefined,
  } as unknown as EachBatchPayload;
  await (consumer as unknown as { handleBatch(p: EachBatchPayload): Promise<void> }).handleBatch(payload);
  const letters = tx.output.filter((t) => t.topic === 'dlq').flatMap((t) => t.messages);
  const poisonLetters = letters.filter((m) => String(m.headers?.['cpiwatch-dlq-code']) !== 'CPW200');
  return { tx, s, poisoned, errors, resolved, poisonLetters };
}

describe('poison isolation', () => {
  it('dead-letters the one bad message of a batch with its code; every other message is applied once, in order', async () => {
    const r = await runBatch(100, new Set([137]));
    expect(r.poisoned).toEqual([{ code: 'CPW700', offset: 137 }]);
    expect(r.poisonLetters.map((m) => [String(m.headers?.['cpiwatch-dlq-code']), String(m.headers?.['cpiwatch-dlq-offset'])])).toEqual([['CPW700', '137']]);
    expect(r.s.applied).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i).filter((o) => o !== 137));
    expect(r.tx.committed).toBe(200);
    expect(r.resolved.at(-1)).toBe('199');
    // about log2(100) extra attempts, not one per message
    expect(r.s.attempts).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 2);
    expect(r.errors.every((retriable) => !retriable)).toBe(true);
  });

  it('retries a retriable failure without splitting or dead-lettering anything', async () => {
    const r = await runBatch(50, new Set(), { failures: 3 });
    expect(r.errors).toEqual([true, true, true]);
    expect(r.poisoned).toEqual([]);
    expect(r.s.applied).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(r.tx.committed).toBe(150);
  });

  it('for any batch and any bad messages: the bad ones are dead-lettered, the rest applied once in order, the offset at the end', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 64 }).chain((size) => fc.tuple(fc.constant(size), fc.uniqueArray(fc.integer({ min: 0, max: size - 1 }), { maxLength: size }))),
      async ([size, badIdx]) => {
        const bad = new Set(badIdx.map((i) => 100 + i));
        const r = await runBatch(size, bad);
        expect(r.poisoned.map((p) => p.offset).sort((a, b) => a - b)).toEqual([...bad].sort((a, b) => a - b));
        expect(r.s.applied).toEqual(Array.from({ length: size }, (_, i) => 100 + i).filter((o) => !bad.has(o)));
        expect(r.tx.committed).toBe(100 + size);
      },
    ), { numRuns: 60 });
  });
});
