// The exactly-once protocol (src/adapters/kafka/exactly-once.ts) when the commit call itself fails
// after the coordinator had prepared the commit, and the reset after it fails too: the transaction
// completes only when a new producer epoch settles it, so its offset is not visible before. The retry must not read the committed
// offset before that (it would carry the batch's decisions into a second transaction: every offer
// twice). Kafka and the journal are modelled; the ledger is the pipeline's set of published ids.
import type { TopicMessages } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/actions/decision.js';
import { ExactlyOnce, type BatchOutbox, type JournalPort, type TransactionPort } from '../../../src/adapters/kafka/exactly-once.js';
import { createLogger } from '../../../src/ops/logger.js';
import { stepResult } from '../../../src/pipeline/step-result.js';
import type { BatchResult, RawMessage } from '../../../src/pipeline/types.js';
import type { CompiledRule } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import type { JournalEntry } from '../../../src/store/redis/publish-journal.js';

const TOPICS = { offers: 'offers', decisions: 'decisions', deadLetters: 'dlq' };

/**
 * Kafka's side: committed output and offsets. A commit may fail after the coordinator prepared it;
 * it completes when the transactional id next gets a new epoch (InitProducerId: a reset, or the
 * connect of the next transaction after a reset that failed).
 */
class ModelTransactions implements TransactionPort {
  readonly output: TopicMessages[] = [];
  committed = 0;
  /** The next commit is prepared, then its call fails. */
  failAfterPrepare = false;
  /** The next commit fails before anything is prepared (the transaction is aborted). */
  failCommit = false;
  /** The next reset fails (the coordinator cannot be reached) and leaves the producer disconnected. */
  failReset = false;
  private connected = true;
  private prepared?: { messages: TopicMessages[]; offset: number };

  async commit(messages: TopicMessages[], offset: { offset: number }): Promise<void> {
    if (!this.connected) this.newEpoch();
    if (this.failCommit) {
      this.failCommit = false;
      throw new Error('Produce: NOT_ENOUGH_REPLICAS');
    }
    if (this.failAfterPrepare) {
      this.failAfterPrepare = false;
      this.prepared = { messages, offset: offset.offset };
      throw new Error('EndTxn: request timed out');
    }
    this.apply(messages, offset.offset);
  }

  async reset(): Promise<void> {
    this.connected = false;
    if (this.failReset) {
      this.failReset = false;
      throw new Error('InitProducerId: coordinator not available');
    }
    this.newEpoch();
  }

  private newEpoch(): void {
    if (this.prepared) this.apply(this.prepared.messages, this.prepared.offset);
    this.prepared = undefined;
    this.connected = true;
  }

  private apply(messages: TopicMessages[], offset: number): void {
    this.output.push(...messages);
    this.committed = offset;
  }
}

class ModelJournal implements JournalPort {
  private readonly entries = new Map<string, JournalEntry>();
  async record(source: string, entry: JournalEntry): Promise<void> { this.entries.set(source, JSON.parse(JSON.stringify(entry)) as JournalEntry); }
  async read(source: string): Promise<JournalEntry | null> { return this.entries.get(source) ?? null; }
  async clear(source: string): Promise<void> { this.entries.delete(source); }
}

/** The pipeline: one offer per message, published unless its ledger holds it as published (its state outlives a failed commit, as the owners' does). */
function offerPerMessage(rule: CompiledRule) {
  const ledger = new Set<string>();
  return {
      async processBatch(messages: RawMessage[], _source: string, { sink }: { sink: BatchOutbox }): Promise<BatchResult> {
        const published: Decision[] = [];
        for (const m of messages) {
          const offerId = String(m.value);
          if (ledger.has(offerId)) continue;
          published.push({ offerId, outcome: 'offered', rule, customerId: `c-${offerId}`, scopeTag: 'storeId=S', time: 0, episode: 0, value: 2, replay: false });
        }
        if (published.length > 0) {
          await sink.publish(published);
          for (const d of published) ledger.add(d.offerId);
        }
        return stepResult({ consumed: messages.length, deadLetters: [], cpiIssues: [], task: null, published, skippedReplays: 0, filteredOut: [], topic: 'ops' });
      },
    };
}

describe('exactly-once: a commit that fails after the coordinator prepared it', () => {
  let rule: CompiledRule;
  beforeAll(async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    rule = loaded.ruleSet.rules[0]!;
  });

  it('publishes each offer once: the retry reads the committed offset only after the new epoch settled the commit', async () => {
    const tx = new ModelTransactions();
    const journal = new ModelJournal();
    const pipeline = offerPerMessage(rule);
    const once = new ExactlyOnce({ pipeline, journal, transactions: tx, topics: TOPICS, committedOffset: async () => tx.committed, log: createLogger('silent') });
    const batch = (first: number, ids: string[]) => ({
      topic: 'ops', partition: 0, firstOffset: first, lastOffset: first + ids.length - 1,
      messages: ids.map((id, i) => ({ value: Buffer.from(id), origin: { topic: 'ops', partition: 0, offset: first + i } })),
    });

    once.assigned('ops', [0]);
    expect(await once.process(batch(0, ['a', 'b']))).toMatchObject({ committed: true });
    tx.failAfterPrepare = true;
    tx.failReset = true; // and the reset right after it fails too
    await expect(once.process(batch(2, ['c', 'd']))).rejects.toThrow('EndTxn');
    // the consumer retries the same batch: the commit it could not confirm has completed by now
    // ... and what that attempt did is reported now (the offers it published are counted once)
    const earlier = await once.process(batch(2, ['c', 'd']));
    expect(earlier).toMatchObject({ committed: true, earlier: true });
    expect(earlier.result?.published.map((d) => d.offerId)).toHaveLength(2);
    expect(await once.process(batch(4, ['e']))).toMatchObject({ committed: true });

    const offers = tx.output.filter((t) => t.topic === TOPICS.offers).flatMap((t) => t.messages.map((m) => (JSON.parse(String(m.value)) as { id: string }).id));
    expect(offers).toHaveLength(5);
    expect(new Set(offers).size).toBe(5);
    expect(tx.committed).toBe(5);
  });

  it('counts each published offer once: a failed commit\'s offers are reported with the retry that carries them, or with the retry that finds them committed', async () => {
    const tx = new ModelTransactions();
    const once = new ExactlyOnce({ pipeline: offerPerMessage(rule), journal: new ModelJournal(), transactions: tx, topics: TOPICS, committedOffset: async () => tx.committed, log: createLogger('silent') });
    const batch = (first: number, ids: string[]) => ({
      topic: 'ops', partition: 0, firstOffset: first, lastOffset: first + ids.length - 1,
      messages: ids.map((id, i) => ({ value: Buffer.from(id), origin: { topic: 'ops', partition: 0, offset: first + i } })),
    });
    const counted: string[] = [];
    const report = (out: Awaited<ReturnType<ExactlyOnce['process']>>) => counted.push(...(out.result?.published.map((d) => d.offerId) ?? []));
    once.assigned('ops', [0]);
    report(await once.process(batch(0, ['a', 'b'])));
    // aborted: the retry publishes nothing new (the ledger has them) but carries them into its transaction
    tx.failCommit = true;
    await expect(once.process(batch(2, ['c', 'd']))).rejects.toThrow('NOT_ENOUGH_REPLICAS');
    report(await once.process(batch(2, ['c', 'd'])));
    // committed although the call failed: the retry finds it committed
    tx.failAfterPrepare = true;
    await expect(once.process(batch(4, ['e', 'f']))).rejects.toThrow('EndTxn');
    report(await once.process(batch(4, ['e', 'f'])));
    report(await once.process(batch(6, ['g'])));
    const offers = tx.output.filter((t) => t.topic === TOPICS.offers).flatMap((t) => t.messages.map((m) => (JSON.parse(String(m.value)) as { id: string }).id));
    expect(offers.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(counted.sort()).toEqual(offers);
  });
});

describe('exactly-once: a rebalance right after a commit', () => {
  it('publishes each offer once when the partition comes back at an offset its last transaction had already committed', async () => {
    const loaded = await loadRuleSet(['rules/curbside.yaml']);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const tx = new ModelTransactions();
    // a journal whose writes take a while (a Redis round trip on a busy machine)
    class SlowJournal extends ModelJournal {
      override async clear(source: string): Promise<void> { await new Promise((r) => setTimeout(r, 20)); await super.clear(source); }
    }
    const once = new ExactlyOnce({ pipeline: offerPerMessage(loaded.ruleSet.rules[0]!), journal: new SlowJournal(), transactions: tx, topics: TOPICS, committedOffset: async () => tx.committed, log: createLogger('silent') });
    const batch = (first: number, ids: string[]) => ({
      topic: 'ops', partition: 0, firstOffset: first, lastOffset: first + ids.length - 1,
      messages: ids.map((id, i) => ({ value: Buffer.from(id), origin: { topic: 'ops', partition: 0, offset: first + i } })),
    });
    once.assigned('ops', [0]);
    expect(await once.process(batch(0, ['a', 'b']))).toMatchObject({ committed: true });
    // the group rebalances at once, and the consumer's fetch of the committed offset still sees the
    // offset before that transaction (its markers not written yet: kafkajs's OffsetFetch does not ask
    // for stable offsets), so the same batch comes again; the pipeline's own state knows it (no new
    // decision), and the journal of its decisions must be gone by then
    once.assigned('ops', [0]);
    await once.process(batch(0, ['a', 'b']));
    const offers = tx.output.filter((t) => t.topic === TOPICS.offers).flatMap((t) => t.messages.map((m) => (JSON.parse(String(m.value)) as { id: string }).id));
    expect(offers.sort()).toEqual(['a', 'b']);
  });
});
