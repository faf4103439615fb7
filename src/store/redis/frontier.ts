/** The owner partitions' decision frontier in Redis: one hash, a field per partition (pipeline/decision-frontier.ts). */
import type { Cluster, Redis } from 'ioredis';
import { decodeFrontierEntry, encodeFrontierEntry, type FrontierEntry, type FrontierPort } from '../../pipeline/decision-frontier.js';
import type { RedisKeys } from './keys.js';
import { inStore } from './store-errors.js';

export class RedisFrontier implements FrontierPort {
  private readonly key: string;

  constructor(private readonly client: Redis | Cluster, keys: RedisKeys, opsTopic: string) {
    this.key = keys.frontier(opsTopic);
  }

  async read(): Promise<Map<number, FrontierEntry>> {
    const all = await inStore('frontier read', () => this.client.hgetall(this.key));
    return new Map(Object.entries(all).map(([p, v]) => [Number(p), decodeFrontierEntry(v)]));
  }

  async write(partition: number, entry: FrontierEntry): Promise<void> {
    await inStore('frontier write', () => this.client.hset(this.key, String(partition), encodeFrontierEntry(entry)));
  }
}
