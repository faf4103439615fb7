/**
 * The publish journal of one source partition: the decisions a batch marked "published" in the offer
 * ledger, with their Kafka messages, until the batch's Kafka transaction has committed. The ledger's
 * mark is set before the commit (a mark set after it could be lost to a crash, and a later batch would
 * then publish the offer again), so a crash in between leaves decisions marked published that no
 * reader ever saw: the next batch of the partition finds them here and publishes them in its own
 * transaction (adapters/kafka/exactly-once.ts). One key per partition, overwritten by each batch that
 * publishes; cleared after the commit.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { inStore } from './store-errors.js';

const JOURNAL_TTL_MS = 7 * 86_400_000;

/** A Kafka message as journalled (decision and offer messages are all text). */
export interface JournalMessage { key: string | null; value: string; headers: Record<string, string> }

export interface JournalEntry {
  /** Last source offset of the batch that wrote the entry. */
  last: number;
  offerIds: string[];
  messages: { topic: string; messages: JournalMessage[] }[];
}

export class PublishJournal {
  constructor(private readonly client: Redis | Cluster, private readonly keys: RedisKeys) {}

  async record(source: string, entry: JournalEntry): Promise<void> {
    await inStore('journal record', () => this.client.set(this.keys.publishJournal(source), JSON.stringify(entry), 'PX', JOURNAL_TTL_MS));
  }

  async read(source: string): Promise<JournalEntry | null> {
    const raw = await inStore('journal read', () => this.client.get(this.keys.publishJournal(source)));
    return raw === null ? null : (JSON.parse(raw) as JournalEntry);
  }

  async clear(source: string): Promise<void> {
    await inStore('journal clear', () => this.client.del(this.keys.publishJournal(source)));
  }
}
