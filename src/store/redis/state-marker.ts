/**
 * Detects that Redis lost cpiwatch's state (restarted without persistence, flushed, failed over to
 * an empty replica). A marker key is set when the state is first used; it goes with everything
 * else. At start, a missing marker while the owners' consumer group has committed offsets and no
 * owner partition has any state means the state is gone (with state present, an older deployment
 * without the marker: it is set then); while running, the marker disappearing means the same.
 * Processing on an empty state would decide offers on empty windows and forget who got what.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

export class StateMarker {
  constructor(private readonly redis: Redis | Cluster, private readonly keys: RedisKeys) {}

  /**
   * At start: null when the state is there (the marker is set if it was not), else the reason it is
   * lost. `ownersCommitted`: the owners' group has committed offsets; `partitions`: the owner
   * partitions' names, whose epochs show state written by a deployment that predates the marker.
   */
  async check(group: string, ownersCommitted: boolean, partitions: readonly string[]): Promise<string | null> {
    const key = this.keys.stateMarker();
    if ((await this.redis.exists(key)) === 1) return null;
    if (ownersCommitted) {
      const epochs = await Promise.all(partitions.map((p) => this.redis.exists(this.keys.partitionEpoch(p))));
      if (!epochs.some((n) => n === 1)) return `no state in Redis under "${this.keys.prefix}" although the consumer group ${group} has committed offsets (Redis restarted empty, was flushed, or the prefix changed)`;
    }
    await this.redis.set(key, JSON.stringify({ created: new Date().toISOString(), group }), 'NX');
    return null;
  }

  /** While running: whether the marker is still there. */
  async present(): Promise<boolean> {
    return (await this.redis.exists(this.keys.stateMarker())) === 1;
  }
}
