/**
 * Owner partitions' durable state, in memory: the same semantics as store/redis/partition-state.ts
 * (claim-partition.lua, save-partition.lua), in process, for unit tests of the owner task. One
 * instance stands for one Redis: every "process" of a test shares it, so a second claim fences the
 * first exactly as it does there. Both pass tests/contract/partition-state.contract.ts.
 *
 * Snapshots and reads are copies: an owner mutating what it loaded changes nothing here until it
 * saves, as with Redis.
 */
import {
  checkWrite, PartitionFencedError, type PartitionSnapshot, type PartitionStatePort, type PartitionWrite,
} from '../redis/partition-state.js';

interface Stored {
  epoch: number;
  offsets: Map<string, number>;
  entities: Map<string, string>;
  meta: string | null;
}

export class MemoryPartitionState implements PartitionStatePort {
  private readonly partitions = new Map<string, Stored>();

  async claim(partition: string): Promise<PartitionSnapshot> {
    const p = this.stored(partition);
    p.epoch += 1;
    return { epoch: p.epoch, offsets: Object.fromEntries(p.offsets), entities: new Map(p.entities), meta: p.meta };
  }

  async save(partition: string, epoch: number, write: PartitionWrite): Promise<void> {
    checkWrite(partition, write);
    const p = this.stored(partition);
    if (p.epoch === 0 || epoch !== p.epoch) throw new PartitionFencedError(partition, epoch, p.epoch);
    for (const [tag, state] of write.entities) {
      if (state === null) p.entities.delete(tag);
      else p.entities.set(tag, state);
    }
    for (const [source, offset] of Object.entries(write.offsets)) p.offsets.set(source, offset);
    if (write.meta !== undefined) p.meta = write.meta;
  }

  async readEntities(partition: string, tags: string[]): Promise<(string | null)[]> {
    const entities = this.partitions.get(partition)?.entities;
    return tags.map((t) => entities?.get(t) ?? null);
  }

  private stored(partition: string): Stored {
    let p = this.partitions.get(partition);
    if (!p) this.partitions.set(partition, (p = { epoch: 0, offsets: new Map(), entities: new Map(), meta: null }));
    return p;
  }
}
