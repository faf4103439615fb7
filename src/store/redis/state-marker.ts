/**
 * Detects that Redis lost cpiwatch's state (restarted without persistence, flushed, failed over to
 * an empty replica). A marker key is set when the state is first used; it goes with everything
 * else. At start, a missing marker while the owners' consumer group has committed offsets and no
 * owner partition has any state means the state is gone (with state present, an older deployment
 * without the marker: it is set then); while running, the marker disappearing means the same.
 * Processing on an empty state would decide offers on empty windows and forget who got what.
 *
 * `cpiwatch rebuild` (rebuild/rebuild.ts) first turns the marker into a "rebuilding" one and writes
 * an ordinary one again as its last step: a processor that starts (or is running) while a rebuild
 * is under way, or after one was interrupted, finds the state not usable and stops processing.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';

/** The marker's value: when the state was first used, by which owners' group; `rebuilt` or `rebuilding` after `cpiwatch rebuild`. */
export interface MarkerValue {
  created: string;
  group: string;
  /** Set while `cpiwatch rebuild` runs (and left behind when it was interrupted). */
  rebuilding?: { from: string; started: string };
  /** The last rebuild that completed. */
  rebuilt?: { from: string; at: string };
}

function parse(raw: string): MarkerValue | null {
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null ? (v as MarkerValue) : null;
  } catch {
    return null;
  }
}

/** The reason a marker's value makes the state unusable, or null. */
export function unusableReason(value: MarkerValue | null): string | null {
  if (!value?.rebuilding) return null;
  return `a rebuild of the state (cpiwatch rebuild --from ${value.rebuilding.from}, started ${value.rebuilding.started}) is in progress or was interrupted: stop the processors and run cpiwatch rebuild again`;
}

export class StateMarker {
  constructor(private readonly redis: Redis | Cluster, private readonly keys: RedisKeys) {}

  /**
   * At start: null when the state is there (the marker is set if it was not), else the reason it is
   * lost. `ownersCommitted`: the owners' group has committed offsets; `partitions`: the owner
   * partitions' names, whose epochs show state written by a deployment that predates the marker.
   */
  async check(group: string, ownersCommitted: boolean, partitions: readonly string[]): Promise<string | null> {
    const key = this.keys.stateMarker();
    const raw = await this.redis.get(key);
    if (raw !== null) return unusableReason(parse(raw));
    if (ownersCommitted) {
      const epochs = await Promise.all(partitions.map((p) => this.redis.exists(this.keys.partitionEpoch(p))));
      if (!epochs.some((n) => n === 1)) return `no state in Redis under "${this.keys.prefix}" although the consumer group ${group} has committed offsets (Redis restarted empty, was flushed, or the prefix changed)`;
    }
    await this.redis.set(key, JSON.stringify({ created: new Date().toISOString(), group } satisfies MarkerValue), 'NX');
    return null;
  }

  /** While running: whether the marker is still there. */
  async present(): Promise<boolean> {
    return (await this.redis.exists(this.keys.stateMarker())) === 1;
  }

  /** While running: null while the state is usable, else why not (the marker went, or a rebuild began). */
  async watch(): Promise<string | null> {
    const raw = await this.redis.get(this.keys.stateMarker());
    if (raw === null) return 'the state marker disappeared from Redis (Redis restarted empty or was flushed)';
    return unusableReason(parse(raw));
  }

  /** The marker's value (null: none, or not JSON). */
  async read(): Promise<MarkerValue | null> {
    const raw = await this.redis.get(this.keys.stateMarker());
    return raw === null ? null : parse(raw);
  }

  /** `cpiwatch rebuild` begins: the state is unusable until finishRebuild. */
  async beginRebuild(group: string, from: string, now = new Date()): Promise<void> {
    const previous = await this.read();
    const value: MarkerValue = { created: previous?.created ?? now.toISOString(), group, rebuilding: { from, started: now.toISOString() } };
    await this.redis.set(this.keys.stateMarker(), JSON.stringify(value));
  }

  /** `cpiwatch rebuild` is done: the state is usable again (the processor starts ready). */
  async finishRebuild(group: string, from: string, now = new Date()): Promise<void> {
    const value: MarkerValue = { created: now.toISOString(), group, rebuilt: { from, at: now.toISOString() } };
    await this.redis.set(this.keys.stateMarker(), JSON.stringify(value));
  }
}
