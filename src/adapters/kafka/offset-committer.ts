/**
 * Plain offset commits of the batches that had no output (exactly-once mode), without holding up
 * the next batch. One commit request at a time: the offsets of batches that finish while one is in
 * flight (the newest per partition) go together in the next request, so the consumer's connection,
 * which the broker serves in order with its fetches, carries a few commits instead of one per
 * batch (that had doubled the event-to-offer latency).
 *
 * A partition's next transaction commits a newer offset: before it, `settled` drops the
 * partition's pending offset and waits for the commit in flight, so a plain commit never lands
 * after, and rewinds, a transaction's offset. `forget` drops everything pending (a rebalance: the
 * offsets of the previous generation must not be sent with the new one, when another member may
 * have committed past them). A failed commit is only reported: a later one covers it.
 */
export interface PartitionOffset {
  topic: string;
  partition: number;
  /** the next offset to read, as kafkajs takes it */
  offset: string;
}

export class OffsetCommitter {
  private readonly pending = new Map<string, PartitionOffset>();
  private inFlight?: Promise<void>;

  constructor(
    private readonly commit: (offsets: PartitionOffset[]) => Promise<void>,
    private readonly onError: (err: Error, offsets: PartitionOffset[]) => void,
  ) {}

  /** Commits `offset` (the next to read) of the partition soon; never waits. */
  add(topic: string, partition: number, offset: number): void {
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: String(offset) });
    if (!this.inFlight) void this.flush();
  }

  /** Sends what is pending (after the commit in flight); resolves when it has landed or failed. */
  flush(): Promise<void> {
    const offsets = [...this.pending.values()];
    this.pending.clear();
    if (offsets.length === 0) return this.inFlight ?? Promise.resolve();
    const next = (this.inFlight ?? Promise.resolve()).then(() => this.commit(offsets)).catch((err: Error) => this.onError(err, offsets));
    this.inFlight = next;
    void next.then(() => {
      if (this.inFlight !== next) return;
      this.inFlight = undefined;
      if (this.pending.size > 0) void this.flush();
    });
    return next;
  }

  /** Before a transaction commits the partition's offset: drops its pending one, waits for the commit in flight. */
  settled(topic: string, partition: number): Promise<void> {
    this.pending.delete(`${topic}:${partition}`);
    return this.inFlight ?? Promise.resolve();
  }

  /** Drops every pending offset (a new group generation). */
  forget(): void {
    this.pending.clear();
  }
}
