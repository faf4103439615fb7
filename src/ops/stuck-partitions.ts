/**
 * The partitions whose batch is failing and being retried, with what fails them and since when: the
 * readiness check `partitions` shows them by name (a Redis outage, a Kafka refusal, a script error)
 * instead of blaming a dependency that answers.
 */
import { CpiwatchError } from '../errors/cpiwatch-error.js';

export interface StuckPartition {
  /** "topic:partition". */
  source: string;
  topic: string;
  partition: number;
  /** The error's code (CPWnnn), or its name when it has none. */
  code: string;
  message: string;
  /** When the partition's first failing attempt failed (ms since the epoch). */
  since: number;
  attempts: number;
  /** Offsets of the part of the batch that failed last. */
  offsets: string;
}

const MAX_MESSAGE = 300;

export class StuckPartitions {
  private readonly stuck = new Map<string, StuckPartition>();

  /** A failed attempt; returns the partition's entry. */
  failed(at: { topic: string; partition: number; firstOffset: string; lastOffset: string }, err: unknown, now = Date.now()): StuckPartition {
    const source = `${at.topic}:${at.partition}`;
    const e = err as Error;
    const code = err instanceof CpiwatchError ? err.code : e?.name ?? 'Error';
    const message = (e?.message ?? String(err)).slice(0, MAX_MESSAGE);
    const prev = this.stuck.get(source);
    const entry = { source, topic: at.topic, partition: at.partition, code, message, since: prev?.since ?? now, attempts: (prev?.attempts ?? 0) + 1, offsets: `${at.firstOffset}..${at.lastOffset}` };
    this.stuck.set(source, entry);
    return entry;
  }

  /** The partition went on; true if it was stuck. */
  recovered(at: { topic: string; partition: number }): boolean {
    return this.stuck.delete(`${at.topic}:${at.partition}`);
  }

  /** Partitions taken away from this process (rebalance, stop) are no longer its concern. */
  keepOnly(topic: string, partitions: readonly number[]): void {
    for (const s of [...this.stuck.values()]) if (s.topic === topic && !partitions.includes(s.partition)) this.stuck.delete(s.source);
  }

  get size(): number {
    return this.stuck.size;
  }

  /** One line for /readyz: every stuck partition, the oldest first. */
  describe(now = Date.now()): string {
    if (this.stuck.size === 0) return 'every partition is moving';
    return [...this.stuck.values()].sort((a, b) => a.since - b.since).map((s) =>
      `${s.source} stuck at offsets ${s.offsets} since ${new Date(s.since).toISOString()} (${Math.round((now - s.since) / 1000)}s, ${s.attempts} attempts): ${s.message.startsWith(s.code) ? s.message : `${s.code} ${s.message}`}`,
    ).join('; ');
  }
}
