/**
 * Every Redis key cpiwatch uses is built here (the Lua scripts receive these bases as KEYS and
 * append the documented suffixes; each suffix is listed below, nowhere else invents a key).
 *
 * Keys carry a hash tag so the keys of one group land in one Redis Cluster slot:
 *   {<prefix>:d}                     decisions base (one slot: decisions are rare)
 *     :offer:<offerId>               hash  outcome, reason, published, src (the source that decided it): the offer ledger
 *     :hist:<customer>               zset  "<offerId>|<ruleId>" by offer time: contact history
 *     :budget:<rule>:<tag>:<period>  string counter of offers in one budget period
 *     :email:<offerId>               string e-mail state of an offer (sent, no-address, gave-up:<error>): redis-store.ts markEmail
 *     :pub:<topic:partition>         string JSON {last, offers, messages}: decisions a batch marked
 *                                    published, with their Kafka messages, until its transaction commits
 *   {<prefix>:p:<partition>}         state of one owner partition, e.g. {cpiwatch:p:cpiwatch.ops:3}
 *                                    (store/redis/partition-state.ts; no TTLs: the durable copy)
 *     :epoch                         string fencing epoch, INCR by every claim of the partition
 *     :offsets                       hash  source (topic:partition) -> last applied offset
 *     :entities                      hash  entity tag -> its serialized state (opaque to Redis)
 *     :meta                          string opaque partition-level state (stream time etc.)
 *   {<prefix>:f:<ops topic>}         hash  owner partition -> JSON {n: stream time, c: customer -> earliest
 *                                    undecided candidate}: the decision frontier (pipeline/decision-frontier.ts)
 *   {<prefix>:m}                     string JSON {created, group}: the state marker, set once when the state
 *                                    is first used; gone while the owners have committed offsets means
 *                                    Redis lost the state (store/redis/state-marker.ts)
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (/[{}]/.test(prefix)) throw new Error('the Redis key prefix must not contain { or }');
  }

  decisions(): string {
    return `{${this.prefix}:d}`;
  }

  offer(offerId: string): string {
    return `${this.decisions()}:offer:${offerId}`;
  }

  email(offerId: string): string {
    return `${this.decisions()}:email:${offerId}`;
  }

  /** Publish journal of one source partition (store/redis/publish-journal.ts). */
  publishJournal(source: string): string {
    return `${this.decisions()}:pub:${source}`;
  }

  /** The state marker (store/redis/state-marker.ts). */
  stateMarker(): string {
    return `{${this.prefix}:m}`;
  }

  /** The decision frontier of the owner partitions of one ops topic. */
  frontier(opsTopic: string): string {
    if (/[{}]/.test(opsTopic)) throw new Error(`a topic name must not contain { or }: ${opsTopic}`);
    return `{${this.prefix}:f:${opsTopic}}`;
  }

  /** Base of one owner partition's keys, e.g. {cpiwatch:p:cpiwatch.ops:3}. */
  partition(partition: string): string {
    if (/[{}]/.test(partition)) throw new Error(`a partition name must not contain { or }: ${partition}`);
    return `{${this.prefix}:p:${partition}}`;
  }

  /** The fencing epoch of a partition (read again at the end of a claim). */
  partitionEpoch(partition: string): string {
    return `${this.partition(partition)}:epoch`;
  }

  /** The partition-level state of a partition (stream time, source marks; written by save-partition.lua). */
  partitionMeta(partition: string): string {
    return `${this.partition(partition)}:meta`;
  }

  /** The entities hash of a partition (read by HSCAN and HMGET, written by save-partition.lua). */
  partitionEntities(partition: string): string {
    return `${this.partition(partition)}:entities`;
  }

  /** Pattern matching the entities hash of every partition of this prefix (SCAN; explain). */
  partitionEntitiesPattern(): string {
    return `{${this.prefix}:p:*}:entities`;
  }

  /** Pattern matching every key of this prefix (for an ACL rule such as ~{cpiwatch:*). */
  pattern(): string {
    return `{${this.prefix}:*`;
  }
}
